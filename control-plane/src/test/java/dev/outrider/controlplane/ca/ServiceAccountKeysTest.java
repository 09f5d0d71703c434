package dev.outrider.controlplane.ca;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.nimbusds.jose.jwk.JWKSet;
import dev.outrider.controlplane.ca.KubernetesTokenAuthenticator.Outcome;
import dev.outrider.controlplane.ca.KubernetesTokenAuthenticator.Refusal;
import dev.outrider.controlplane.testing.KubernetesIssuer;
import dev.outrider.controlplane.testing.KubernetesIssuer.SigningKey;
import dev.outrider.controlplane.testing.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import static dev.outrider.controlplane.testing.KubernetesIssuer.claims;
import static dev.outrider.controlplane.testing.KubernetesIssuer.sign;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The issuer's JWK Set file: read at start (refused with the file named when unusable), re-read when it changes
 * (key rotation), the previous keys kept while a changed file is unusable.
 */
class ServiceAccountKeysTest {
    @TempDir
    Path dir;
    private final MutableClock clock = new MutableClock(Instant.parse("2026-05-01T10:00:00Z"));
    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
    private final Logger logger = (Logger) LoggerFactory.getLogger(ServiceAccountKeys.class);

    @BeforeEach
    void captureLogs() {
        logs.start();
        logger.addAppender(logs);
    }

    @AfterEach
    void releaseLogs() {
        logger.detachAppender(logs);
    }

    private String token(SigningKey key) {
        return sign(key, claims("shop", "orders", "orders-1", clock.instant()).build());
    }

    private KubernetesTokenAuthenticator authenticator(Path jwks) {
        return KubernetesTokenAuthenticator.load(KubernetesIssuer.ISSUER, jwks, "outrider", "cluster.local", clock);
    }

    private static boolean accepted(KubernetesTokenAuthenticator a, String token) {
        return a.verify(token) instanceof Outcome.Accepted;
    }

    private static Refusal refusal(KubernetesTokenAuthenticator a, String token) {
        return ((Outcome.Refused) a.verify(token)).refusal();
    }

    @Test
    void rotatedKeysAreUsedFromTheNextTokenOn() throws Exception {
        SigningKey old = KubernetesIssuer.rsa("2026-04");
        SigningKey next = KubernetesIssuer.ec("2026-05");
        Path jwks = KubernetesIssuer.writeJwks(dir.resolve("jwks.json"), old);
        KubernetesTokenAuthenticator a = authenticator(jwks);
        assertThat(accepted(a, token(old))).isTrue();
        assertThat(refusal(a, token(next))).isEqualTo(Refusal.UNKNOWN_KEY);

        // The cluster publishes the new key next to the old one (a ConfigMap update: a new file moved in place).
        KubernetesIssuer.writeJwks(jwks, old, next);
        assertThat(accepted(a, token(next))).isTrue();
        assertThat(accepted(a, token(old))).isTrue();

        // The old key is retired: its tokens are refused from now on (the file rewritten in place this time).
        Files.writeString(jwks, new JWKSet(List.of(next.publicJwk())).toString());
        assertThat(refusal(a, token(old))).isEqualTo(Refusal.UNKNOWN_KEY);
        assertThat(accepted(a, token(next))).isTrue();
        assertThat(logs.list).extracting(ILoggingEvent::getFormattedMessage)
                .anyMatch(m -> m.contains("changed; 1 key(s) in use: [2026-05]"));
    }

    @Test
    void anUnusableChangeKeepsThePreviousKeysAndIsLoggedOnce() throws Exception {
        SigningKey key = KubernetesIssuer.ec("k1");
        Path jwks = KubernetesIssuer.writeJwks(dir.resolve("jwks.json"), key);
        KubernetesTokenAuthenticator a = authenticator(jwks);

        Files.writeString(jwks, "{\"keys\": [");
        assertThat(accepted(a, token(key))).isTrue();
        assertThat(accepted(a, token(key))).isTrue();
        Files.delete(jwks);
        assertThat(accepted(a, token(key))).isTrue();
        assertThat(accepted(a, token(key))).isTrue();

        List<String> warnings = logs.list.stream().map(ILoggingEvent::getFormattedMessage)
                .filter(m -> m.contains("keeping the 1 key(s) read before")).toList();
        assertThat(warnings).hasSize(2);
        assertThat(warnings.get(0)).contains(jwks + " is not a JWK Set");
        assertThat(warnings.get(1)).contains("cannot read " + jwks);

        SigningKey next = KubernetesIssuer.ec("k2");
        KubernetesIssuer.writeJwks(jwks, next);
        assertThat(accepted(a, token(next))).isTrue();
        assertThat(refusal(a, token(key))).isEqualTo(Refusal.UNKNOWN_KEY);
    }

    @Test
    void unusableFilesAreRefusedAtStartNamingTheFile() throws Exception {
        Path missing = dir.resolve("missing.json");
        assertThatThrownBy(() -> ServiceAccountKeys.load(missing))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("cannot read " + missing);

        Path garbage = Files.writeString(dir.resolve("garbage.json"), "not json");
        assertThatThrownBy(() -> ServiceAccountKeys.load(garbage)).hasMessageStartingWith(garbage + " is not a JWK Set");

        SigningKey rsa = KubernetesIssuer.rsa("r1");
        Path privateSet = Files.writeString(dir.resolve("private.json"), new JWKSet(rsa.jwk()).toString(false));
        assertThatThrownBy(() -> ServiceAccountKeys.load(privateSet))
                .hasMessage(privateSet + ": key 'r1' has a private part; give the control plane the issuer's public"
                        + " keys only");

        Path empty = Files.writeString(dir.resolve("empty.json"), "{\"keys\": []}");
        assertThatThrownBy(() -> ServiceAccountKeys.load(empty))
                .hasMessage(empty + " holds no usable key (RSA of 2048 bits or more for RS256, EC P-256 for ES256)");

        Path twice = KubernetesIssuer.writeJwks(dir.resolve("twice.json"), rsa, KubernetesIssuer.rsa("r1"));
        assertThatThrownBy(() -> ServiceAccountKeys.load(twice)).hasMessage(twice + ": key 'r1' is listed twice");
    }

    @Test
    void keysThatCannotSignTokensAreSkipped() throws Exception {
        SigningKey ec = KubernetesIssuer.ec("sig");
        com.nimbusds.jose.jwk.RSAKey rsa = new com.nimbusds.jose.jwk.gen.RSAKeyGenerator(2048).keyID("rsa").generate();
        // 1024-bit RSA (allowed only because the generator is told so) and an encryption key.
        com.nimbusds.jose.jwk.RSAKey weak = new com.nimbusds.jose.jwk.gen.RSAKeyGenerator(1024, true)
                .keyID("weak").generate();
        com.nimbusds.jose.jwk.RSAKey enc = new com.nimbusds.jose.jwk.gen.RSAKeyGenerator(2048)
                .keyID("enc").keyUse(com.nimbusds.jose.jwk.KeyUse.ENCRYPTION).generate();
        Path file = Files.writeString(dir.resolve("mixed.json"), new JWKSet(List.of(ec.publicJwk(),
                rsa.toPublicJWK(), weak.toPublicJWK(), enc.toPublicJWK())).toString());

        ServiceAccountKeys.Keys keys = ServiceAccountKeys.load(file).current();

        assertThat(keys.byKeyId().keySet()).containsExactlyInAnyOrder("sig", "rsa");
    }
}
