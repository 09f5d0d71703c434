package dev.outrider.proxy.tls;

import dev.outrider.core.model.SpiffeId;
import dev.outrider.proxy.config.TlsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Loading and checking the workload's own TLS material: every key format, every refusal and its field. */
class TlsMaterialTest {
    private static final String ORDERS = "spiffe://cluster.local/ns/shop/sa/orders";
    private static final SpiffeId ID = SpiffeId.parse(ORDERS);

    @TempDir
    Path dir;
    private final TestPki.Ca root = TestPki.root("root");

    private TlsConfig config() {
        return new TlsConfig(TlsConfig.TlsMode.MTLS, dir.resolve("cert.pem"), dir.resolve("key.pem"),
                dir.resolve("bundle.pem"), TlsConfig.TlsVersion.TLS_1_3, TlsConfig.TlsProvider.JDK,
                Duration.ofSeconds(10), Duration.ofSeconds(2), Duration.ofHours(1));
    }

    private TestPki.Leaf write(TestPki.Leaf leaf) {
        leaf.writeTo(dir.resolve("cert.pem"), dir.resolve("key.pem"));
        root.writeBundle(dir.resolve("bundle.pem"));
        return leaf;
    }

    @Test
    void loadsEcPkcs8AndReportsIdentityExpiryAndFingerprint() throws Exception {
        TestPki.Leaf leaf = write(root.leaf().spiffe(ORDERS).issue());
        TlsMaterial m = TlsMaterial.load(config(), ID);
        assertThat(m.identity()).isEqualTo(ID);
        assertThat(m.leaf()).isEqualTo(leaf.cert());
        assertThat(m.notAfter()).isEqualTo(leaf.cert().getNotAfter().toInstant());
        assertThat(m.fingerprint()).hasSize(64).isEqualTo(TlsMaterial.fingerprint(config()));
    }

    @Test
    void readsSec1AndPkcs1KeysAndChainsThroughAnIntermediate() throws Exception {
        TestPki.Leaf ec = write(root.intermediate("issuing").leaf().spiffe(ORDERS).issue());
        ec.writeKeySec1(dir.resolve("key.pem"));
        assertThat(Files.readString(dir.resolve("key.pem"))).contains("BEGIN " + "EC PRIVATE KEY");
        assertThat(TlsMaterial.load(config(), ID).chain()).hasSize(2);

        TestPki.Leaf rsa = write(root.leaf().spiffe(ORDERS).rsa().issue());
        rsa.writeKeyPkcs1(dir.resolve("key.pem"));
        assertThat(Files.readString(dir.resolve("key.pem"))).contains("BEGIN " + "RSA PRIVATE KEY");
        assertThat(TlsMaterial.load(config(), ID).key().getAlgorithm()).isEqualTo("RSA");
    }

    @Test
    void aKeyThatDoesNotMatchIsRefused() throws Exception {
        write(root.leaf().spiffe(ORDERS).issue());
        root.leaf().spiffe(ORDERS).issue().writeTo(dir.resolve("other-cert.pem"), dir.resolve("key.pem"));
        assertRefused("tls.privateKey", TlsMaterialException.Reason.KEY_MISMATCH, "does not match");
    }

    @Test
    void expiredAndNotYetValidAreRefused() {
        write(root.leaf().spiffe(ORDERS).notBefore(Instant.now().minusSeconds(7200))
                .notAfter(Instant.now().minusSeconds(60)).issue());
        assertRefused("tls.certificate", TlsMaterialException.Reason.EXPIRED, "expired");
        write(root.leaf().spiffe(ORDERS).notBefore(Instant.now().plusSeconds(3600)).issue());
        assertRefused("tls.certificate", TlsMaterialException.Reason.NOT_YET_VALID, "not valid before");
    }

    @Test
    void anotherIdentityOrNoSpiffeIdIsRefused() {
        write(root.leaf().spiffe("spiffe://cluster.local/ns/shop/sa/billing").issue());
        assertRefused("tls.certificate", TlsMaterialException.Reason.WRONG_IDENTITY,
                "certificate is for spiffe://cluster.local/ns/shop/sa/billing");
        write(root.leaf().dns("orders.shop").issue());
        assertRefused("tls.certificate", TlsMaterialException.Reason.WRONG_IDENTITY, "exactly one URI SAN");
    }

    @Test
    void aCertificateOnlyForServersIsRefused() {
        write(root.leaf().spiffe(ORDERS).extendedKeyUsage(true, false).issue());
        assertRefused("tls.trustBundle", TlsMaterialException.Reason.UNTRUSTED, "clientAuth");
    }

    @Test
    void aBundleWithoutTheIssuerIsRefused() {
        write(root.leaf().spiffe(ORDERS).issue());
        TestPki.root("another").writeBundle(dir.resolve("bundle.pem"));
        assertRefused("tls.trustBundle", TlsMaterialException.Reason.UNTRUSTED, "does not chain");
    }

    @Test
    void garbageAndMissingFilesNameTheField() throws Exception {
        write(root.leaf().spiffe(ORDERS).issue());
        Files.writeString(dir.resolve("cert.pem"), "not pem");
        assertRefused("tls.certificate", TlsMaterialException.Reason.BAD_PEM, "not a PEM certificate chain");
        write(root.leaf().spiffe(ORDERS).issue());
        Files.writeString(dir.resolve("key.pem"), "-----BEGIN " + "ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END " + "ENCRYPTED PRIVATE KEY-----\n");
        assertRefused("tls.privateKey", TlsMaterialException.Reason.BAD_PEM, "");
        Files.delete(dir.resolve("bundle.pem"));
        assertRefused("tls.trustBundle", TlsMaterialException.Reason.UNREADABLE, "no such file");
    }

    private void assertRefused(String field, TlsMaterialException.Reason reason, String message) {
        assertThatThrownBy(() -> TlsMaterial.load(config(), ID))
                .isInstanceOfSatisfying(TlsMaterialException.class, e -> {
                    assertThat(e.field()).isEqualTo(field);
                    assertThat(e.reason()).isEqualTo(reason);
                    assertThat(e.getMessage()).startsWith(field + ": ").contains(message);
                });
    }
}
