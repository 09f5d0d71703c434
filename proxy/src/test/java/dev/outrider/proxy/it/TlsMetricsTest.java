package dev.outrider.proxy.it;

import dev.outrider.proxy.Sidecar;
import dev.outrider.proxy.tls.TestPki;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The TLS series are there before any handshake, and the expiry gauge follows the certificate in use. */
class TlsMetricsTest {
    @Test
    void seriesArePreRegisteredAndExpiryIsSecondsToNotAfter(@TempDir Path dir) throws Exception {
        TestPki.Ca mesh = TestPki.root("mesh root");
        TlsFiles files = TlsFiles.create(dir, TlsFiles.Layout.FILES);
        TestPki.Leaf leaf = mesh.leaf().spiffe(TestPki.spiffe("cluster.local", "shop", "orders")).issue();
        files.write(leaf, mesh);
        try (TestBackend backend = TestBackend.start();
             Sidecar orders = MeshSidecars.inbound("orders", backend.port(),
                     files.yaml(System.getProperty("outrider.test.tlsProvider", "auto")), "")) {
            long expected = leaf.cert().getNotAfter().toInstant().getEpochSecond() - System.currentTimeMillis() / 1000;
            double expiry = Metrics.sum(orders, "outrider_tls_certificate_expiry_seconds");
            assertThat(expiry).isBetween(expected - 60.0, expected + 1.0);
            long caExpected = mesh.cert().getNotAfter().toInstant().getEpochSecond() - System.currentTimeMillis() / 1000;
            assertThat(Metrics.sum(orders, "outrider_tls_trust_bundle_expiry_seconds")).as("the mesh CA's")
                    .isBetween(caExpected - 60.0, caExpected + 1.0);
            for (String reason : new String[] {"no_client_cert", "untrusted", "expired", "not_yet_valid",
                    "identity_mismatch", "protocol"}) {
                assertThat(Metrics.scrape(orders)).contains(
                        "outrider_tls_handshake_failures_total{direction=\"inbound\",reason=\"" + reason + "\"} 0.0");
            }
            assertThat(Metrics.sum(orders, "outrider_tls_reloads_total")).isZero();
        }
    }
}
