package dev.outrider.e2e;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A Service's {@code spec.protocol} reaches the callers' sidecars: with {@code http2}, the HTTP/1.1 requests of
 * frontend's application arrive at orders' sidecar over HTTP/2; once the Service says {@code auto}, over HTTP/1.1,
 * as the application sent them. Every part its own process on loopback; orders' access log tells the protocol
 * each request arrived with.
 */
class ServiceProtocolEndToEndTest {
    private static final String SERVICES = """
            apiVersion: outrider.dev/v1
            kind: Service
            metadata: {name: orders, namespace: shop}
            spec: {protocol: %s}
            ---
            apiVersion: outrider.dev/v1
            kind: Service
            metadata: {name: frontend, namespace: shop}
            ---
            apiVersion: outrider.dev/v1
            kind: AuthorizationPolicy
            metadata: {name: orders-allow-frontend, namespace: shop}
            spec:
              selector: {matchLabels: {app: orders}}
              action: ALLOW
              rules: [{from: [{source: {principals: ["cluster.local/ns/shop/sa/frontend"]}}]}]
            """;

    @TempDir
    Path dir;
    private final Started started = new Started();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();

    @AfterEach
    void stop() throws Exception {
        started.closeAndCheckLeaks();
        http.close();
    }

    @Test
    void theServicesProtocolDecidesHowTheCallersSidecarForwards() throws Exception {
        TestCa ca = TestCa.create(dir.resolve("ca"));
        ControlPlaneProcess cp = started.keep(ControlPlaneProcess.start(dir.resolve("cp"), MeshProcess.freePort(), ca));
        apply(cp, "http2");

        Backend backend = started.keep(Backend.start());
        SidecarProcess.Ports portsB = SidecarProcess.Ports.free();
        SidecarProcess.Ports portsA = SidecarProcess.Ports.free();
        String tokenB = cp.joinToken("orders");
        String tokenA = cp.joinToken("frontend");
        Path accessLog = dir.resolve("orders-access.log");
        started.keep(SidecarProcess.start(dir.resolve("b"), "orders", backend.port(), portsB, null, cp, tokenB,
                "accessLog: {enabled: true, path: '" + accessLog + "'}")).awaitReady(200);
        SidecarProcess a = started.keep(SidecarProcess.start(dir.resolve("a"), "frontend", 1, portsA, "orders", cp,
                tokenA)).awaitReady(200);
        a.awaitUpstreamStatus(http, "/first", 200);

        // Every request that reached orders came with frontend's snapshot, which had the Service's http2 from the start.
        assertThat(awaitInboundLines(accessLog, "/first"))
                .allSatisfy(line -> assertThat(line).contains("\"protocol\":\"HTTP/2\""));

        apply(cp, "auto");
        String last = null;
        for (int i = 0; i < 300; i++) { // until frontend's sidecar has applied the change
            String path = "/after-" + i;
            assertThat(get(a, path)).isEqualTo(200);
            last = awaitInboundLines(accessLog, path).getFirst();
            if (last.contains("\"protocol\":\"HTTP/1.1\"")) {
                break;
            }
            Thread.sleep(100);
        }
        assertThat(last).as("a request after the Service changed to auto").contains("\"protocol\":\"HTTP/1.1\"");
    }

    private void apply(ControlPlaneProcess cp, String protocol) throws Exception {
        Path file = dir.resolve("mesh-" + protocol + ".yaml");
        Files.writeString(file, SERVICES.formatted(protocol));
        Ctl applied = Ctl.run(dir, cp, "apply", "-f", file.toString());
        assertThat(applied.exitCode()).as(applied.output()).isZero();
    }

    private int get(SidecarProcess a, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(a.upstreamUrl(path))).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    /** orders' inbound access-log lines for {@code path}; the writer runs behind the response, so waits a little. */
    private static List<String> awaitInboundLines(Path accessLog, String path) throws Exception {
        for (int i = 0; i < 100; i++) {
            List<String> lines = inboundLines(accessLog, path);
            if (!lines.isEmpty()) {
                return lines;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no inbound access-log line for " + path + " in " + accessLog);
    }

    private static List<String> inboundLines(Path accessLog, String path) throws Exception {
        if (!Files.exists(accessLog)) {
            return List.of();
        }
        return Files.readAllLines(accessLog).stream()
                .filter(l -> l.contains("\"direction\":\"inbound\"") && l.contains("\"path\":\"" + path + "\""))
                .toList();
    }
}
