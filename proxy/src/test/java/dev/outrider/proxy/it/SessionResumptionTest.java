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
}
