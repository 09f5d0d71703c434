package dev.outrider.controlplane.ca;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import dev.outrider.controlplane.ca.KubernetesTokenAuthenticator.Outcome;
import dev.outrider.controlplane.ca.KubernetesTokenAuthenticator.Refusal;
import dev.outrider.controlplane.testing.KubernetesIssuer;
import dev.outrider.controlplane.testing.KubernetesIssuer.SigningKey;
import dev.outrider.controlplane.testing.MutableClock;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;

import static dev.outrider.controlplane.testing.KubernetesIssuer.claims;
import static dev.outrider.controlplane.testing.KubernetesIssuer.sign;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link KubernetesTokenAuthenticator} with real signed JWTs (RSA and EC keys made here) the way a Kubernetes
 * API server issues them: the good case for both algorithms and every refusal, each with its reason.
 */
class KubernetesTokenAuthenticatorTest {
    private static final WorkloadIdentity ORDERS = new WorkloadIdentity("cluster.local", "shop", "orders");
    static SigningKey rsa;
    static SigningKey ec;
    static SigningKey stranger;

    @TempDir
    Path dir;
    private final MutableClock clock = new MutableClock(Instant.parse("2026-05-01T10:00:00Z"));
    private KubernetesTokenAuthenticator authenticator;

    @BeforeAll
    static void keys() {
        rsa = KubernetesIssuer.rsa("rsa-1");
        ec = KubernetesIssuer.ec("ec-1");
        stranger = KubernetesIssuer.rsa("rsa-1"); // same kid, another key
    }

    @BeforeEach
    void start() {
        Path jwks = KubernetesIssuer.writeJwks(dir.resolve("jwks.json"), rsa, ec);
        authenticator = KubernetesTokenAuthenticator.load(KubernetesIssuer.ISSUER, jwks, KubernetesIssuer.AUDIENCE,
                "cluster.local", clock);
    }

    private JWTClaimsSet.Builder orders() {
        return claims("shop", "orders", "orders-7f9c-abcde", clock.instant());
    }

    private Refusal refusal(String token) {
        Outcome outcome = authenticator.verify(token);
        assertThat(outcome).isInstanceOf(Outcome.Refused.class);
        return ((Outcome.Refused) outcome).refusal();
    }

    private String detail(String token) {
        return ((Outcome.Refused) authenticator.verify(token)).detail();
    }

    @Test
    void rs256TokenProvesItsServiceAccount() throws Exception {
        String token = sign(rsa, orders().build());

        assertThat(authenticator.verify(token)).isEqualTo(new Outcome.Accepted(ORDERS, "orders-7f9c-abcde", "rsa-1"));
        assertThat(authenticator.authenticate(new BootstrapCredential.ServiceAccountToken(token))).isEqualTo(ORDERS);
        assertThat(ORDERS.spiffeId().toString()).isEqualTo("spiffe://cluster.local/ns/shop/sa/orders");
    }

    @Test
    void es256TokenProvesItsServiceAccount() {
        String token = sign(ec, claims("payments", "billing", "billing-0", clock.instant()).build());

        assertThat(authenticator.verify(token)).isEqualTo(new Outcome.Accepted(
                new WorkloadIdentity("cluster.local", "payments", "billing"), "billing-0", "ec-1"));
    }

    @Test
    void podAndSubjectAreOptionalAndOtherAudiencesMayComeAlong() {
        JWTClaimsSet c = orders().subject(null).audience(List.of("https://kubernetes.default.svc", "outrider"))
                .claim("kubernetes.io", Map.of("namespace", "shop", "serviceaccount", Map.of("name", "orders")))
                .build();

        assertThat(authenticator.verify(sign(rsa, c))).isEqualTo(new Outcome.Accepted(ORDERS, null, "rsa-1"));
    }

    @Test
    void withoutKidTheKeysOfTheAlgorithmAreTried() {
        String token = sign(ec, new JWSHeader.Builder(JWSAlgorithm.ES256).build(), orders().build());

        assertThat(authenticator.verify(token)).isEqualTo(new Outcome.Accepted(ORDERS, "orders-7f9c-abcde", null));
    }

