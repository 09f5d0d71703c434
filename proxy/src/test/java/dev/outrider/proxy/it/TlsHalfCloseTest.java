package dev.outrider.proxy.it;

import dev.outrider.proxy.Sidecar;
import dev.outrider.proxy.tls.TestPki;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * TLS 1.3 makes close_notify a half-close (RFC 8446 §6.1): a caller may send its request, then close_notify
 * and FIN, and still read the response. The inbound listener answers it with the JDK's TLS provider. With
 * BoringSSL it cannot: netty-tcnative's engine closes its sending side too when it receives close_notify (the
 * TLS 1.2 reading), so nothing can be written after it; sidecars never half-close their connections to each
 * other, so this only concerns other mTLS clients. Runs in the {@code tls-jdk} execution.
 */
class TlsHalfCloseTest {
    @Test
    void aRequestFollowedByCloseNotifyAndFinIsAnswered(@TempDir Path dir) throws Exception {
        String provider = System.getProperty("outrider.test.tlsProvider", "auto");
        assumeTrue(provider.equals("jdk"), "BoringSSL's engine cannot write after the peer's close_notify");
        TestPki.Ca mesh = TestPki.root("mesh root");
        TlsFiles files = TlsFiles.create(dir.resolve("orders"), TlsFiles.Layout.FILES);
        files.write(mesh.leaf().spiffe(TestPki.spiffe("cluster.local", "shop", "orders")).issue(), mesh);
        TestPki.Leaf caller = mesh.leaf().spiffe(TestPki.spiffe("cluster.local", "shop", "frontend")).issue();
        try (TestBackend backend = TestBackend.start();
             Sidecar orders = MeshSidecars.inbound("orders", backend.port(), files.yaml(provider), "");
             RawHttp s = RawHttp.mtls(orders.inboundAddress(), caller, "http/1.1")) {
            s.send("GET /tls-half-close HTTP/1.1\r\nHost: orders\r\n\r\n");
            s.shutdownOutput(); // TLS 1.3: close_notify, then FIN

            String response = s.readToEof();
            assertThat(response).startsWith("HTTP/1.1 200 ")
                    .endsWith("\r\n\r\n0 " + TestBackend.sha256(new byte[0]));
            assertThat(backend.take().uri()).isEqualTo("/tls-half-close");
            assertThat(backend.requestCount()).isEqualTo(1);
        }
    }
}
