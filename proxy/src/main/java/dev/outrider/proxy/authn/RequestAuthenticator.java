package dev.outrider.proxy.authn;

import dev.outrider.core.policy.RequestAuthentication;
import dev.outrider.core.policy.RequestAuthentication.ClaimToHeader;
import dev.outrider.core.policy.RequestAuthentication.JwtRule;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.AsciiString;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * The RequestAuthentication policies that apply to one workload, compiled once per snapshot: where tokens
 * are looked for, which issuers each location accepts, and what a verified token does to the forwarded
 * request. Istio's semantics:
 * <ul>
 *   <li>no token in any configured location: the request passes unauthenticated ({@code null}); an
 *       authorization policy may require a request principal;</li>
 *   <li>a token that fails verification (bad signature, expired, wrong issuer or audience, keys not yet
 *       fetched, ...): {@link JwtVerifier.Result.Invalid} or {@link JwtVerifier.Result.KeysUnavailable}
 *       (401);</li>
 *   <li>a token found at a location that its issuer's rules do not name is refused (a token for issuer A
 *       in issuer B's header is not A's token);</li>
 *   <li>a query with a {@code %} that does not start a valid triplet, when some rule reads query parameters:
 *       refused (401), since whether it carries a token cannot be told;</li>
 *   <li>two different tokens in two locations (including two places of one rule, such as the
 *       {@code Authorization} header and the {@code access_token} parameter, or two header values): refused,
 *       since which one is the caller's identity would be ambiguous (Istio leaves this undefined), and the
 *       other token must not reach the application unverified.</li>
 * </ul>
 * On success {@link #authenticate} edits the request in place: the token is removed from every place it
 * was found unless its rule says {@code forwardOriginalToken}, and the rule's {@code outputClaimToHeaders}
 * are set. The headers named by
 * any {@code outputClaimToHeaders} are removed from <em>every</em> request first, so a caller cannot hand
 * the application a claim header of its own making.
 *
 * <p>Called on an event loop; never blocks ({@link JwtVerifier}). Immutable after compilation.
 */
public final class RequestAuthenticator {
    /** No RequestAuthentication applies: every request passes unauthenticated and untouched. */
    public static final RequestAuthenticator NONE =
            new RequestAuthenticator(new Location[0], null, new AsciiString[0], false);

    static final JwtVerifier.Result MULTIPLE_TOKENS =
            new JwtVerifier.Result.Invalid("more than one token in the request");
    static final JwtVerifier.Result WRONG_LOCATION =
            new JwtVerifier.Result.Invalid("token issuer not accepted in this location");
    /** A token parameter cannot be read from a query with a broken {@code %} triplet; refused, never guessed. */
    static final JwtVerifier.Result MALFORMED_QUERY =
            new JwtVerifier.Result.Invalid("malformed query (bad percent-encoding)");

    /** One place tokens are looked for (rules with equal fromHeaders/fromParams share it), by issuer. */
    private record Location(TokenExtractor extractor, Map<String, Rule> byIssuer) {
    }

    /** What a verified token of one issuer does to the request found at one location. */
    private record Rule(TokenExtractor extractor, ClaimHeader[] claimHeaders) {
    }

    private record ClaimHeader(AsciiString header, String[] claimPath) {
    }

    private final Location[] locations;
    private final TokenVerifier verifier;
    private final AsciiString[] claimHeaderNames;
    /** Some location reads query parameters: the query must decode before anything looks there. */
    private final boolean readsQuery;

    private RequestAuthenticator(Location[] locations, TokenVerifier verifier, AsciiString[] claimHeaderNames,
                                 boolean readsQuery) {
        this.locations = locations;
        this.verifier = verifier;
        this.claimHeaderNames = claimHeaderNames;
        this.readsQuery = readsQuery;
    }

    /**
     * Compiles the rules of the policies that apply to the workload.
     *
     * @param verifier the compiled {@link JwtVerifier} for the same policies, usually behind a {@link TokenCache}
     * @throws IllegalArgumentException naming the policy and field, for a bad header name
     */
    public static RequestAuthenticator compile(List<RequestAuthentication> policies, TokenVerifier verifier) {
        requireNonNull(policies, "policies");
        requireNonNull(verifier, "verifier");
        Map<List<Object>, Map<String, Rule>> byLocation = new LinkedHashMap<>();
        Map<List<Object>, TokenExtractor> extractors = new HashMap<>();
        Set<AsciiString> claimHeaders = new LinkedHashSet<>();
        for (RequestAuthentication policy : policies) {
            for (int i = 0; i < policy.jwtRules().size(); i++) {
                JwtRule rule = policy.jwtRules().get(i);
                String field = policy.metadata().id() + ".jwtRules[" + i + "]";
                List<Object> where = List.of(rule.fromHeaders(), rule.fromParams());
                TokenExtractor extractor = TokenExtractor.forRule(rule);
                extractors.putIfAbsent(where, extractor);
                List<ClaimHeader> out = new ArrayList<>();
                for (int j = 0; j < rule.outputClaimToHeaders().size(); j++) {
                    ClaimToHeader c = rule.outputClaimToHeaders().get(j);
                    AsciiString name = headerName(c.header(), field + ".outputClaimToHeaders[" + j + "].header");
                    claimHeaders.add(name);
                    out.add(new ClaimHeader(name, c.claim().split("\\.", -1)));
                }
                // The first rule of an issuer at a location decides how its token is forwarded.
                byLocation.computeIfAbsent(where, k -> new HashMap<>())
                        .putIfAbsent(rule.issuer(), new Rule(extractor, out.toArray(ClaimHeader[]::new)));
            }
        }
        if (byLocation.isEmpty()) {
            return NONE;
        }
        List<Location> locations = new ArrayList<>();
        byLocation.forEach((where, rules) -> locations.add(new Location(extractors.get(where), Map.copyOf(rules))));
        boolean readsQuery = locations.stream().anyMatch(l -> l.extractor.readsQuery());
        return new RequestAuthenticator(locations.toArray(Location[]::new), verifier,
                claimHeaders.toArray(AsciiString[]::new), readsQuery);
    }

    private static AsciiString headerName(String name, String field) {
        String n = name.strip().toLowerCase(Locale.ROOT);
        if (n.isEmpty() || !n.chars().allMatch(RequestAuthenticator::isTokenChar)) {
            throw new IllegalArgumentException(field + ": '" + name + "' is not a header name");
        }
        if (n.equals("host") || n.startsWith(":") || n.equals("authorization") || n.equals("cookie")
                || n.equals("x-forwarded-client-cert") || n.equals("content-length")
                || n.equals("transfer-encoding")) {
            throw new IllegalArgumentException(field + ": '" + name + "' cannot carry a claim");
        }
        return AsciiString.cached(n);
    }

    private static boolean isTokenChar(int c) {
        return c > 0x20 && c < 0x7f && "\"(),/:;<=>?@[\\]{}".indexOf(c) < 0;
    }

    /**
     * Removes every header a rule's {@code outputClaimToHeaders} sets: only authentication writes them (from a
     * request's head, and from its trailers).
     */
    public void removeClaimHeaders(HttpHeaders headers) {
        for (AsciiString name : claimHeaderNames) {
            headers.remove(name);
        }
    }

    /** True when no rule applies: {@link #authenticate} always returns null and changes nothing. */
    public boolean isEmpty() {
        return locations.length == 0;
    }

    /**
     * The issuer and key id of the first token {@code request} carries where the policies look, for the
     * security event of a refusal ({@link JwtVerifier#hints}); refusal path only.
     */
    public JwtVerifier.Hints refusedTokenHints(HttpRequest request) {
        for (Location l : locations) {
            TokenExtractor.Token t = l.extractor.extract(request);
            if (t != null) {
                return JwtVerifier.hints(t);
            }
        }
        return JwtVerifier.Hints.NONE;
    }

    /**
     * Finds and verifies the request's token.
     *
     * @return null when the request carries no token (it passes unauthenticated); a
     *         {@link JwtVerifier.Result.Valid} when verified (the request has been edited, see the class
     *         comment); otherwise the refusal (401)
     */
    public JwtVerifier.Result authenticate(HttpRequest request, long nowEpochSeconds) {
        if (locations.length == 0) {
            return null;
        }
        HttpHeaders headers = request.headers();
        removeClaimHeaders(headers);
        if (readsQuery && !TokenExtractor.queryDecodes(request.uri())) {
            return MALFORMED_QUERY;
        }
        TokenExtractor.Token token = null;
        Location at = null;
        boolean elsewhere = false;
        for (Location l : locations) {
            TokenExtractor.Token t = l.extractor.extract(request);
            if (t == null) {
                continue;
            }
            if (token == null) {
                token = t;
                at = l;
            } else if (!token.sameText(t)) {
                return MULTIPLE_TOKENS;
            } else {
                elsewhere = true;
            }
            if (l.extractor.carriesOther(request, t)) {
                return MULTIPLE_TOKENS;
            }
        }
        if (token == null) {
            return null;
        }
        JwtVerifier.Result result = verifier.verify(token, nowEpochSeconds); // a view: a cached token is not copied
        if (!(result instanceof JwtVerifier.Result.Valid valid)) {
            return result;
        }
        Rule rule = at.byIssuer.get(valid.issuer());
        if (rule == null) {
            return WRONG_LOCATION;
        }
        rule.extractor.strip(request, token);
        if (elsewhere && !rule.extractor.forwardsOriginalToken()) {
            for (Location l : locations) {
                if (l != at) {
                    l.extractor.remove(request, token.value());
                }
            }
        }
        for (ClaimHeader c : rule.claimHeaders) {
            String value = ClaimValues.headerValue(ClaimValues.claim(valid.claims(), c.claimPath));
            if (value != null) {
                headers.set(c.header, value);
            }
        }
        return valid;
    }
}
