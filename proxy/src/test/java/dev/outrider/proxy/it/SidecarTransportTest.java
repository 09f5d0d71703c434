package dev.outrider.proxy.it;

import dev.outrider.proxy.Sidecar;
import dev.outrider.proxy.tls.TestPki;
import io.netty.handler.codec.http.HttpMethod;
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
 * The protocol between two sidecars follows the service's {@code protocol}:
 * <ul>
 *   <li>{@code auto} (the default): the caller's. HTTP/1.1 callers go over pooled HTTP/1.1 keep-alive
 *       connections over mTLS (ALPN http/1.1): sequential requests reuse one connection, concurrent ones get
 *       a connection each, and the pool keeps them for the next burst. HTTP/2 callers go over h2.</li>
 *   <li>{@code h2c}: HTTP/2 whatever the caller speaks: sequential and concurrent HTTP/1.1 requests reach the
 *       receiving sidecar as streams of at most one mTLS connection per event loop of the calling
 *       sidecar.</li>
 * </ul>
 * The receiving sidecar's access log records the protocol each request arrived with.
 */
class SidecarTransportTest {
    private static final int SEQUENTIAL = 20;
    private static final int CONCURRENT = 16;
    /** {@code runtime.eventLoops} of the calling sidecar: upstream connections are pooled per event loop. */
    private static final int CALLER_EVENT_LOOPS = 2;

    @Test
    void http1ClientAndApplicationTalkHttp2BetweenSidecarsOverFewConnectionsWhenTheServiceSaysH2c(@TempDir Path dir)
            throws Exception {
        try (Mesh mesh = Mesh.start(dir, "protocol: h2c, ")) {
            mesh.sendSequential();
            mesh.sendConcurrent();

            int total = SEQUENTIAL + CONCURRENT;
            assertThat(mesh.backend.requestCount()).isEqualTo(total);
            assertThat(Metrics.sum(mesh.frontend, "outrider_active_connections", "direction", "outbound"))
                    .as("downstream HTTP/1.1 connections to the caller's sidecar").isGreaterThan(1);
            assertThat(mesh.inboundHandshakes()).as("mTLS connections the receiving sidecar accepted")
                    .isBetween(1.0, (double) CALLER_EVENT_LOOPS);
            assertThat(Metrics.sum(mesh.orders, "outrider_active_connections", "direction", "inbound"))
                    .isBetween(1.0, (double) CALLER_EVENT_LOOPS);
            assertThat(mesh.accessLog(total)).hasSize(total)
                    .allSatisfy(line -> assertThat(line).contains("\"protocol\":\"HTTP/2\"")
                            .contains("\"direction\":\"inbound\""));
        }
    }

    @Test
    void http1ClientsGoOverPooledHttp1BetweenSidecarsByDefault(@TempDir Path dir) throws Exception {
        try (Mesh mesh = Mesh.start(dir, "")) {
            mesh.sendSequential();
            assertThat(mesh.inboundHandshakes()).as("sequential requests reuse one pooled connection")
                    .isEqualTo(1.0);

            mesh.sendConcurrent();
            double afterBurst = mesh.inboundHandshakes();
            assertThat(afterBurst).as("concurrent requests: a connection each, the pooled one reused")
                    .isGreaterThan(1.0).isLessThanOrEqualTo(CONCURRENT + 1.0);

            mesh.sendSequential();
            mesh.sendConcurrent();
            assertThat(mesh.inboundHandshakes())
                    .as("the second round finds the pooled connections of the first, at most a few more")
                    .isLessThan(afterBurst + CONCURRENT);

            int total = 2 * (SEQUENTIAL + CONCURRENT);
            assertThat(mesh.backend.requestCount()).isEqualTo(total);
            assertThat(mesh.accessLog(total)).hasSize(total)
                    .allSatisfy(line -> assertThat(line).contains("\"protocol\":\"HTTP/1.1\"")
                            .contains("\"direction\":\"inbound\"").contains("\"status\":200"));
        }
    }