    @Test
    void expiredWithinTheClockSkewOnlyIsAccepted() {
        String token = sign(rsa, orders().build());

        clock.advance(Duration.ofSeconds(3600 + 59));
        assertThat(authenticator.verify(token)).isInstanceOf(Outcome.Accepted.class);
        clock.advance(Duration.ofSeconds(2));
        assertThat(refusal(token)).isEqualTo(Refusal.EXPIRED);
        assertThat(detail(token)).isEqualTo("expired at 2026-05-01T11:00:00Z");
    }

    @Test
    void notYetValidBeyondTheClockSkew() {
        String token = sign(rsa, orders().notBeforeTime(Date.from(clock.instant().plusSeconds(120))).build());
        String soon = sign(rsa, orders().notBeforeTime(Date.from(clock.instant().plusSeconds(30))).build());

        assertThat(refusal(token)).isEqualTo(Refusal.NOT_YET_VALID);
        assertThat(authenticator.verify(soon)).isInstanceOf(Outcome.Accepted.class);
    }

    @Test
    void wrongAudience() {
        String other = sign(rsa, orders().audience("vault").build());
        String none = sign(rsa, orders().audience((String) null).build());

        assertThat(refusal(other)).isEqualTo(Refusal.WRONG_AUDIENCE);
        assertThat(detail(other)).isEqualTo("aud '[vault]' does not include 'outrider'");
        assertThat(refusal(none)).isEqualTo(Refusal.WRONG_AUDIENCE);
        assertThat(detail(none)).isEqualTo("no aud claim");
    }

    @Test
    void wrongIssuer() {
        String other = sign(rsa, orders().issuer("https://other-cluster.example").build());
        String legacy = sign(rsa, orders().issuer("kubernetes/serviceaccount").build());
        String none = sign(rsa, orders().issuer(null).build());

        assertThat(refusal(other)).isEqualTo(Refusal.WRONG_ISSUER);
        assertThat(detail(other)).isEqualTo("iss 'https://other-cluster.example' is not --k8s-issuer"
                + " 'https://kubernetes.default.svc.cluster.local'");
        assertThat(refusal(legacy)).isEqualTo(Refusal.WRONG_ISSUER);
        assertThat(refusal(none)).isEqualTo(Refusal.WRONG_ISSUER);
    }

    @Test
    void unknownKey() {
        SigningKey unknown = KubernetesIssuer.ec("ec-2");
        String token = sign(unknown, orders().build());
        String noKid = sign(KubernetesIssuer.ec("x"), new JWSHeader.Builder(JWSAlgorithm.ES256).build(), orders().build());
        // The kid of an EC key with alg RS256: no RS256 key has that kid.
        String mixed = sign(rsa, new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("ec-1").build(), orders().build());

        assertThat(refusal(token)).isEqualTo(Refusal.UNKNOWN_KEY);
        assertThat(detail(token)).isEqualTo("no ES256 key with kid 'ec-2' in " + dir.resolve("jwks.json"));
        assertThat(refusal(noKid)).isEqualTo(Refusal.BAD_SIGNATURE);
        assertThat(refusal(mixed)).isEqualTo(Refusal.UNKNOWN_KEY);
    }

    @Test
    void badSignature() {
        String forged = sign(stranger, orders().build()); // a known kid, signed with another key
        String[] parts = sign(rsa, orders().build()).split("\\.");
        String otherClaims = sign(rsa, claims("kube-system", "admin", "x", clock.instant()).build()).split("\\.")[1];
        String swapped = parts[0] + "." + otherClaims + "." + parts[2];

        assertThat(refusal(forged)).isEqualTo(Refusal.BAD_SIGNATURE);
        assertThat(detail(forged)).isEqualTo("does not verify with key 'rsa-1'");
        assertThat(refusal(swapped)).isEqualTo(Refusal.BAD_SIGNATURE);
    }

