package dev.outrider.proxy.it;

import dev.outrider.proxy.Sidecar;
import dev.outrider.proxy.tls.TestPki;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslProvider;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A caller that reconnects resumes its TLS session (a ticket sealed with the sidecar's ticket keys on
 * BoringSSL, the JDK's own stateless tickets otherwise) and is still served as the same identity: the
 * resumed connection reaches the application with the caller's SPIFFE ID in X-Forwarded-Client-Cert.
 * The client is BoringSSL, whose {@code SSL_session_reused} tells a resumed handshake from a full one.
 */
class SessionResumptionTest {
    private static final String FRONTEND = "spiffe://cluster.local/ns/shop/sa/frontend";

    @ParameterizedTest(name = "server {0}")
    @ValueSource(strings = {"openssl", "jdk"})
    void secondConnectionResumesAndKeepsTheCallerIdentity(String serverProvider, @TempDir Path dir) throws Exception {
        TestPki.Ca mesh = TestPki.root("mesh root");
        TlsFiles files = TlsFiles.create(dir, TlsFiles.Layout.FILES);
        files.write(mesh.leaf().spiffe(TestPki.spiffe("cluster.local", "shop", "orders")).issue(), mesh);
        SslContext ctx = TlsTestClient.context(SslProvider.OPENSSL, mesh.leaf().spiffe(FRONTEND).issue());
        try (TestBackend backend = TestBackend.start();
             Sidecar orders = MeshSidecars.inbound("orders", backend.port(), files.yaml(serverProvider), "");
             TlsTestClient client = new TlsTestClient()) {
            TlsTestClient.Response first = client.get(orders.inboundAddress(), ctx, "/first", Map.of());
            TlsTestClient.Response second = client.get(orders.inboundAddress(), ctx, "/second", Map.of());

            assertThat(first.status()).isEqualTo(200);
            assertThat(first.resumed()).as("first handshake").isFalse();
            assertThat(second.status()).isEqualTo(200);
            assertThat(second.resumed()).as("second handshake resumed").isTrue();
            backend.take();
            assertThat(backend.take().headers().get("x-forwarded-client-cert")).endsWith(";URI=" + FRONTEND);
            assertThat(Metrics.sum(orders, "outrider_tls_handshakes_total", "direction", "inbound",
                    "result", "success")).isEqualTo(2);
        }
    }

    /**
     * After the trust bundle drops the root a caller's certificate came from, that caller cannot come back
     * through a resumed session (which would skip the certificate check): new material means new ticket keys
     * and a fresh session cache, so its reconnection is a full handshake and is refused.
     */
    @ParameterizedTest(name = "server {0}")
    @ValueSource(strings = {"openssl", "jdk"})
    void aRemovedRootCannotComeBackThroughResumption(String serverProvider, @TempDir Path dir) throws Exception {
        TestPki.Ca oldRoot = TestPki.root("old root");
        TestPki.Ca newRoot = TestPki.root("new root");
        TlsFiles files = TlsFiles.create(dir, TlsFiles.Layout.FILES);
        files.write(oldRoot.leaf().spiffe(TestPki.spiffe("cluster.local", "shop", "orders")).issue(), oldRoot);
        SslContext ctx = TlsTestClient.context(SslProvider.OPENSSL, oldRoot.leaf().spiffe(FRONTEND).issue());
        try (TestBackend backend = TestBackend.start();
             Sidecar orders = MeshSidecars.inbound("orders", backend.port(),
                     files.yaml(serverProvider), "");
             TlsTestClient client = new TlsTestClient()) {
            assertThat(client.get(orders.inboundAddress(), ctx, "/before", Map.of()).status()).isEqualTo(200);

            double reloads = Metrics.sum(orders, "outrider_tls_reloads_total");
            files.write(newRoot.leaf().spiffe(TestPki.spiffe("cluster.local", "shop", "orders")).issue(), newRoot);
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
                    .until(() -> Metrics.sum(orders, "outrider_tls_reloads_total") > reloads);

            assertThatThrownBy(() -> client.get(orders.inboundAddress(), ctx, "/after", Map.of()))
                    .as("the old root's caller is refused, not resumed");
            assertThat(Metrics.sum(orders, "outrider_tls_handshake_failures_total", "direction", "inbound",
                    "reason", "untrusted")).isEqualTo(1);
        }
    }
}