    @Test
    void theCallerKeepsAtMostMaxIdlePerEndpointIdleConnectionsPerEventLoop(@TempDir Path dir) throws Exception {
        try (Mesh mesh = Mesh.start(dir, "", "upstream: {maxIdlePerEndpoint: 1}")) {
            mesh.sendConcurrent();
            assertThat(mesh.inboundHandshakes()).as("a connection per concurrent request, on both event loops")
                    .isGreaterThan((double) CALLER_EVENT_LOOPS);
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(
                    Metrics.sum(mesh.orders, "outrider_active_connections", "direction", "inbound"))
                    .as("connections the caller kept idle: one per event loop").isBetween(1.0,
                            (double) CALLER_EVENT_LOOPS));
            double kept = mesh.inboundHandshakes();
            mesh.sendSequential();
            assertThat(mesh.inboundHandshakes()).as("sequential requests reuse a kept connection").isEqualTo(kept);
        }
    }

    @Test
    void http2ClientsGoOverHttp2BetweenSidecarsByDefault(@TempDir Path dir) throws Exception {
        try (Mesh mesh = Mesh.start(dir, "");
             H2Client client = new H2Client(mesh.frontend.outboundAddress())) {
            List<CompletableFuture<H2Client.Response>> responses = new ArrayList<>();
            for (int i = 0; i < CONCURRENT; i++) {
                responses.add(client.send(H2Client.request(HttpMethod.GET, "/h2-caller/" + i, "orders", "")));
            }
            for (CompletableFuture<H2Client.Response> r : responses) {
                assertThat(r.join().status().code()).isEqualTo(200);
            }
            assertThat(mesh.inboundHandshakes()).as("one HTTP/2 connection carries the caller's streams")
                    .isEqualTo(1.0);
            assertThat(mesh.accessLog(CONCURRENT)).hasSize(CONCURRENT)
                    .allSatisfy(line -> assertThat(line).contains("\"protocol\":\"HTTP/2\""));
        }
    }

    /** A caller's sidecar (frontend) and a receiving sidecar (orders) in front of a backend, over mTLS. */
    private record Mesh(TestBackend backend, Sidecar orders, Sidecar frontend, HttpClient client, Path accessLog)
            implements AutoCloseable {
        static Mesh start(Path dir, String protocolField) throws Exception {
            return start(dir, protocolField, "");
        }

        /** {@code callerYaml}: more top-level sections of the caller's bootstrap file. */
        static Mesh start(Path dir, String protocolField, String callerYaml) throws Exception {
            TestPki.Ca mesh = TestPki.root("mesh root");
            TlsFiles ordersFiles = TlsFiles.create(dir.resolve("orders"), TlsFiles.Layout.FILES);
            ordersFiles.write(mesh.leaf().spiffe(TestPki.spiffe("cluster.local", "shop", "orders")).issue(), mesh);
            TlsFiles frontendFiles = TlsFiles.create(dir.resolve("frontend"), TlsFiles.Layout.FILES);
            frontendFiles.write(mesh.leaf().spiffe(TestPki.spiffe("cluster.local", "shop", "frontend")).issue(),
                    mesh);
            Path accessLog = dir.resolve("orders-access.log");
            String provider = System.getProperty("outrider.test.tlsProvider", "auto");
            TestBackend backend = TestBackend.start();
            Sidecar orders = MeshSidecars.inbound("orders", backend.port(), ordersFiles.yaml(provider),
                    "accessLog: {enabled: true, path: '" + accessLog + "'}");
            Sidecar frontend = MeshSidecars.outbound("frontend",
                    "- {name: orders, namespace: shop, %sendpoints: [\"127.0.0.1:%d\"]}"
                            .formatted(protocolField, orders.inboundAddress().getPort()),
                    frontendFiles.yaml(provider) + "\n" + callerYaml);
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            return new Mesh(backend, orders, frontend, client, accessLog);
        }

        HttpRequest request() {
            return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + frontend.outboundAddress().getPort()
                    + "/between")).header("Host", "orders").timeout(Duration.ofSeconds(10)).build();
        }

        void sendSequential() throws Exception {
            for (int i = 0; i < SEQUENTIAL; i++) {
                assertThat(client.send(request(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
            }
        }

        /** Concurrent requests: the JDK client opens a connection per request in flight. */
        void sendConcurrent() throws Exception {
            List<CompletableFuture<HttpResponse<String>>> inFlight = new ArrayList<>();
            for (int i = 0; i < CONCURRENT; i++) {
                inFlight.add(client.sendAsync(request(), HttpResponse.BodyHandlers.ofString()));
            }
            for (CompletableFuture<HttpResponse<String>> f : inFlight) {
                assertThat(f.get().statusCode()).isEqualTo(200);
            }
        }

        double inboundHandshakes() {
            return Metrics.sum(orders, "outrider_tls_handshakes_total", "direction", "inbound",
                    "result", "success");
        }

        List<String> accessLog(int lines) throws Exception {
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> Files.exists(accessLog) && Files.readAllLines(accessLog).size() >= lines);
            return Files.readAllLines(accessLog);
        }

        @Override
        public void close() throws Exception {
            client.close();
            frontend.close();
            orders.close();
            backend.close();
        }
    }
}
