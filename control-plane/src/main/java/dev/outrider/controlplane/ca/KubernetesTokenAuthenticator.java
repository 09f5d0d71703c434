package dev.outrider.controlplane.ca;

import com.nimbusds.jose.Header;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObject;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.outrider.core.model.DnsLabel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * Verifies a Kubernetes projected service-account token (a JWT the cluster's service-account issuer signed for
 * a pod) against the issuer's public keys, and turns it into the identity
 * {@code spiffe://<td>/ns/<kubernetes.io.namespace>/sa/<kubernetes.io.serviceaccount.name>}. The keys come from
 * a JWK Set file ({@link ServiceAccountKeys}, re-read when it changes), nothing is asked of the Kubernetes API.
 *
 * <p>Steps, each refusal a {@link Refusal} with a message that never holds the token:
 * <ol>
 *   <li>at most {@link #MAX_TOKEN_LENGTH} characters, a JWS compact serialization ({@code MALFORMED});</li>
 *   <li>{@code alg} RS256 or ES256, so {@code none} and HMAC never reach a verifier ({@code ALGORITHM}); any
 *       {@code crit} header is refused ({@code MALFORMED}, RFC 7515 §4.1.11);</li>
 *   <li>the key: the one whose {@code kid} the header names (Kubernetes always sets it); without a {@code kid},
 *       at most {@link #MAX_KEYS_WITHOUT_KID} keys of the algorithm's type ({@code UNKNOWN_KEY}). Keys in the
 *       header ({@code jwk}, {@code jku}, {@code x5c}, {@code x5u}) are never used;</li>
 *   <li>the signature (Nimbus JOSE+JWT verifiers, {@code BAD_SIGNATURE});</li>
 *   <li>only then the claims: {@code iss} equals {@code --k8s-issuer} ({@code WRONG_ISSUER}); {@code aud}
 *       contains {@code --k8s-audience} ({@code WRONG_AUDIENCE}); {@code exp} is required and not past, and
 *       {@code nbf} not ahead, each with {@link #CLOCK_SKEW} ({@code EXPIRED}, {@code NOT_YET_VALID});
 *       {@code kubernetes.io.namespace} and {@code kubernetes.io.serviceaccount.name} are RFC 1123 labels, and
 *       {@code sub}, when present, is {@code system:serviceaccount:<ns>:<sa>} ({@code MISSING_CLAIMS}).</li>
 * </ol>
 * The pod name ({@code kubernetes.io.pod.name}) goes to the log, nowhere else. Legacy secret-based tokens
 * (issuer {@code kubernetes/serviceaccount}, no audience, no expiry) fail on {@code iss}, {@code aud} or
 * {@code exp}. A token stays usable until it expires, also after its pod is gone (a TokenReview would notice;
 * this authenticator needs no access to the Kubernetes API), which is why projected tokens should be short-lived.
 *
 * <p>Thread-safe. {@link #authenticate} blocks on a small file read (the key set): call it off the event loops.
 */
public final class KubernetesTokenAuthenticator implements BootstrapAuthenticator {
    private static final Logger log = LoggerFactory.getLogger(KubernetesTokenAuthenticator.class);
    /** The audience sidecars request for their projected token (docs/kubernetes.md), unless configured. */
    public static final String DEFAULT_AUDIENCE = "outrider";
    /** Tolerance on {@code exp} and {@code nbf} for clocks that drift apart (the API server's own leeway). */
    public static final Duration CLOCK_SKEW = Duration.ofSeconds(60);
    static final int MAX_TOKEN_LENGTH = 16 * 1024;
    static final int MAX_KEYS_WITHOUT_KID = 4;
    private static final Set<JWSAlgorithm> ALGORITHMS = Set.of(JWSAlgorithm.RS256, JWSAlgorithm.ES256);
    private static final String CLAIM = "kubernetes.io";

    /** Why a token was refused; every one is a 401. */
    public enum Refusal {
        MALFORMED("malformed"),
        ALGORITHM("algorithm not accepted"),
        UNKNOWN_KEY("unknown key"),
        BAD_SIGNATURE("bad signature"),
        WRONG_ISSUER("wrong issuer"),
        WRONG_AUDIENCE("wrong audience"),
        EXPIRED("expired"),
        NOT_YET_VALID("not yet valid"),
        MISSING_CLAIMS("missing or invalid claims");

        private final String text;

        Refusal(String text) {
            this.text = text;
        }

        public String text() {
            return text;
        }
    }

    /** What {@link #verify} decided. */
    public sealed interface Outcome {
        /** @param podName the pod the token was issued for, or null; for the log only */
        record Accepted(WorkloadIdentity identity, String podName, String keyId) implements Outcome {
            public Accepted {
                requireNonNull(identity, "identity");
            }
        }

        /** @param detail what exactly was wrong, without the token (claim values are bounded and printable) */
        record Refused(Refusal refusal, String detail) implements Outcome {
            public Refused {
                requireNonNull(refusal, "refusal");
                requireNonNull(detail, "detail");
            }

            /** The 401 message and the log line. */
            public String message() {
                return "service-account token refused: " + refusal.text() + " (" + detail + ")";
            }
        }
    }

    private final String issuer;
    private final String audience;
    private final String trustDomain;
    private final ServiceAccountKeys keys;
    private final Clock clock;

    private KubernetesTokenAuthenticator(String issuer, String audience, String trustDomain, ServiceAccountKeys keys,
                                         Clock clock) {
        this.issuer = issuer;
        this.audience = audience;
        this.trustDomain = trustDomain;
        this.keys = keys;
        this.clock = clock;
    }

    /**
     * Reads the key set now.
     *
     * @param issuer   the cluster's service-account issuer ({@code iss} of its tokens)
     * @param jwks     the issuer's JWK Set file
     * @param audience the audience the tokens must be issued for
     * @throws IllegalArgumentException when the file is not a usable key set (named), or a value is blank
     */
    public static KubernetesTokenAuthenticator load(String issuer, Path jwks, String audience, String trustDomain,
                                                    Clock clock) {
        requireNonNull(issuer, "issuer");
        requireNonNull(audience, "audience");
        if (issuer.isBlank() || audience.isBlank()) {
            throw new IllegalArgumentException("issuer and audience must not be empty");
        }
        return new KubernetesTokenAuthenticator(issuer, audience, requireNonNull(trustDomain, "trustDomain"),
                ServiceAccountKeys.load(jwks), requireNonNull(clock, "clock"));
    }

    public String issuer() {
        return issuer;
    }

    public String audience() {
        return audience;
    }

    @Override
    public WorkloadIdentity authenticate(BootstrapCredential credential) throws CaException {
        requireNonNull(credential, "credential");
        return switch (credential) {
            case BootstrapCredential.JoinToken t ->
                    throw CaException.unauthenticated("a join token is not a service-account token");
            case BootstrapCredential.ServiceAccountToken(String token) -> switch (verify(token)) {
                case Outcome.Accepted a -> {
                    log.info("service-account token accepted for {} (pod {}, key {})", a.identity(),
                            a.podName() == null ? "not named" : CsrCheck.printable(a.podName()),
                            a.keyId() == null ? "without kid" : CsrCheck.printable(a.keyId()));
                    yield a.identity();
                }
                case Outcome.Refused r -> throw CaException.unauthenticated(r.message());
            };
        };
    }

    /** The decision on {@code token} with the key set as it is now and the clock's current time. */
    public Outcome verify(String token) {
        requireNonNull(token, "token");
        if (token.length() > MAX_TOKEN_LENGTH) {
            return refused(Refusal.MALFORMED, "longer than " + MAX_TOKEN_LENGTH + " characters");
        }
        Base64URL[] parts;
        Header header;
        try {
            parts = JOSEObject.split(token);
            header = Header.parse(parts[0]);
        } catch (ParseException | RuntimeException e) {
            // Nimbus throws NullPointerException, not ParseException, for some headers (e.g. the JSON "null").
            return refused(Refusal.MALFORMED, "not a JWT (JWS compact serialization)");
        }
        if (!(header instanceof JWSHeader jws) || !ALGORITHMS.contains(jws.getAlgorithm())) {
            return refused(Refusal.ALGORITHM, "alg " + CsrCheck.printable(String.valueOf(header.getAlgorithm()))
                    + "; RS256 and ES256 are accepted");
        }
        if (parts.length != 3) {
            return refused(Refusal.MALFORMED, "not a JWT (JWS compact serialization)");
        }
        if (jws.getCriticalParams() != null && !jws.getCriticalParams().isEmpty()) {
            return refused(Refusal.MALFORMED, "crit header parameters are not understood");
        }
        SignedJWT jwt;
        try {
            jwt = new SignedJWT(parts[0], parts[1], parts[2]);
        } catch (ParseException e) {
            return refused(Refusal.MALFORMED, "not a JWT (JWS compact serialization)");
        }
        Outcome signature = checkSignature(jwt, jws);
        if (signature != null) {
            return signature;
        }
        JWTClaimsSet claims;
        try {
            claims = jwt.getJWTClaimsSet();
        } catch (ParseException e) {
            return refused(Refusal.MALFORMED, "the claims are not a JWT claims set");
        }
        return checkClaims(claims, jws.getKeyID());
    }

    /** Null when a key of the set verifies the signature; else the refusal. */
    private Outcome checkSignature(SignedJWT jwt, JWSHeader header) {
        ServiceAccountKeys.Keys current = keys.current();
        JWSAlgorithm alg = header.getAlgorithm();
        String kid = header.getKeyID();
        List<ServiceAccountKeys.Key> candidates = new ArrayList<>();
        if (kid != null) {
            ServiceAccountKeys.Key key = current.byKeyId().get(kid);
            if (key == null || !key.algorithm().equals(alg)) {
                return refused(Refusal.UNKNOWN_KEY, "no " + alg + " key with kid " + CsrCheck.printable(kid)
                        + " in " + keys.file());
            }
            candidates.add(key);
        } else {
            for (ServiceAccountKeys.Key key : current.all()) {
                if (key.algorithm().equals(alg) && candidates.size() < MAX_KEYS_WITHOUT_KID) {
                    candidates.add(key);
                }
            }
            if (candidates.isEmpty()) {
                return refused(Refusal.UNKNOWN_KEY, "no kid, and no " + alg + " key in " + keys.file());
            }
        }
        for (ServiceAccountKeys.Key key : candidates) {
            try {
                if (jwt.verify(key.verifier())) {
                    return null;
                }
            } catch (JOSEException | IllegalStateException e) {
                // A malformed signature (wrong length, r or s out of range): it does not verify.
            }
        }
        return refused(Refusal.BAD_SIGNATURE, kid != null ? "does not verify with key " + CsrCheck.printable(kid)
                : "verifies with none of the " + candidates.size() + " " + alg + " key(s)");
    }

    private Outcome checkClaims(JWTClaimsSet claims, String kid) {
        if (claims.getIssuer() == null) {
            return refused(Refusal.WRONG_ISSUER, "no iss claim");
        }
        if (!issuer.equals(claims.getIssuer())) {
            return refused(Refusal.WRONG_ISSUER, "iss " + CsrCheck.printable(claims.getIssuer())
                    + " is not --k8s-issuer " + CsrCheck.printable(issuer));
        }
        List<String> audiences = claims.getAudience();
        if (!audiences.contains(audience)) {
            return refused(Refusal.WRONG_AUDIENCE, audiences.isEmpty() ? "no aud claim"
                    : "aud " + CsrCheck.printable(audiences.toString()) + " does not include "
                    + CsrCheck.printable(audience));
        }
        Instant now = clock.instant();
        Date exp = claims.getExpirationTime();
        if (exp == null) {
            return refused(Refusal.MISSING_CLAIMS, "no exp claim");
        }
        if (now.isAfter(exp.toInstant().plus(CLOCK_SKEW))) {
            return refused(Refusal.EXPIRED, "expired at " + exp.toInstant());
        }
        Date nbf = claims.getNotBeforeTime();
        if (nbf != null && now.plus(CLOCK_SKEW).isBefore(nbf.toInstant())) {
            return refused(Refusal.NOT_YET_VALID, "not before " + nbf.toInstant());
        }
        return identity(claims, kid);
    }

    /** The {@code kubernetes.io} claim, the identity it names, and {@code sub} agreeing with it. */
    private Outcome identity(JWTClaimsSet claims, String kid) {
        Map<String, Object> k8s;
        try {
            k8s = claims.getJSONObjectClaim(CLAIM);
        } catch (ParseException e) {
            return refused(Refusal.MISSING_CLAIMS, CLAIM + " is not an object");
        }
        if (k8s == null) {
            return refused(Refusal.MISSING_CLAIMS, "no " + CLAIM + " claim");
        }
        String namespace = k8s.get("namespace") instanceof String s ? s : null;
        String serviceAccount = k8s.get("serviceaccount") instanceof Map<?, ?> sa && sa.get("name") instanceof String s
                ? s : null;
        if (namespace == null || serviceAccount == null) {
            return refused(Refusal.MISSING_CLAIMS, "no " + CLAIM + (namespace == null ? ".namespace"
                    : ".serviceaccount.name") + " (a string)");
        }
        for (String[] field : new String[][] {{".namespace", namespace}, {".serviceaccount.name", serviceAccount}}) {
            if (!DnsLabel.isValid(field[1])) {
                return refused(Refusal.MISSING_CLAIMS, CLAIM + field[0] + " " + CsrCheck.printable(field[1])
                        + " is not an RFC 1123 label");
            }
        }
        WorkloadIdentity identity = new WorkloadIdentity(trustDomain, namespace, serviceAccount);
        String subject = claims.getSubject();
        String expected = "system:serviceaccount:" + namespace + ":" + serviceAccount;
        if (subject != null && !subject.equals(expected)) {
            return refused(Refusal.MISSING_CLAIMS, "sub " + CsrCheck.printable(subject) + " is not " + expected);
        }
        String pod = k8s.get("pod") instanceof Map<?, ?> p && p.get("name") instanceof String s ? s : null;
        return new Outcome.Accepted(identity, pod, kid);
    }

    private static Outcome.Refused refused(Refusal refusal, String detail) {
        return new Outcome.Refused(refusal, detail);
    }

    @Override
    public String toString() {
        return "KubernetesTokenAuthenticator[issuer " + issuer + ", audience " + audience + ", keys " + keys.file() + "]";
    }
}
