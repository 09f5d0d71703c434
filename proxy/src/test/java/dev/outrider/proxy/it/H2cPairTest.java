package dev.outrider.proxy.it;

import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * h2c with prior knowledge from a Netty client through the pair: HTTP/2 end to end to an h2c backend
 * (every hop {@code auto}), and down-converted to HTTP/1.1 for an HTTP/1.1 backend; concurrent streams on
 * one connection; a gRPC-shaped exchange whose trailers arrive intact.
 */
class H2cPairTest {
    private static TestBackend h2Backend;
    private static TestBackend h1Backend;
    private static SidecarPair toH2;
    private static SidecarPair toH1;

    @BeforeAll
    static void start() throws Exception {
        h2Backend = TestBackend.start();
        h1Backend = TestBackend.start();
        toH2 = SidecarPair.start(h2Backend.port(), "auto");
        toH1 = SidecarPair.start(h1Backend.port(), "http1");
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[] {toH2, toH1, h2Backend, h1Backend}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }

    @Test
    void h2cEndToEndWithConcurrentStreams() throws Exception {
        concurrentStreams(toH2, h2Backend, "HTTP/2");
    }

    @Test
    void h2cCallerToHttp11Application() throws Exception {
        concurrentStreams(toH1, h1Backend, "HTTP/1.1");
    }

    private static void concurrentStreams(SidecarPair pair, TestBackend backend, String backendProtocol)
            throws Exception {
        backend.clear();
        int n = 12;
        try (H2Client client = new H2Client(pair.outbound())) {
            List<CompletableFuture<H2Client.Response>> responses = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                String body = "stream-" + i;
                responses.add(client.send(H2Client.request(HttpMethod.POST, "/echo/" + i, "orders.shop", body)));
            }
            for (int i = 0; i < n; i++) {
                H2Client.Response r = responses.get(i).join();
                byte[] sent = ("stream-" + i).getBytes(StandardCharsets.UTF_8);
                assertThat(r.status().code()).isEqualTo(200);
                assertThat(r.body()).isEqualTo(sent.length + " " + TestBackend.sha256(sent));
            }
        }
        Set<String> uris = new HashSet<>();
        for (int i = 0; i < n; i++) {
            TestBackend.Received seen = backend.take();
            assertThat(seen.protocol()).isEqualTo(backendProtocol);
            assertThat(seen.headers().get("x-request-id")).isNotBlank();
            assertThat(seen.headers().get("x-forwarded-proto")).as("B sets it from its own mTLS listener")
                    .isEqualTo("https");
            uris.add(seen.uri());
        }
        assertThat(uris).hasSize(n);
    }

    @Test
    void grpcShapedExchangeKeepsTrailersEndToEnd() throws Exception {
        h2Backend.clear();
        try (H2Client client = new H2Client(toH2.outbound())) {
            FullHttpRequest request = H2Client.request(HttpMethod.POST, "/trailers", "orders", "\0\0\0\0\0");
            request.headers().set("content-type", "application/grpc").set("te", "trailers");
            H2Client.Response r = client.send(request).join();

            assertThat(r.status().code()).isEqualTo(200);
            assertThat(r.headers().get("content-type")).isEqualTo("application/grpc");
            assertThat(r.body()).isEqualTo("hello");
            assertThat(r.trailers().get("grpc-status")).isEqualTo("0");
            assertThat(r.trailers().get("grpc-message")).isEqualTo("all good");
        }
        TestBackend.Received seen = h2Backend.take();
        assertThat(seen.protocol()).isEqualTo("HTTP/2");
        assertThat(seen.headers().get("te")).isEqualTo("trailers");
        for (var side : new Object[][] {{toH2.a, "outbound"}, {toH2.b, "inbound"}}) {
            assertThat(Metrics.sum((dev.outrider.proxy.Sidecar) side[0], "outrider_mesh_requests_total", "direction",
                    (String) side[1], "destination_service", "orders.shop", "response_code", "200",
                    "grpc_response_status", "0")).as("counted with its gRPC status, %s", side[1]).isEqualTo(1);
        }
        assertThat(seen.headers().get("content-type")).isEqualTo("application/grpc");
    }

    @Test
    void unknownServiceOverH2GetsA404Stream() throws Exception {
        try (H2Client client = new H2Client(toH2.outbound())) {
            H2Client.Response r = client.send(H2Client.request(HttpMethod.GET, "/", "payments", "")).join();
            assertThat(r.status().code()).isEqualTo(404);
            assertThat(r.body()).contains("payments");
            // The connection survives a local error on one stream.
            assertThat(client.send(H2Client.request(HttpMethod.GET, "/after", "orders", "")).join().status().code())
                    .isEqualTo(200);
        }
    }
}
