package dev.outrider.proxy.process;

import com.sun.net.httpserver.HttpServer;
import dev.outrider.proxy.tls.TestPki;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real sidecar process where netty-tcnative is switched off ({@code io.netty.handler.ssl.noOpenSsl}, the
 * property Netty's {@code OpenSsl} reads) and {@code tls.provider: auto}: it starts on the JDK's TLS
 * provider, says so in exactly one warning, and still serves mTLS callers.
 */
class ProviderFallbackProcessTest {
    private static final String CALLER = TestPki.spiffe("cluster.local", "test", "caller");

    @Test
    void withoutBoringSslAutoFallsBackToTheJdkWithOneWarningAndServesMtls(@TempDir Path dir) throws Exception {
        TestPki.Ca mesh = TestPki.root("mesh root");
        String tls = SidecarProcess.meshTls(dir, mesh, "auto");
        HttpServer backend = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        backend.createContext("/", ex -> {
            byte[] body = String.valueOf(ex.getRequestHeaders().getFirst("x-forwarded-client-cert"))
                    .getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        });
        backend.start();
        try (SidecarProcess sidecar = SidecarProcess.start(dir, backend.getAddress().getPort(), "",
                List.of("-Dio.netty.handler.ssl.noOpenSsl=true"), tls)) {
            String response = SidecarProcess.getOverMtls(sidecar.inboundPort, mesh, mesh.leaf().spiffe(CALLER).issue());

            assertThat(response).startsWith("HTTP/1.1 200").contains(";URI=" + CALLER);
            List<String> jdkWarnings = sidecar.logText().lines()
                    .filter(l -> l.contains(" WARN ") && l.contains("JDK")).toList();
            assertThat(jdkWarnings).hasSize(1);
            assertThat(jdkWarnings.getFirst()).contains("BoringSSL").contains("using the JDK's TLS provider");
            assertThat(sidecar.logText()).contains("provider JDK");
            sidecar.assertNoLeaks();
        } finally {
            backend.stop(0);
        }
    }
}
