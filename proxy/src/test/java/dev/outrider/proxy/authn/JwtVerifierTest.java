package dev.outrider.proxy.authn;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import dev.outrider.proxy.authn.JwtVerifier.Options;
import dev.outrider.proxy.authn.JwtVerifier.Result;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Duration;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.outrider.proxy.authn.TestTokens.ISSUER;
import static dev.outrider.proxy.authn.TestTokens.NOW;
import static dev.outrider.proxy.authn.TestTokens.claims;
import static dev.outrider.proxy.authn.TestTokens.inlineRule;
import static dev.outrider.proxy.authn.TestTokens.policy;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class JwtVerifierTest {
    private static final TestTokens KEYS = new TestTokens("1");
    private static final TestTokens ATTACKER = new TestTokens("1"); // same kids, different keys

    private static JwtVerifier verifier(List<String> audiences) {
        return JwtVerifier.compile(List.of(policy(inlineRule(KEYS.publicSet(), audiences))), null, Options.defaults());
    }

    private static final JwtVerifier VERIFIER = verifier(List.of("api"));

    private static String reason(Result r) {
        assertThat(r).isInstanceOf(Result.Invalid.class);
        return ((Result.Invalid) r).reason();
    }

    @Test
    void validTokenOfEachAlgorithm() {
        for (String token : List.of(KEYS.rs256(claims().build()), KEYS.es256(claims().build()),
                KEYS.eddsa(claims().build()))) {
            Result r = VERIFIER.verify(token, NOW);
            assertThat(r).isInstanceOf(Result.Valid.class);
            Result.Valid v = (Result.Valid) r;
            assertThat(v.issuer()).isEqualTo(ISSUER);
            assertThat(v.subject()).isEqualTo("alice");
            assertThat(v.requestPrincipal()).isEqualTo(ISSUER + "/alice");
            assertThat(v.audiences()).containsExactly("api");
            assertThat(v.expiresAt()).isEqualTo(NOW + 600);
            assertThat(v.claims()).containsEntry("groups", List.of("dev", "ops")).containsEntry("exp", NOW + 600);
        }
    }

    @Test
    void claimsAreDeeplyImmutable() {
        Result.Valid v = (Result.Valid) VERIFIER.verify(
                KEYS.es256(claims().claim("nested", Map.of("k", List.of(1))).build()), NOW);
        assertThatThrownBy(() -> v.claims().put("x", 1)).isInstanceOf(UnsupportedOperationException.class);
        @SuppressWarnings("unchecked")
        List<Object> groups = (List<Object>) v.claims().get("groups");
        assertThatThrownBy(() -> groups.add("admin")).isInstanceOf(UnsupportedOperationException.class);
        @SuppressWarnings("unchecked")
        Map<String, Object> nested = (Map<String, Object>) v.claims().get("nested");
        assertThatThrownBy(() -> nested.put("y", 2)).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void algNoneIsRefused() {
        String unsecured = new PlainJWT(claims().build()).serialize();
        assertThat(reason(VERIFIER.verify(unsecured, NOW))).isEqualTo("malformed token (not a signed JWT)");
        // "none" with a signature part appended, and a capitalised variant
        assertThat(reason(VERIFIER.verify(unsecured + "c2ln", NOW))).isEqualTo("malformed token (not a signed JWT)");
        String none = Base64URL.encode("{\"alg\":\"None\"}") + "." + Base64URL.encode(claims().build().toString()) + ".";
        assertThat(VERIFIER.verify(none, NOW)).isInstanceOf(Result.Invalid.class);
    }

    @Test
    void hs256KeyedWithTheRsaPublicKeyIsRefused() throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID(KEYS.rsa.getKeyID()).build(),
                claims().build());
        jwt.sign(new MACSigner(KEYS.rsa.toRSAPublicKey().getEncoded()));
        assertThat(reason(VERIFIER.verify(jwt.serialize(), NOW))).isEqualTo("algorithm not allowed");
        // and HMAC cannot even be configured
        assertThatThrownBy(() -> new Options(Set.of(JWSAlgorithm.RS256, JWSAlgorithm.HS256), Duration.ofSeconds(60),
                8192)).hasMessageContaining("allowedAlgorithms: HMAC");
    }

    @Test
    void algorithmsOutsideTheConfiguredSetAreRefused() {
        JwtVerifier rsOnly = JwtVerifier.compile(List.of(policy(inlineRule(KEYS.publicSet(), List.of()))), null,
                new Options(Set.of(JWSAlgorithm.RS256), Duration.ofSeconds(60), 8192));
        assertThat(rsOnly.verify(KEYS.rs256(claims().build()), NOW)).isInstanceOf(Result.Valid.class);
        assertThat(reason(rsOnly.verify(KEYS.es256(claims().build()), NOW))).isEqualTo("algorithm not allowed");
        assertThat(reason(rsOnly.verify(KEYS.eddsa(claims().build()), NOW))).isEqualTo("algorithm not allowed");
    }

    @Test
    void unknownCritHeaderIsRefused() {
        JWSHeader header = new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(KEYS.ec.getKeyID())
                .criticalParams(Set.of("x-policy")).customParam("x-policy", "strict").build();
        assertThat(reason(VERIFIER.verify(KEYS.sign(header, claims().build()), NOW)))
                .isEqualTo("unsupported critical header parameter");
    }

    /** Embedded keys and key URLs are ignored: only the configured JWKS decides. */
    @Test
    void embeddedJwkJkuX5uAreNeverFollowed() throws Exception {
        JWSHeader attackerJwk = new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(KEYS.ec.getKeyID())
                .jwk(ATTACKER.ec.toPublicJWK()).build();
        assertThat(reason(VERIFIER.verify(ATTACKER.sign(attackerJwk, claims().build()), NOW)))
                .isEqualTo("signature verification failed");
        JWSHeader attackerJku = new JWSHeader.Builder(JWSAlgorithm.RS256)
                .jwkURL(URI.create("https://attacker.test/jwks")).x509CertURL(URI.create("https://attacker.test/x5u"))
                .build();
        assertThat(reason(VERIFIER.verify(ATTACKER.sign(attackerJku, claims().build()), NOW)))
                .isEqualTo("signature verification failed");
        // Signed by the configured key, the same headers do not make the token fail: they are ignored.
        JWSHeader legit = new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(KEYS.ec.getKeyID())
                .jwk(ATTACKER.ec.toPublicJWK()).jwkURL(URI.create("https://attacker.test/jwks")).build();
        assertThat(VERIFIER.verify(KEYS.sign(legit, claims().build()), NOW)).isInstanceOf(Result.Valid.class);
    }

    @Test
    void expiryAndNotBeforeWithTheDefaultSkew() {
        Date expired = new Date((NOW - 61) * 1000);
        assertThat(reason(VERIFIER.verify(KEYS.es256(claims().expirationTime(expired).build()), NOW)))
                .isEqualTo("token expired");
        Date withinSkew = new Date((NOW - 59) * 1000);
        assertThat(VERIFIER.verify(KEYS.es256(claims().expirationTime(withinSkew).build()), NOW))
                .isInstanceOf(Result.Valid.class);
        Date future = new Date((NOW + 61) * 1000);
        assertThat(reason(VERIFIER.verify(KEYS.es256(claims().notBeforeTime(future).build()), NOW)))
                .isEqualTo("token not yet valid (nbf)");
        Date nearFuture = new Date((NOW + 59) * 1000);
        assertThat(VERIFIER.verify(KEYS.es256(claims().notBeforeTime(nearFuture).build()), NOW))
                .isInstanceOf(Result.Valid.class);
    }

    /** At exactly exp + skew the token is expired (Nimbus: valid while exp + skew is after now). */
    @Test
    void skewBoundaryIsExclusive() {
        String token = KEYS.es256(claims().expirationTime(new Date(NOW * 1000)).build());
        assertThat(VERIFIER.verify(token, NOW + 59)).isInstanceOf(Result.Valid.class);
        assertThat(reason(VERIFIER.verify(token, NOW + 60))).isEqualTo("token expired");
        JwtVerifier noSkew = JwtVerifier.compile(List.of(policy(inlineRule(KEYS.publicSet(), List.of()))), null,
                new Options(Options.DEFAULT_ALGORITHMS, Duration.ZERO, 8192));
        assertThat(noSkew.verify(token, NOW - 1)).isInstanceOf(Result.Valid.class);
        assertThat(reason(noSkew.verify(token, NOW))).isEqualTo("token expired");
    }

    @Test
    void missingExpIsRefused() {
        JWTClaimsSet noExp = new JWTClaimsSet.Builder(claims().build()).expirationTime(null).build();
        assertThat(reason(VERIFIER.verify(KEYS.es256(noExp), NOW))).isEqualTo("missing exp claim");
    }

    @Test
    void wrongIssuerIsRefused() {
        assertThat(reason(VERIFIER.verify(KEYS.es256(claims().issuer("https://other.test").build()), NOW)))
                .isEqualTo("unknown issuer");
        assertThat(reason(VERIFIER.verify(KEYS.es256(claims().issuer(null).build()), NOW)))
                .isEqualTo("unknown issuer");
    }

    @Test
    void wrongAudienceIsRefusedWhenAudiencesAreConfigured() {
        String other = KEYS.es256(claims().audience("billing").build());
        assertThat(reason(VERIFIER.verify(other, NOW))).isEqualTo("audience not allowed");
        assertThat(reason(VERIFIER.verify(KEYS.es256(claims().audience((String) null).build()), NOW)))
                .isEqualTo("audience not allowed");
        assertThat(VERIFIER.verify(KEYS.es256(claims().audience(List.of("billing", "api")).build()), NOW))
                .isInstanceOf(Result.Valid.class);
        assertThat(verifier(List.of()).verify(other, NOW)).isInstanceOf(Result.Valid.class);
    }

    @Test
    void kidNotFoundIsRefused() {
        JWSHeader header = new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("nope").build();
        assertThat(reason(VERIFIER.verify(KEYS.sign(header, claims().build()), NOW)))
                .isEqualTo("no key with the token's kid");
    }

    @Test
    void noKidTriesKeysOfTheMatchingType() {
        for (JWSAlgorithm alg : List.of(JWSAlgorithm.RS256, JWSAlgorithm.ES256, JWSAlgorithm.EdDSA)) {
            String token = KEYS.sign(new JWSHeader.Builder(alg).build(), claims().build());
            assertThat(VERIFIER.verify(token, NOW)).as(alg.getName()).isInstanceOf(Result.Valid.class);
        }
        // An EC-only JWKS has no key for RS256.
        JwtVerifier ecOnly = JwtVerifier.compile(List.of(policy(inlineRule(new JWKSet(KEYS.ec.toPublicJWK()),
                List.of()))), null, Options.defaults());
        assertThat(reason(ecOnly.verify(KEYS.sign(new JWSHeader.Builder(JWSAlgorithm.RS256).build(),
                claims().build()), NOW))).isEqualTo("no key for the token's algorithm");
    }

    @Test
    void tamperedPayloadIsRefused() {
        for (String token : List.of(KEYS.rs256(claims().build()), KEYS.es256(claims().build()),
                KEYS.eddsa(claims().build()))) {
            String[] parts = token.split("\\.");
            String forged = parts[0] + "." + Base64URL.encode(claims().subject("admin").build().toString()) + "." + parts[2];
            assertThat(reason(VERIFIER.verify(forged, NOW))).isEqualTo("signature verification failed");
        }
    }

    @Test
    void truncatedTokensAreRefused() {
        String token = KEYS.es256(claims().build());
        assertThat(reason(VERIFIER.verify(token.substring(0, token.length() - 4), NOW)))
                .isEqualTo("signature verification failed");
        assertThat(reason(VERIFIER.verify(token.substring(0, token.lastIndexOf('.')), NOW)))
                .isEqualTo("malformed token (not a signed JWT)");
        assertThat(reason(VERIFIER.verify(token.substring(0, 10), NOW))).isEqualTo("malformed token (not a signed JWT)");
        assertThat(reason(VERIFIER.verify("", NOW))).isEqualTo("empty token");
        assertThat(reason(VERIFIER.verify("a".repeat(20_000), NOW))).isEqualTo("token too long");
    }

    @Test
    void reasonsNeverContainTokenContent() {
        String token = KEYS.es256(claims().issuer("https://evil.test/<script>").build());
        assertThat(reason(VERIFIER.verify(token, NOW))).doesNotContain("evil").doesNotContain(token.substring(0, 20));
    }

    @Test
    void badConfigFailsAtCompileWithTheFieldNamed() {
        assertThatThrownBy(() -> JwtVerifier.compile(List.of(policy(
                new dev.outrider.core.policy.RequestAuthentication.JwtRule(ISSUER, null, null, "{not json", null,
                        null, false, null))), null, Options.defaults()))
                .hasMessageStartingWith("default/jwt.jwtRules[0].jwks: not a JWK Set");
        assertThatThrownBy(() -> JwtVerifier.compile(List.of(policy(
                new dev.outrider.core.policy.RequestAuthentication.JwtRule(ISSUER, null, null, null, null, null,
                        false, null))), null, Options.defaults()))
                .hasMessage("default/jwt.jwtRules[0]: jwksUri or jwks is required");
        try (JwksCache cache = new JwksCache(JwksCache.Config.defaults())) {
            assertThatThrownBy(() -> JwtVerifier.compile(List.of(policy(TestTokens.uriRule("http://keys.example.com/jwks"))),
                    cache, Options.defaults()))
                    .hasMessage("default/jwt.jwtRules[0].jwksUri: must be https (http only to a loopback address)");
        }
    }

    @Test
    void hmacKeysInAJwksAreNeverUsed() {
        String jwks = "{\"keys\":[{\"kty\":\"oct\",\"kid\":\"h\",\"k\":\"" + Base64URL.encode(new byte[32]) + "\"}]}";
        assertThatThrownBy(() -> JwtVerifier.compile(List.of(policy(
                new dev.outrider.core.policy.RequestAuthentication.JwtRule(ISSUER, null, null, jwks, null, null,
                        false, null))), null, Options.defaults()))
                .hasMessage("default/jwt.jwtRules[0].jwks: no usable signature key");
    }
}
