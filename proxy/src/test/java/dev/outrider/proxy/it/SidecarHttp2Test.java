package dev.outrider.proxy.it;

import dev.outrider.proxy.Sidecar;
import dev.outrider.proxy.tls.TestPki;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Between sidecars the traffic is HTTP/2 over few connections even when the caller and the application
 * only speak HTTP/1.1: sequential and concurrent HTTP/1.1 requests (the client opens a connection per
 * concurrent request) reach the receiving sidecar as streams of at most one mTLS connection per event loop of
 * the calling sidecar, and its access log records them as HTTP/2.
 */
class SidecarHttp2Test {
    private static final int SEQUENTIAL = 20;
    private static final int CONCURRENT = 16;
    /** {@code runtime.eventLoops} of the calling sidecar: upstream connections are pooled per event loop. */
    private static final int CALLER_EVENT_LOOPS = 2;

    @Test
    void http1ClientAndApplicationTalkHttp2BetweenSidecarsOverFewConnections(@TempDir Path dir) throws Exception {
        TestPki.Ca mesh = TestPki.root("mesh root");
        TlsFiles ordersFiles = TlsFiles.create(dir.resolve("orders"), TlsFiles.Layout.FILES);
        ordersFiles.write(mesh.leaf().spiffe(TestPki.spiffe("cluster.local", "shop", "orders")).issue(), mesh);
        TlsFiles frontendFiles = TlsFiles.create(dir.resolve("frontend"), TlsFiles.Layout.FILES);
        frontendFiles.write(mesh.leaf().spiffe(TestPki.spiffe("cluster.local", "shop", "frontend")).issue(), mesh);
        Path accessLog = dir.resolve("orders-access.log");
        String provider = System.getProperty("outrider.test.tlsProvider", "auto");
        try (TestBackend backend = TestBackend.start();
             Sidecar orders = MeshSidecars.inbound("orders", backend.port(), ordersFiles.yaml(provider),
                     "accessLog: {enabled: true, path: '" + accessLog + "'}");
             Sidecar frontend = MeshSidecars.outbound("frontend",
                     "- {name: orders, namespace: shop, endpoints: [\"127.0.0.1:%d\"]}"
                             .formatted(orders.inboundAddress().getPort()), frontendFiles.yaml(provider));
             HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
            HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + frontend.outboundAddress().getPort() + "/h2-between")).header("Host", "orders")
                    .timeout(Duration.ofSeconds(10)).build();

            for (int i = 0; i < SEQUENTIAL; i++) {
                assertThat(client.send(request, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
            }
            List<CompletableFuture<HttpResponse<String>>> inFlight = new ArrayList<>();
            for (int i = 0; i < CONCURRENT; i++) {
                inFlight.add(client.sendAsync(request, HttpResponse.BodyHandlers.ofString()));
            }
            for (CompletableFuture<HttpResponse<String>> f : inFlight) {
                assertThat(f.get().statusCode()).isEqualTo(200);
            }

            int total = SEQUENTIAL + CONCURRENT;
            assertThat(backend.requestCount()).isEqualTo(total);
            assertThat(Metrics.sum(frontend, "outrider_active_connections", "direction", "outbound"))
                    .as("downstream HTTP/1.1 connections to the caller's sidecar").isGreaterThan(1);
            double handshakes = Metrics.sum(orders, "outrider_tls_handshakes_total", "direction", "inbound",
                    "result", "success");
            assertThat(handshakes).as("mTLS connections the receiving sidecar accepted")
                    .isBetween(1.0, (double) CALLER_EVENT_LOOPS);
            assertThat(Metrics.sum(orders, "outrider_active_connections", "direction", "inbound"))
                    .isBetween(1.0, (double) CALLER_EVENT_LOOPS);
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> Files.exists(accessLog) && Files.readAllLines(accessLog).size() >= total);
            List<String> lines = Files.readAllLines(accessLog);
            assertThat(lines).hasSize(total)
                    .allSatisfy(line -> assertThat(line).contains("\"protocol\":\"HTTP/2\"")
                            .contains("\"direction\":\"inbound\""));
        }
    }
}