    @Test
    void missingClaims() {
        record Case(JWTClaimsSet claims, String detail) {
        }
        for (Case c : List.of(
                new Case(orders().claim("kubernetes.io", null).build(), "no kubernetes.io claim"),
                new Case(orders().claim("kubernetes.io", "shop").build(), "kubernetes.io is not an object"),
                new Case(orders().claim("kubernetes.io", Map.of("serviceaccount", Map.of("name", "orders"))).build(),
                        "no kubernetes.io.namespace (a string)"),
                new Case(orders().claim("kubernetes.io", Map.of("namespace", "shop", "serviceaccount", Map.of())).build(),
                        "no kubernetes.io.serviceaccount.name (a string)"),
                new Case(orders().claim("kubernetes.io", Map.of("namespace", "shop",
                        "serviceaccount", Map.of("name", "orders.v2"))).build(),
                        "kubernetes.io.serviceaccount.name 'orders.v2' is not an RFC 1123 label"),
                new Case(orders().subject("system:serviceaccount:shop:payments").build(),
                        "sub 'system:serviceaccount:shop:payments' is not system:serviceaccount:shop:orders"),
                new Case(orders().expirationTime(null).build(), "no exp claim"))) {
            String token = sign(rsa, c.claims());
            assertThat(refusal(token)).as(c.detail()).isEqualTo(Refusal.MISSING_CLAIMS);
            assertThat(detail(token)).isEqualTo(c.detail());
        }
    }

    @Test
    void onlyRs256AndEs256() throws JOSEException {
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        SignedJWT hmac = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("rsa-1").build(), orders().build());
        hmac.sign(new MACSigner(secret));
        String none = new PlainJWT(orders().build()).serialize();

        assertThat(refusal(hmac.serialize())).isEqualTo(Refusal.ALGORITHM);
        assertThat(detail(hmac.serialize())).isEqualTo("alg 'HS256'; RS256 and ES256 are accepted");
        assertThat(refusal(none)).isEqualTo(Refusal.ALGORITHM);
    }

    @Test
    void malformed() {
        String header = Base64.getUrlEncoder().withoutPadding().encodeToString(
                "{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"crit\":[\"x-ext\"],\"x-ext\":1}".getBytes());
        String[] good = sign(rsa, orders().build()).split("\\.");

        assertThat(refusal("not.a.jwt")).isEqualTo(Refusal.MALFORMED);
        assertThat(refusal("eyJ.")).isEqualTo(Refusal.MALFORMED);
        assertThat(refusal(good[0] + "." + good[1])).isEqualTo(Refusal.MALFORMED);
        assertThat(refusal(header + "." + good[1] + "." + good[2])).isEqualTo(Refusal.MALFORMED);
        assertThat(detail(header + "." + good[1] + "." + good[2])).isEqualTo("crit header parameters are not understood");
        assertThat(refusal("a.b." + "x".repeat(KubernetesTokenAuthenticator.MAX_TOKEN_LENGTH))).isEqualTo(Refusal.MALFORMED);
    }

    @Test
    void refusalsAreUnauthenticatedWithoutTheToken() {
        String token = sign(rsa, orders().audience("vault").build());

        assertThatThrownBy(() -> authenticator.authenticate(new BootstrapCredential.ServiceAccountToken(token)))
                .isInstanceOfSatisfying(CaException.class, e -> {
                    assertThat(e.reason()).isEqualTo(CaException.Reason.UNAUTHENTICATED);
                    assertThat(e.getMessage()).isEqualTo("service-account token refused: wrong audience"
                            + " (aud '[vault]' does not include 'outrider')").doesNotContain(token);
                });
        assertThatThrownBy(() -> authenticator.authenticate(new BootstrapCredential.JoinToken("abc")))
                .isInstanceOf(CaException.class).hasMessage("a join token is not a service-account token");
        assertThat(new BootstrapCredential.ServiceAccountToken(token).toString()).doesNotContain(token);
    }

    @Test
    void bearerTokensAreToldApartByShape() {
        String jwt = sign(rsa, orders().build());
        assertThat(BootstrapCredential.fromBearer(jwt)).isEqualTo(new BootstrapCredential.ServiceAccountToken(jwt));
        String join = "k7F0c9k2mJ1q8XvQ_9pZ-3m1hTq0aW5rYb7sU4eLd2o";
        assertThat(BootstrapCredential.fromBearer(join)).isEqualTo(new BootstrapCredential.JoinToken(join));
    }
}
