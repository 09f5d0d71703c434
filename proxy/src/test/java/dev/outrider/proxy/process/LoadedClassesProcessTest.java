package dev.outrider.proxy.process;

import com.sun.net.httpserver.HttpServer;
import dev.outrider.proxy.tls.TestPki;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The sidecar loads only what it runs: a real sidecar process with mTLS (PEM certificate, key and bundle) serves
 * a request, and its class-loading log ({@code -Xlog:class+load}) shows none of the libraries that a sidecar
 * does not need on that path. Each line of {@link #NOT_LOADED} is a cost measured in bench/RESULTS.md
 * ("Memory and start-up").
 */
class LoadedClassesProcessTest {
    /** Class-name prefixes that must not appear, with why. */
    private static final List<String> NOT_LOADED = List.of(
            // Logback's XML configurator (Joran) and its model: SidecarLogging configures in code. (Only
            // JoranException, named in a signature of Logback's initializer, is loaded from Joran.)
            "ch.qos.logback.classic.joran.", "ch.qos.logback.core.joran.action.", "ch.qos.logback.core.model.",
            "com.sun.org.apache.xerces.", // the JDK's XML parser, which only Joran needed
            // A signed jar (the JDK verifies each class it loads; an AOT cache cannot archive them): the JDK
            // reads the PKCS#8 keys and certificates (core's Pem), BouncyCastle only SEC1 and PKCS#1 key files.
            "org.bouncycastle.",
            // The OpenTelemetry SDK and its OTLP exporter: tracing is off by default (tracing.enabled).
            "io.opentelemetry.");

    @Test
    void anMtlsSidecarServingARequestLoadsNoneOfTheLibrariesItDoesNotRun(@TempDir Path dir) throws Exception {
        TestPki.Ca mesh = TestPki.root("mesh root");
        String tls = SidecarProcess.meshTls(dir, mesh, "auto");
        HttpServer backend = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        backend.createContext("/", ex -> {
            byte[] body = "ok".getBytes(StandardCharsets.US_ASCII);
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        });
        backend.start();
        Path classes = dir.resolve("classes.log");
        try (SidecarProcess sidecar = SidecarProcess.start(dir, backend.getAddress().getPort(), "",
                List.of("-Xlog:class+load=info:file=" + classes), tls)) {
            String response = SidecarProcess.getOverMtls(sidecar.inboundPort, mesh,
                    mesh.leaf().spiffe(TestPki.spiffe("cluster.local", "test", "caller")).issue());
            assertThat(response).startsWith("HTTP/1.1 200");

            List<String> loaded = Files.readAllLines(classes).stream()
                    .map(l -> l.replaceFirst("^\\[[^]]*]\\[[^]]*]\\[[^]]*] ", ""))
                    .map(l -> l.split(" ", 2)[0])
                    .toList();
            assertThat(loaded).as("the log records the sidecar's own classes")
                    .contains("dev.outrider.proxy.SidecarMain", "dev.outrider.proxy.runtime.SidecarLogging");
            for (String prefix : NOT_LOADED) {
                assertThat(loaded).as("classes starting with %s", prefix).noneMatch(c -> c.startsWith(prefix));
            }
            // The operational log as configured in code: ISO-8601 time, level, thread, logger, message.
            assertThat(sidecar.logText()).containsPattern("(?m)^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}"
                    + "(Z|[+-]\\d\\d:\\d\\d) INFO  \\[main] dev\\.outrider\\.proxy\\.SidecarMain - outrider proxy ready");
            sidecar.assertNoLeaks();
        } finally {
            backend.stop(0);
        }
    }
}
