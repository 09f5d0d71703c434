package dev.outrider.proxy.it;

import dev.outrider.proxy.Sidecar;
import dev.outrider.proxy.tls.TestPki;
import io.opentelemetry.proto.trace.v1.Span.SpanKind;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Tracing through a real pair, spans received by an OTLP/HTTP endpoint:
 * <pre>
 *   client ─▶ frontend (outbound, CLIENT span) ─▶ mTLS ─▶ orders (inbound, SERVER span) ─▶ backend
 *             both export to the OtlpReceiver          the backend sees the SERVER span as its parent
 * </pre>
 */
class TracingPairTest {
    private static final String CALLER_TRACE = "0af7651916cd43dd8448eb211c80319c";
    private static final String CALLER_SPAN = "b7ad6b7169203331";
    private static Path dir;
    private static TestPki.Ca ca;
    private static OtlpReceiver receiver;
    private static TestBackend backend;
    private static Sidecar orders;
    private static Sidecar frontend;
    private static HttpClient client;

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("outrider-tracing");
        ca = TestPki.root("tracing mesh root");
        ca.writeBundle(dir.resolve("bundle.pem"));
        receiver = OtlpReceiver.start();
        backend = TestBackend.start();
        String tracing = "tracing: {enabled: true, endpoint: '%s', samplingRatio: 1.0}".formatted(receiver.endpoint());
        orders = MeshSidecars.inbound("orders", backend.port(), SidecarPair.tls(ca, dir, "orders"),
                "accessLog: {enabled: true, path: '%s'}\n%s".formatted(dir.resolve("orders-access.log"), tracing));
        frontend = MeshSidecars.outbound("frontend", services(orders), SidecarPair.tls(ca, dir, "frontend"), tracing);
        client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5))
                .build();
    }

    private static String services(Sidecar inbound) {
        return "- {name: orders, namespace: shop, endpoints: [\"127.0.0.1:%d\"]}"
                .formatted(inbound.inboundAddress().getPort());
    }

    @AfterAll
    static void stop() throws Exception {
        if (client != null) {
            client.close();
        }
        for (AutoCloseable c : new AutoCloseable[] {frontend, orders, backend, receiver}) {
            if (c != null) {
                c.close();
            }
        }
    }

    private static HttpResponse<String> get(Sidecar caller, String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + caller.outboundAddress().getPort() + path)).header("Host", "orders").timeout(Duration.ofSeconds(10));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aCallersTraceIsContinuedOverBothHopsAndReachesTheApplication() throws Exception {
        backend.clear();
        HttpResponse<String> r = get(frontend, "/api/orders?user=alice", "traceparent",
                "00-" + CALLER_TRACE + "-" + CALLER_SPAN + "-01");
        assertThat(r.statusCode()).isEqualTo(200);

        await().atMost(Duration.ofSeconds(15)).until(() -> receiver.trace(CALLER_TRACE).size() == 2);
        List<OtlpReceiver.Received> spans = receiver.trace(CALLER_TRACE);
        OtlpReceiver.Received client = spans.stream().filter(s -> s.kind() == SpanKind.SPAN_KIND_CLIENT).findFirst()
                .orElseThrow();
        OtlpReceiver.Received server = spans.stream().filter(s -> s.kind() == SpanKind.SPAN_KIND_SERVER).findFirst()
                .orElseThrow();
        assertThat(client.parentSpanId()).as("the caller's span is the parent").isEqualTo(CALLER_SPAN);
        assertThat(client.service()).isEqualTo("frontend");
        assertThat(client.attributes()).containsEntry("outrider.direction", "outbound")
                .containsEntry("outrider.destination_service", "orders.shop")
                .containsEntry("http.response.status_code", "200").containsEntry("url.path", "/api/orders")
                .containsKey("network.peer.address");
        assertThat(server.parentSpanId()).as("the inbound hop is a child of the outbound one")
                .isEqualTo(client.spanId());
        assertThat(server.service()).isEqualTo("orders");
        assertThat(server.attributes()).containsEntry("outrider.direction", "inbound")
                .containsEntry("outrider.peer", "cluster.local/ns/shop/sa/frontend")
                .containsKey("outrider.authz").containsEntry("http.response.status_code", "200");
        assertThat(String.join(" ", server.attributes().values())).doesNotContain("alice");

        TestBackend.Received seen = backend.take();
        assertThat(seen.headers().get("traceparent")).as("the application continues from the inbound span")
                .isEqualTo("00-" + CALLER_TRACE + "-" + server.spanId() + "-01");
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(
                Files.readString(dir.resolve("orders-access.log"))).contains("\"trace_id\":\"" + CALLER_TRACE + "\""));
    }

    @Test
    void withoutATraceOneIsStartedAndAB3CallerGetsB3Back() throws Exception {
        backend.clear();
        assertThat(get(frontend, "/api/new").statusCode()).isEqualTo(200);
        String started = backend.take().headers().get("traceparent");
        assertThat(started).as("sampled (flag 01; 02 says the trace id is random)")
                .matches("00-[0-9a-f]{32}-[0-9a-f]{16}-0[13]");
        String traceId = started.substring(3, 35);
        await().atMost(Duration.ofSeconds(15)).until(() -> receiver.trace(traceId).size() == 2);
        assertThat(receiver.trace(traceId)).filteredOn(s -> s.kind() == SpanKind.SPAN_KIND_CLIENT).singleElement()
                .satisfies(s -> assertThat(s.parentSpanId()).as("a new trace's root").isEmpty());

        String b3Trace = "80f198ee56343ba864fe8b2a57d3eff7";
        assertThat(get(frontend, "/api/b3", "b3", b3Trace + "-e457b5a2e4d86bd1-1").statusCode()).isEqualTo(200);
        TestBackend.Received seen = backend.take();
        assertThat(seen.headers().get("b3")).as("B3 single, as the caller used it").startsWith(b3Trace + "-");
        assertThat(seen.headers().get("traceparent")).startsWith("00-" + b3Trace + "-");
        await().atMost(Duration.ofSeconds(15)).until(() -> receiver.trace(b3Trace).size() == 2);
    }

    @Test
    void samplingOffSendsNothingButStillPropagates() throws Exception {
        try (OtlpReceiver quiet = OtlpReceiver.start();
             TestBackend app = TestBackend.start()) {
            String off = "tracing: {enabled: true, endpoint: '%s', samplingRatio: 0}".formatted(quiet.endpoint());
            Sidecar in = MeshSidecars.inbound("orders", app.port(), SidecarPair.tls(ca, dir, "orders"), off);
            Sidecar out = MeshSidecars.outbound("frontend", services(in), SidecarPair.tls(ca, dir, "frontend"), off);
            try {
                for (int i = 0; i < 5; i++) {
                    assertThat(get(out, "/api/" + i).statusCode()).isEqualTo(200);
                    assertThat(app.take().headers().get("traceparent")).as("not sampled, still propagated")
                            .matches("00-[0-9a-f]{32}-[0-9a-f]{16}-0[02]");
                }
            } finally {
                out.close(); // closing exports whatever was queued
                in.close();
            }
            assertThat(quiet.spans()).isEmpty();
        }
    }
}
