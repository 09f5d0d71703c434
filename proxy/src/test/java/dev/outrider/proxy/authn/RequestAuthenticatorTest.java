package dev.outrider.proxy.authn;

import com.nimbusds.jwt.JWTClaimsSet;
import dev.outrider.core.policy.ObjectMeta;
import dev.outrider.core.policy.RequestAuthentication;
import dev.outrider.core.policy.RequestAuthentication.ClaimToHeader;
import dev.outrider.core.policy.RequestAuthentication.JwtHeader;
import dev.outrider.core.policy.RequestAuthentication.JwtRule;
import dev.outrider.proxy.authn.JwtVerifier.Options;
import dev.outrider.proxy.authn.JwtVerifier.Result;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Date;
import java.util.List;
import java.util.Map;

import static dev.outrider.proxy.authn.TestTokens.ISSUER;
import static dev.outrider.proxy.authn.TestTokens.NOW;
import static dev.outrider.proxy.authn.TestTokens.claims;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link RequestAuthenticator} on Netty requests, with tokens signed by {@link TestTokens} keys and verified by
 * a real {@link JwtVerifier} (inline JWKS): where tokens are found, what a verified token does to the request,
 * and the refusals (several tokens, a token in another issuer's location, a bad claim header).
 */
class RequestAuthenticatorTest {
    private static final TestTokens A = new TestTokens("a");
    private static final TestTokens B = new TestTokens("b");
    private static final String ISSUER_B = "https://b.issuer.test";

    private static HttpRequest request(String uri) {
        return new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, uri);
    }

    private static RequestAuthentication policy(String name, JwtRule... rules) {
        return new RequestAuthentication(new ObjectMeta(name, "shop", null), null, List.of(rules));
    }

    /** A rule of issuer A (keys of {@link #A}), audience "api". */
    private static JwtRule ruleA(List<JwtHeader> fromHeaders, List<String> fromParams, boolean forward,
                                 List<ClaimToHeader> claimHeaders) {
        return new JwtRule(ISSUER, List.of("api"), null, A.publicSet().toString(), fromHeaders, fromParams, forward,
                claimHeaders);
    }

    private static JwtRule ruleA() {
        return ruleA(null, null, false, null);
    }

    private static JwtRule ruleB(List<JwtHeader> fromHeaders) {
        return new JwtRule(ISSUER_B, List.of(), null, B.publicSet().toString(), fromHeaders, null, false, null);
    }

    private static RequestAuthenticator compile(RequestAuthentication... policies) {
        List<RequestAuthentication> list = List.of(policies);
        return RequestAuthenticator.compile(list, JwtVerifier.compile(list, null, Options.defaults()));
    }

    private static String tokenA() {
        return A.es256(claims().build());
    }

    private static String tokenA(JWTClaimsSet claims) {
        return A.es256(claims);
    }

    private static String tokenB() {
        return B.rs256(claims().issuer(ISSUER_B).subject("bob").build());
    }

    private static Result.Valid valid(Result r) {
        assertThat(r).isInstanceOf(Result.Valid.class);
        return (Result.Valid) r;
    }

    private static List<String> lines(HttpHeaders h) {
        return h.entries().stream().map(e -> e.getKey() + ": " + e.getValue()).toList();
    }

    // --- no policy, no token --------------------------------------------------------------------------

    @Test
    void noPoliciesIsNoneAndLeavesTheRequestAlone() {
        RequestAuthenticator none = RequestAuthenticator.compile(List.of(),
                JwtVerifier.compile(List.of(), null, Options.defaults()));
        assertThat(none).isSameAs(RequestAuthenticator.NONE);
        assertThat(none.isEmpty()).isTrue();
        // a policy without jwtRules compiles to nothing as well
        assertThat(compile(policy("empty"))).isSameAs(RequestAuthenticator.NONE);

        HttpRequest req = request("/a?access_token=" + tokenA() + "&x=1");
        req.headers().set("Authorization", "Bearer " + tokenA()).set("x-jwt-sub", "mallory");
        List<String> before = lines(req.headers());
        String uri = req.uri();
        assertThat(none.authenticate(req, NOW)).isNull();
        assertThat(lines(req.headers())).isEqualTo(before).hasSize(2);
        assertThat(req.uri()).isEqualTo(uri);
    }

    @Test
    void compiledAuthenticatorIsNotEmpty() {
        assertThat(compile(policy("jwt", ruleA())).isEmpty()).isFalse();
    }

    @Test
    void noTokenPassesButCallerSentClaimHeadersAreRemoved() {
        RequestAuthenticator auth = compile(policy("jwt",
                ruleA(null, null, false, List.of(new ClaimToHeader("X-Jwt-Sub", "sub")))));
        HttpRequest req = request("/a?x=1");
        req.headers().set("x-jwt-sub", "admin").set("Authorization", "Basic dXNlcjpwYXNz").set("x-other", "kept");

        assertThat(auth.authenticate(req, NOW)).isNull();
        assertThat(req.headers().contains("x-jwt-sub")).as("caller-made claim header").isFalse();
        assertThat(req.headers().get("Authorization")).isEqualTo("Basic dXNlcjpwYXNz");
        assertThat(req.headers().get("x-other")).isEqualTo("kept");
        assertThat(req.uri()).isEqualTo("/a?x=1");
    }

    @Test
    void aQueryWithABrokenPercentTripletIsRefusedWhenARuleReadsParameters() {
        RequestAuthenticator auth = compile(policy("jwt", ruleA()));
        for (String uri : List.of("/a?access_token=%zz", "/a?x=50%", "/a?access_token=" + tokenA() + "&q=%4")) {
            HttpRequest req = request(uri);
            req.headers().set("Authorization", "Bearer " + tokenA());
            assertThat(auth.authenticate(req, NOW)).as(uri)
                    .isEqualTo(new Result.Invalid("malformed query (bad percent-encoding)"));
        }
        // a rule that reads headers only never looks at the query
        RequestAuthenticator headersOnly = compile(policy("jwt",
                ruleA(List.of(new JwtHeader("x-token", "")), null, false, null)));
        HttpRequest req = request("/a?x=50%");
        req.headers().set("x-token", tokenA());
        valid(headersOnly.authenticate(req, NOW));
    }

    // --- a verified token -----------------------------------------------------------------------------

    @Test
    void validTokenIsVerifiedAndStripped() {
        RequestAuthenticator auth = compile(policy("jwt", ruleA()));
        HttpRequest req = request("/a");
        req.headers().set("Authorization", "Bearer " + tokenA()).set("x-other", "kept");

        Result.Valid v = valid(auth.authenticate(req, NOW));
        assertThat(v.issuer()).isEqualTo(ISSUER);
        assertThat(v.requestPrincipal()).isEqualTo(ISSUER + "/alice");
        assertThat(req.headers().contains("Authorization")).isFalse();
        assertThat(req.headers().get("x-other")).isEqualTo("kept");
    }

    @Test
    void forwardOriginalTokenKeepsTheHeader() {
        RequestAuthenticator auth = compile(policy("jwt", ruleA(null, null, true, null)));
        String token = tokenA();
        HttpRequest req = request("/a");
        req.headers().set("Authorization", "Bearer " + token);

        valid(auth.authenticate(req, NOW));
        assertThat(req.headers().get("Authorization")).isEqualTo("Bearer " + token);
    }

    @Test
    void tokenInAQueryParameterIsStrippedAndOtherParametersKept() {
        RequestAuthenticator auth = compile(policy("jwt", ruleA(null, List.of("jwt"), false, null)));
        HttpRequest req = request("/orders/1?a=1%202&jwt=" + tokenA() + "&b=%7E");

        valid(auth.authenticate(req, NOW));
        assertThat(req.uri()).isEqualTo("/orders/1?a=1%202&b=%7E");
    }

    @Test
    void fromParamsDoesNotLookInTheAuthorizationHeader() {
        RequestAuthenticator auth = compile(policy("jwt", ruleA(null, List.of("jwt"), false, null)));
        HttpRequest req = request("/a");
        req.headers().set("Authorization", "Bearer " + tokenA());

        assertThat(auth.authenticate(req, NOW)).isNull();
        assertThat(req.headers().contains("Authorization")).isTrue();
    }

    @Test
    void tokenFromAConfiguredHeaderWithPrefix() {
        RequestAuthenticator auth = compile(policy("jwt",
                ruleA(List.of(new JwtHeader("X-Jwt-Assertion", "Token ")), null, false, null)));
        HttpRequest req = request("/a");
        req.headers().set("x-jwt-assertion", "Token " + tokenA()).set("Authorization", "Basic dXNlcjpwYXNz");

        assertThat(valid(auth.authenticate(req, NOW)).subject()).isEqualTo("alice");
        assertThat(req.headers().contains("x-jwt-assertion")).isFalse();
        assertThat(req.headers().get("Authorization")).isEqualTo("Basic dXNlcjpwYXNz");

        // without the prefix the header does not carry a token for this rule
        HttpRequest noPrefix = request("/a");
        noPrefix.headers().set("x-jwt-assertion", tokenA());
        assertThat(auth.authenticate(noPrefix, NOW)).isNull();
        assertThat(noPrefix.headers().contains("x-jwt-assertion")).isTrue();
    }

    // --- outputClaimToHeaders -------------------------------------------------------------------------

    @Test
    void claimsAreCopiedIntoHeaders() {
        RequestAuthenticator auth = compile(policy("jwt", ruleA(null, null, false, List.of(
                new ClaimToHeader("x-sub", "sub"),
                new ClaimToHeader("x-tenant", "org.tenant"),
                new ClaimToHeader("x-level", "level"),
                new ClaimToHeader("x-ratio", "ratio"),
                new ClaimToHeader("x-admin", "admin"),
                new ClaimToHeader("x-groups", "groups"),
                new ClaimToHeader("x-org", "org"),
                new ClaimToHeader("x-crlf", "crlf"),
                new ClaimToHeader("x-lf", "lf"),
                new ClaimToHeader("x-accent", "accent"),
                new ClaimToHeader("x-empty", "empty"),
                new ClaimToHeader("x-missing", "missing.deeper"),
                new ClaimToHeader("x-mixed", "mixed")))));
        String token = tokenA(claims()
                .claim("org", Map.of("tenant", "acme", "plan", "gold"))
                .claim("level", 42)
                .claim("ratio", 1.5)
                .claim("admin", true)
                .claim("crlf", "a\r\nx-injected: 1")
                .claim("lf", "a\nb")
                .claim("accent", "caf\u00e9")
                .claim("empty", "")
                .claim("mixed", List.of("a", Map.of("b", "c")))
                .build());
        HttpRequest req = request("/a");
        req.headers().set("Authorization", "Bearer " + token)
                .set("x-sub", "mallory")        // replaced by the claim
                .set("x-org", "caller-made")    // removed: the claim is an object
                .set("x-crlf", "caller-made");  // removed: the claim cannot be a header

        valid(auth.authenticate(req, NOW));
        HttpHeaders h = req.headers();
        assertThat(h.getAll("x-sub")).containsExactly("alice");
        assertThat(h.get("x-tenant")).isEqualTo("acme");
        assertThat(h.get("x-level")).isEqualTo("42");
        assertThat(h.get("x-ratio")).isEqualTo("1.5");
        assertThat(h.get("x-admin")).isEqualTo("true");
        assertThat(h.get("x-groups")).isEqualTo("dev,ops");
        for (String absent : List.of("x-org", "x-crlf", "x-lf", "x-accent", "x-empty", "x-missing", "x-mixed")) {
            assertThat(h.contains(absent)).as(absent).isFalse();
        }
        assertThat(h.contains("x-injected")).isFalse();
    }

    @Test
    void claimValueForms() {
        assertThat(ClaimValues.headerValue("a\tb")).isEqualTo("a\tb");
        assertThat(ClaimValues.headerValue(List.of(1L, true, "x"))).isEqualTo("1,true,x");
        assertThat(ClaimValues.headerValue(List.of())).isNull();
        assertThat(ClaimValues.headerValue(List.of("a", List.of("b")))).isNull();
        assertThat(ClaimValues.headerValue(Map.of("a", "b"))).isNull();
        assertThat(ClaimValues.headerValue("a\u007fb")).isNull();
        assertThat(ClaimValues.headerValue("a\u0000b")).isNull();
        assertThat(ClaimValues.headerValue(null)).isNull();

        Map<String, Object> claims = Map.of("a", Map.of("b", Map.of("c", "deep")), "s", "top");
        assertThat(ClaimValues.claim(claims, new String[]{"a", "b", "c"})).isEqualTo("deep");
        assertThat(ClaimValues.claim(claims, new String[]{"s"})).isEqualTo("top");
        assertThat(ClaimValues.claim(claims, new String[]{"s", "x"})).as("through a non-object").isNull();
        assertThat(ClaimValues.claim(claims, new String[]{"a", "x"})).isNull();
        assertThat(ClaimValues.claim(claims, new String[0])).as("the claims themselves are no claim").isNull();
    }

    @Test
    void claimHeadersOfEveryRuleAreRemovedWhateverTheIssuer() {
        RequestAuthenticator auth = compile(
                policy("a", ruleA(null, null, false, List.of(new ClaimToHeader("x-a-sub", "sub")))),
                policy("b", ruleB(List.of(new JwtHeader("x-b-jwt", "")))));
        HttpRequest req = request("/a");
        req.headers().set("x-b-jwt", tokenB()).set("x-a-sub", "alice");

        assertThat(valid(auth.authenticate(req, NOW)).issuer()).isEqualTo(ISSUER_B);
        assertThat(req.headers().contains("x-a-sub")).as("issuer A's claim header, sent by the caller").isFalse();
        assertThat(req.headers().contains("x-b-jwt")).isFalse();
    }

    // --- refusals -------------------------------------------------------------------------------------

    @Test
    void invalidTokenIsRefusedWithItsReasonAndNotStripped() {
        RequestAuthenticator auth = compile(policy("jwt",
                ruleA(null, null, false, List.of(new ClaimToHeader("x-sub", "sub")))));
        String expired = tokenA(claims().expirationTime(new Date((NOW - 3600) * 1000)).build());
        HttpRequest req = request("/a");
        req.headers().set("Authorization", "Bearer " + expired).set("x-sub", "alice");

        Result r = auth.authenticate(req, NOW);
        assertThat(r).isEqualTo(new Result.Invalid("token expired"));
        assertThat(req.headers().contains("x-sub")).isFalse();

        HttpRequest wrongKey = request("/a");
        wrongKey.headers().set("Authorization", "Bearer " + new TestTokens("a").es256(claims().build()));
        assertThat(auth.authenticate(wrongKey, NOW)).isEqualTo(new Result.Invalid("signature verification failed"));

        HttpRequest garbage = request("/a");
        garbage.headers().set("Authorization", "Bearer not-a-jwt");
        assertThat(auth.authenticate(garbage, NOW)).isEqualTo(new Result.Invalid("malformed token (not a signed JWT)"));
    }

    @Test
    void twoDifferentTokensInTwoLocationsAreRefused() {
        RequestAuthenticator auth = compile(policy("jwt",
                ruleA(),
                ruleA(List.of(new JwtHeader("x-jwt", "")), null, false, null)));
        String one = tokenA();
        String other = tokenA(claims().subject("mallory").build());
        HttpRequest req = request("/a");
        req.headers().set("Authorization", "Bearer " + one).set("x-jwt", other);

        assertThat(auth.authenticate(req, NOW)).isSameAs(RequestAuthenticator.MULTIPLE_TOKENS);
        assertThat(((Result.Invalid) RequestAuthenticator.MULTIPLE_TOKENS).reason())
                .isEqualTo("more than one token in the request");
        assertThat(req.headers().get("x-jwt")).isEqualTo(other);
    }

    @Test
    void theSameTokenInTwoLocationsIsOneToken() {
        RequestAuthenticator auth = compile(policy("jwt",
                ruleA(),
                ruleA(List.of(new JwtHeader("x-jwt", "")), null, false, null)));
        String token = tokenA();
        HttpRequest req = request("/a");
        req.headers().set("Authorization", "Bearer " + token).set("x-jwt", token);

        assertThat(valid(auth.authenticate(req, NOW)).subject()).isEqualTo("alice");
        assertThat(req.headers().contains("Authorization")).isFalse();
        assertThat(req.headers().contains("x-jwt")).as("the verified token is removed wherever it was").isFalse();
    }

    /**
     * The default rule looks in two places, {@code Authorization: Bearer} and {@code access_token}: a second,
     * different token in the other place is a second token, not something to forward unverified next to
     * the claim headers of the first.
     */
    @Test
    void differentTokensInTheBearerHeaderAndTheAccessTokenParameterAreRefused() {
        RequestAuthenticator auth = compile(policy("jwt", ruleA()));
        String other = tokenA(claims().subject("mallory").build());
        HttpRequest req = request("/a?access_token=" + other);
        req.headers().set("Authorization", "Bearer " + tokenA());

        assertThat(auth.authenticate(req, NOW)).isSameAs(RequestAuthenticator.MULTIPLE_TOKENS);
    }

    @Test
    void twoAuthorizationHeadersWithDifferentTokensAreRefused() {
        RequestAuthenticator auth = compile(policy("jwt", ruleA()));
        HttpRequest req = request("/a");
        req.headers().add("Authorization", "Bearer " + tokenA())
                .add("Authorization", "Bearer " + tokenA(claims().subject("mallory").build()));

        assertThat(auth.authenticate(req, NOW)).isSameAs(RequestAuthenticator.MULTIPLE_TOKENS);
    }

    @Test
    void twoValuesOfTheTokenParameterAreTwoTokens() {
        RequestAuthenticator auth = compile(policy("jwt", ruleA(null, List.of("jwt"), false, null)));
        HttpRequest req = request("/a?jwt=" + tokenA() + "&jwt=" + tokenA(claims().subject("mallory").build()));

        assertThat(auth.authenticate(req, NOW)).isSameAs(RequestAuthenticator.MULTIPLE_TOKENS);
    }

    @Test
    void theSameTokenInTheHeaderAndTheParameterIsStrippedFromBoth() {
        RequestAuthenticator auth = compile(policy("jwt", ruleA()));
        String token = tokenA();
        HttpRequest req = request("/a?x=1&access_token=" + token);
        req.headers().set("Authorization", "Bearer " + token);

        valid(auth.authenticate(req, NOW));
        assertThat(req.headers().contains("Authorization")).isFalse();
        assertThat(req.uri()).isEqualTo("/a?x=1");
    }

    @Test
    void theSameTokenElsewhereIsKeptWhenTheRuleForwardsIt() {
        RequestAuthenticator auth = compile(policy("jwt",
                ruleA(null, null, true, null),
                ruleA(List.of(new JwtHeader("x-jwt", "")), null, false, null)));
        String token = tokenA();
        HttpRequest req = request("/a");
        req.headers().set("Authorization", "Bearer " + token).set("x-jwt", token);

        valid(auth.authenticate(req, NOW));
        assertThat(req.headers().get("Authorization")).isEqualTo("Bearer " + token);
        assertThat(req.headers().get("x-jwt")).isEqualTo(token);
    }

    @Test
    void tokenInALocationOnlyAnotherIssuerUsesIsRefused() {
        RequestAuthenticator auth = compile(
                policy("a", ruleA()),
                policy("b", ruleB(List.of(new JwtHeader("x-b-jwt", "")))));

        HttpRequest aInB = request("/a");
        aInB.headers().set("x-b-jwt", tokenA());
        assertThat(auth.authenticate(aInB, NOW)).isSameAs(RequestAuthenticator.WRONG_LOCATION);
        assertThat(aInB.headers().contains("x-b-jwt")).isTrue();

        HttpRequest bInA = request("/a");
        bInA.headers().set("Authorization", "Bearer " + tokenB());
        assertThat(auth.authenticate(bInA, NOW)).isSameAs(RequestAuthenticator.WRONG_LOCATION);

        // each in its own place is fine
        HttpRequest aInA = request("/a");
        aInA.headers().set("Authorization", "Bearer " + tokenA());
        assertThat(valid(auth.authenticate(aInA, NOW)).issuer()).isEqualTo(ISSUER);
        HttpRequest bInB = request("/a");
        bInB.headers().set("x-b-jwt", tokenB());
        assertThat(valid(auth.authenticate(bInB, NOW)).issuer()).isEqualTo(ISSUER_B);
    }

    @ParameterizedTest
    @ValueSource(strings = {"host", "Host", "authorization", ":path", "bad header", "cookie", "content-length",
            "transfer-encoding", "x-forwarded-client-cert", "", "x(y)"})
    void badClaimHeaderNamesNameThePolicyAndField(String header) {
        JwtRule fine = ruleA(null, null, false, List.of(new ClaimToHeader("x-sub", "sub")));
        JwtRule bad = ruleA(null, null, false,
                List.of(new ClaimToHeader("x-sub", "sub"), new ClaimToHeader(header, "sub")));
        assertThatThrownBy(() -> compile(policy("jwt", fine, bad)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("shop/jwt.jwtRules[1].outputClaimToHeaders[1].header: '" + header + "' ");
    }

    @Test
    void claimHeaderNamesAreCaseInsensitive() {
        RequestAuthenticator auth = compile(policy("jwt",
                ruleA(null, null, false, List.of(new ClaimToHeader(" X-Jwt-Sub ", "sub")))));
        HttpRequest req = request("/a");
        req.headers().set("Authorization", "Bearer " + tokenA()).set("X-JWT-SUB", "mallory");
        valid(auth.authenticate(req, NOW));
        assertThat(req.headers().getAll("x-jwt-sub")).containsExactly("alice");
    }
}
