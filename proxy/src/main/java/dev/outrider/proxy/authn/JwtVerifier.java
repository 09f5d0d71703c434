package dev.outrider.proxy.authn;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.BadJWTException;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import dev.outrider.core.policy.RequestAuthentication;
import dev.outrider.core.policy.RequestAuthentication.JwtRule;

import java.text.ParseException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * Verifies a JWT against one compiled set of RequestAuthentication rules: a pure function of the token,
 * the clock value given and the keys currently published. Called on an event loop; never blocks: keys come
 * from inline {@code jwks} (parsed at compile time) or from {@link JwksCache}'s last published set.
 *
 * <p>Steps, each a refusal with a reason that carries no token content:
 * <ol>
 *   <li>length bound, then {@link SignedJWT#parse} (an unsecured {@code alg: none} token is not a JWS and
 *       fails here);</li>
 *   <li>{@code alg} must be in the allowed set (default RS256, ES256, EdDSA). HMAC ({@code HS*}) is refused
 *       even if configured, and no HMAC verifier exists anywhere: a token "signed" with a public key as an
 *       HMAC secret cannot pass;</li>
 *   <li>any {@code crit} header is refused (we understand no extension, RFC 7515 §4.1.11);</li>
 *   <li>the token's {@code iss} picks the rules; an unknown issuer is refused;</li>
 *   <li>keys: only the rule's configured JWKS. Header parameters that name or carry keys ({@code jwk},
 *       {@code jku}, {@code x5u}, {@code x5c}) are <b>ignored, never followed</b>: such a token is verified
 *       against the configured JWKS like any other (Envoy does the same). With a {@code kid}, only keys with
 *       that {@code kid}; without, at most {@value #MAX_KEYS_WITHOUT_KID} keys of the matching type;</li>
 *   <li>claims after the signature: {@code exp} required, {@code exp}/{@code nbf} with the clock skew
 *       (Nimbus {@link DefaultJWTClaimsVerifier}), then {@code aud} when the rule lists audiences.</li>
 * </ol>
 *
 * <p>An unknown {@code kid} on a fetched JWKS asks the cache for a (rate-limited) refetch and <b>fails
 * now</b> (401); the next request with that {@code kid} succeeds once the refetch has published.
 */
public final class JwtVerifier implements TokenVerifier {
    static final int MAX_KEYS_WITHOUT_KID = 4;
    static final int DEFAULT_MAX_TOKEN_LENGTH = 16 * 1024;

    /**
     * @param allowedAlgorithms accepted {@code alg} values; HMAC algorithms are refused at construction
     * @param clockSkew         tolerance on {@code exp} and {@code nbf}
     * @param maxTokenLength    longer tokens are refused before parsing
     */
    public record Options(Set<JWSAlgorithm> allowedAlgorithms, Duration clockSkew, int maxTokenLength) {
        public static final Set<JWSAlgorithm> DEFAULT_ALGORITHMS =
                Set.of(JWSAlgorithm.RS256, JWSAlgorithm.ES256, JWSAlgorithm.EdDSA);
        public static final Duration DEFAULT_CLOCK_SKEW = Duration.ofSeconds(60);

        public Options {
            allowedAlgorithms = Set.copyOf(requireNonNull(allowedAlgorithms, "allowedAlgorithms"));
            requireNonNull(clockSkew, "clockSkew");
            for (JWSAlgorithm alg : allowedAlgorithms) {
                if (JWSAlgorithm.Family.HMAC_SHA.contains(alg)) {
                    throw new IllegalArgumentException("allowedAlgorithms: HMAC is not accepted (" + alg + ")");
                }
                if (!JWSAlgorithm.Family.SIGNATURE.contains(alg) && !JWSAlgorithm.Ed25519.equals(alg)) {
                    throw new IllegalArgumentException("allowedAlgorithms: unsupported algorithm " + alg);
                }
            }
            if (allowedAlgorithms.isEmpty()) {
                throw new IllegalArgumentException("allowedAlgorithms: empty");
            }
            if (clockSkew.isNegative() || clockSkew.compareTo(Duration.ofMinutes(10)) > 0) {
                throw new IllegalArgumentException("clockSkew: must be 0..10m, was " + clockSkew);
            }
            if (maxTokenLength < 64) {
                throw new IllegalArgumentException("maxTokenLength: too small: " + maxTokenLength);
            }
        }

        /** RS256, ES256, EdDSA; 60 s skew; 16 KiB tokens. */
        public static Options defaults() {
            return new Options(DEFAULT_ALGORITHMS, DEFAULT_CLOCK_SKEW, DEFAULT_MAX_TOKEN_LENGTH);
        }
    }

    /** The outcome of {@link #verify}. */
    public sealed interface Result {
        /** A verified token; {@code claims} is deeply immutable (dates as epoch seconds). */
        record Valid(String issuer, String subject, String requestPrincipal, List<String> audiences,
                     Map<String, Object> claims, long expiresAt) implements Result {
        }

        /** Refused: 401. {@code reason} is fixed text, safe to log. */
        record Invalid(String reason) implements Result {
        }

        /** The issuer's keys have not been fetched yet: refuse (401, as Istio does); reason says so. */
        record KeysUnavailable(String reason) implements Result {
        }
    }

    /**
     * A refused token's issuer ({@code iss}) and key id ({@code kid}), read without verification for the
     * security event stream: what a SIEM may see of a token, never the token or its other claims. Each at most
     * {@value #MAX_HINT_LENGTH} characters; null when absent or the token does not parse.
     */
    public record Hints(String issuer, String keyId) {
        static final Hints NONE = new Hints(null, null);
    }

    private static final int MAX_HINT_LENGTH = 256;
    /** Longer tokens are not parsed for hints (the verifier refuses them unparsed too, by default). */
    private static final int MAX_HINT_TOKEN_LENGTH = 16 * 1024;

    /** {@link Hints} of {@code token}; refusal path only (it parses the token again). */
    public static Hints hints(CharSequence token) {
        if (token == null || token.length() > MAX_HINT_TOKEN_LENGTH) {
            return Hints.NONE;
        }
        try {
            SignedJWT jwt = SignedJWT.parse(token.toString());
            return new Hints(clip(jwt.getJWTClaimsSet().getIssuer()), clip(jwt.getHeader().getKeyID()));
        } catch (ParseException | RuntimeException e) {
            return Hints.NONE;
        }
    }

    private static String clip(String s) {
        return s == null || s.length() <= MAX_HINT_LENGTH ? s : s.substring(0, MAX_HINT_LENGTH);
    }

    /** One rule: its issuer's keys (inline, or a URI in the cache) and its audiences. */
    private static final class CompiledRule {
        final Set<String> audiences; // empty = any
        final VerificationKeys inline; // null when keys come from jwksUri
        final String jwksUri;
        // Memo of the last JWKSet the cache published and the verifiers built from it. Written by whichever
        // event loop first sees a new set; the pair is immutable and read through one volatile, so a racing
        // reader sees an older or newer complete pair, and at worst builds the same verifiers twice.
        volatile KeysMemo memo;

        CompiledRule(Set<String> audiences, VerificationKeys inline, String jwksUri) {
            this.audiences = audiences;
            this.inline = inline;
            this.jwksUri = jwksUri;
        }
    }

    private record KeysMemo(JWKSet source, VerificationKeys keys) {
    }

    private final Map<String, List<CompiledRule>> rulesByIssuer;
    private final JwksCache jwksCache;
    private final Options options;
    private final int skewSeconds;

    private JwtVerifier(Map<String, List<CompiledRule>> rulesByIssuer, JwksCache jwksCache, Options options) {
        this.rulesByIssuer = rulesByIssuer;
        this.jwksCache = jwksCache;
        this.options = options;
        this.skewSeconds = (int) options.clockSkew().toSeconds();
    }

    /**
     * Compiles the rules of {@code policies}, once per snapshot. Bad config fails here with the field named.
     * Inline {@code jwks} wins over {@code jwksUri} when both are set (Istio's rule); every {@code jwksUri}
     * is registered with {@code jwksCache} so its first fetch starts now, off the event loop.
     *
     * @param jwksCache may be null when every rule has inline {@code jwks}
     */
    public static JwtVerifier compile(List<RequestAuthentication> policies, JwksCache jwksCache, Options options) {
        requireNonNull(policies, "policies");
        requireNonNull(options, "options");
        Map<String, List<CompiledRule>> byIssuer = new HashMap<>();
        for (RequestAuthentication policy : policies) {
            List<JwtRule> rules = policy.jwtRules();
            for (int i = 0; i < rules.size(); i++) {
                JwtRule rule = rules.get(i);
                String field = policy.metadata().id() + ".jwtRules[" + i + "]";
                if (rule.issuer().isBlank()) {
                    throw new IllegalArgumentException(field + ".issuer: empty");
                }
                CompiledRule compiled;
                if (rule.jwks() != null && !rule.jwks().isBlank()) {
                    JWKSet set;
                    try {
                        set = JWKSet.parse(rule.jwks());
                    } catch (ParseException e) {
                        throw new IllegalArgumentException(field + ".jwks: not a JWK Set: " + e.getMessage(), e);
                    }
                    VerificationKeys keys = VerificationKeys.of(set);
                    if (keys.size() == 0) {
                        throw new IllegalArgumentException(field + ".jwks: no usable signature key");
                    }
                    compiled = new CompiledRule(Set.copyOf(rule.audiences()), keys, null);
                } else if (rule.jwksUri() != null && !rule.jwksUri().isBlank()) {
                    if (jwksCache == null) {
                        throw new IllegalArgumentException(field + ".jwksUri: no JWKS cache configured");
                    }
                    try {
                        jwksCache.register(rule.jwksUri());
                    } catch (IllegalArgumentException e) {
                        throw new IllegalArgumentException(field + ".jwksUri: " + e.getMessage(), e);
                    }
                    compiled = new CompiledRule(Set.copyOf(rule.audiences()), null, rule.jwksUri());
                } else {
                    throw new IllegalArgumentException(field + ": jwksUri or jwks is required");
                }
                byIssuer.computeIfAbsent(rule.issuer(), k -> new ArrayList<>()).add(compiled);
            }
        }
        Map<String, List<CompiledRule>> frozen = new HashMap<>();
        byIssuer.forEach((issuer, list) -> frozen.put(issuer, List.copyOf(list)));
        return new JwtVerifier(Map.copyOf(frozen), jwksCache, options);
    }

    @Override
    public Result verify(CharSequence token, long nowEpochSeconds) {
        if (token == null || token.isEmpty()) {
            return Refusals.EMPTY;
        }
        if (token.length() > options.maxTokenLength()) {
            return Refusals.TOO_LONG;
        }
        SignedJWT jwt;
        JWTClaimsSet claims;
        try {
            jwt = SignedJWT.parse(token.toString());
            claims = jwt.getJWTClaimsSet();
        } catch (ParseException e) {
            return Refusals.MALFORMED; // includes alg "none" (not a JWS) and truncated tokens
        }
        JWSHeader header = jwt.getHeader();
        JWSAlgorithm alg = header.getAlgorithm();
        if (!options.allowedAlgorithms().contains(alg)) {
            return Refusals.ALG_NOT_ALLOWED;
        }
        if (header.getCriticalParams() != null && !header.getCriticalParams().isEmpty()) {
            return Refusals.CRIT;
        }
        String issuer = claims.getIssuer();
        List<CompiledRule> rules = issuer == null ? null : rulesByIssuer.get(issuer);
        if (rules == null) {
            return Refusals.UNKNOWN_ISSUER;
        }
        Result first = null;
        for (int i = 0; i < rules.size(); i++) {
            Result r = verifyWithRule(rules.get(i), jwt, header, alg, claims, nowEpochSeconds);
            if (r instanceof Result.Valid) {
                return r;
            }
            if (first == null) {
                first = r;
            }
        }
        return first;
    }

    private Result verifyWithRule(CompiledRule rule, SignedJWT jwt, JWSHeader header, JWSAlgorithm alg,
                                  JWTClaimsSet claims, long now) {
        VerificationKeys keys = rule.inline != null ? rule.inline : fetchedKeys(rule);
        if (keys == null) {
            return Refusals.KEYS_NOT_FETCHED;
        }
        String kid = header.getKeyID();
        int tried = 0;
        boolean signatureOk = false;
        for (int i = 0; i < keys.size() && !signatureOk; i++) {
            VerificationKeys.Key key = keys.get(i);
            if (!key.fits(alg) || (kid != null && !kid.equals(key.kid()))) {
                continue;
            }
            if (kid == null && tried == MAX_KEYS_WITHOUT_KID) {
                break;
            }
            tried++;
            try {
                signatureOk = jwt.verify(key.verifier());
            } catch (JOSEException | IllegalStateException e) {
                signatureOk = false;
            }
        }
        if (tried == 0) {
            if (rule.jwksUri != null && kid != null) {
                jwksCache.refetchForUnknownKid(rule.jwksUri); // rate-limited, async; this request fails now
                return Refusals.KID_NOT_FOUND;
            }
            return kid != null ? Refusals.KID_NOT_FOUND : Refusals.NO_KEY_FOR_ALG;
        }
        if (!signatureOk) {
            return Refusals.BAD_SIGNATURE;
        }
        return checkClaims(rule, claims, now);
    }

    private VerificationKeys fetchedKeys(CompiledRule rule) {
        JWKSet current = jwksCache.keys(rule.jwksUri);
        if (current == null) {
            return null;
        }
        KeysMemo memo = rule.memo;
        if (memo == null || memo.source() != current) {
            memo = new KeysMemo(current, VerificationKeys.of(current));
            rule.memo = memo;
        }
        return memo.keys();
    }

    private Result checkClaims(CompiledRule rule, JWTClaimsSet claims, long now) {
        Date exp = claims.getExpirationTime();
        if (exp == null) {
            return Refusals.NO_EXP;
        }
        try {
            TimeCheck check = new TimeCheck(now);
            check.setMaxClockSkew(skewSeconds);
            check.verify(claims, null);
        } catch (BadJWTException e) {
            return Refusals.fromTimeCheck(e);
        }
        List<String> audiences = claims.getAudience();
        if (!rule.audiences.isEmpty()) {
            boolean match = false;
            for (int i = 0; i < audiences.size() && !match; i++) {
                match = rule.audiences.contains(audiences.get(i));
            }
            if (!match) {
                return Refusals.AUDIENCE;
            }
        }
        String issuer = claims.getIssuer();
        String subject = claims.getSubject();
        return new Result.Valid(issuer, subject, issuer + "/" + (subject == null ? "" : subject),
                List.copyOf(audiences), Claims.freeze(claims), exp.getTime() / 1000);
    }

    /** Nimbus's exp/nbf check (RFC 7519 §4.1.4-4.1.5, with skew) against the caller's clock, not the wall. */
    private static final class TimeCheck extends DefaultJWTClaimsVerifier<com.nimbusds.jose.proc.SecurityContext> {
        private final long nowEpochSeconds;

        TimeCheck(long nowEpochSeconds) {
            super(null, null, null, null);
            this.nowEpochSeconds = nowEpochSeconds;
        }

        @Override
        protected Date currentTime() {
            return new Date(nowEpochSeconds * 1000);
        }
    }

    /** Deep copy of the claims as immutable JSON values: no caller can change what another reads. */
    static final class Claims {
        private Claims() {
        }

        static Map<String, Object> freeze(JWTClaimsSet claims) {
            return freezeMap(claims.getClaims());
        }

        private static Map<String, Object> freezeMap(Map<?, ?> map) {
            Map<String, Object> copy = new LinkedHashMap<>(map.size() * 2);
            map.forEach((k, v) -> copy.put(String.valueOf(k), freezeValue(v)));
            return java.util.Collections.unmodifiableMap(copy);
        }

        private static Object freezeValue(Object v) {
            if (v instanceof Date d) {
                return d.getTime() / 1000;
            }
            if (v instanceof Map<?, ?> m) {
                return freezeMap(m);
            }
            if (v instanceof List<?> l) {
                List<Object> copy = new ArrayList<>(l.size());
                for (Object o : l) {
                    copy.add(freezeValue(o));
                }
                return java.util.Collections.unmodifiableList(copy);
            }
            return v; // String, Number, Boolean, null: immutable
        }
    }

    /** Refusals built once; reasons are fixed text (no token content), safe for logs and metrics. */
    static final class Refusals {
        static final Result EMPTY = new Result.Invalid("empty token");
        static final Result TOO_LONG = new Result.Invalid("token too long");
        static final Result MALFORMED = new Result.Invalid("malformed token (not a signed JWT)");
        static final Result ALG_NOT_ALLOWED = new Result.Invalid("algorithm not allowed");
        static final Result CRIT = new Result.Invalid("unsupported critical header parameter");
        static final Result UNKNOWN_ISSUER = new Result.Invalid("unknown issuer");
        static final Result KEYS_NOT_FETCHED =
                new Result.KeysUnavailable("issuer keys not fetched yet (JWKS unavailable)");
        static final Result KID_NOT_FOUND = new Result.Invalid("no key with the token's kid");
        static final Result NO_KEY_FOR_ALG = new Result.Invalid("no key for the token's algorithm");
        static final Result BAD_SIGNATURE = new Result.Invalid("signature verification failed");
        static final Result NO_EXP = new Result.Invalid("missing exp claim");
        static final Result EXPIRED = new Result.Invalid("token expired");
        static final Result NOT_YET_VALID = new Result.Invalid("token not yet valid (nbf)");
        static final Result CLAIMS = new Result.Invalid("claims rejected");
        static final Result AUDIENCE = new Result.Invalid("audience not allowed");

        private Refusals() {
        }

        static Result fromTimeCheck(BadJWTException e) {
            String m = String.valueOf(e.getMessage());
            if (m.startsWith("Expired")) {
                return EXPIRED;
            }
            if (m.contains("before use time")) {
                return NOT_YET_VALID;
            }
            return CLAIMS;
        }
    }
}
