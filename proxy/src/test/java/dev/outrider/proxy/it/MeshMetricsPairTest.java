package dev.outrider.proxy.it;

import dev.outrider.proxy.Sidecar;
import dev.outrider.proxy.tls.TestPki;
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

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Request metrics by source and destination through real pairs: two callers ({@code frontend}, {@code checkout}),
 * each with its own certificate, call two services ({@code orders}, {@code payments}) over mTLS.
 * <pre>
 *   frontend (outbound) ─┬─▶ mTLS ─▶ orders (inbound)   ─┐
 *   checkout (outbound) ─┴─▶ mTLS ─▶ payments (inbound) ─┴─▶ backend
 * </pre>
 */
class MeshMetricsPairTest {
    private static final String REQUESTS = "outrider_mesh_requests_total";
    private static Path dir;
    private static TestBackend backend;
    private static Sidecar orders;
    private static Sidecar payments;
    private static Sidecar frontend;
    private static Sidecar checkout;
    private static HttpClient client;

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("outrider-mesh-metrics");
        TestPki.Ca ca = TestPki.root("mesh metrics root");
        ca.writeBundle(dir.resolve("bundle.pem"));
        backend = TestBackend.start();
        orders = MeshSidecars.inbound("orders", backend.port(), SidecarPair.tls(ca, dir, "orders"), "");
        payments = MeshSidecars.inbound("payments", backend.port(), SidecarPair.tls(ca, dir, "payments"), "");
        String services = """
                - {name: orders, namespace: shop, endpoints: ["127.0.0.1:%d"]}
                - {name: payments, namespace: shop, endpoints: ["127.0.0.1:%d"]}"""
                .formatted(orders.inboundAddress().getPort(), payments.inboundAddress().getPort());
        frontend = MeshSidecars.outbound("frontend", services, SidecarPair.tls(ca, dir, "frontend"));
        checkout = MeshSidecars.outbound("checkout", services, SidecarPair.tls(ca, dir, "checkout"));
        client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5))
                .build();
    }

    @AfterAll
    static void stop() throws Exception {
        if (client != null) {
            client.close();
        }
        for (Sidecar s : new Sidecar[] {checkout, frontend, payments, orders}) {
            if (s != null) {
                s.close();
            }
        }
        if (backend != null) {
            backend.close();
        }
    }

    private static void call(Sidecar caller, String service, int times) throws Exception {
        for (int i = 0; i < times; i++) {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                            + caller.outboundAddress().getPort() + "/api/" + i + "?user=alice&token=secret"))
                    .header("Host", service).POST(HttpRequest.BodyPublishers.ofString("0123456789"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
        }
    }

    private static String[] inbound(String source, String service) {
        return new String[] {"direction", "inbound", "source_workload", source, "source_workload_namespace", "shop",
                "source_principal", "cluster.local/ns/shop/sa/" + source, "destination_service", service + ".shop",
                "destination_workload", service, "destination_workload_namespace", "shop", "response_code", "200"};
    }

    private static String[] outbound(String source, String service) {
        return new String[] {"direction", "outbound", "source_workload", source, "source_workload_namespace", "shop",
                "source_principal", "cluster.local/ns/shop/sa/" + source, "destination_service", service + ".shop",
                "destination_workload", service, "destination_workload_namespace", "shop", "response_code", "200"};
    }

    @Test
    void eachSidecarCountsWhoCalledWhomOnBothDirections() throws Exception {
        call(frontend, "orders", 3);
        call(frontend, "payments", 2);
        call(checkout, "orders", 1);
        call(checkout, "payments", 4);

        // the server side: by caller identity
        assertThat(Metrics.sum(orders, REQUESTS, inbound("frontend", "orders"))).isEqualTo(3);
        assertThat(Metrics.sum(orders, REQUESTS, inbound("checkout", "orders"))).isEqualTo(1);
        assertThat(Metrics.sum(payments, REQUESTS, inbound("frontend", "payments"))).isEqualTo(2);
        assertThat(Metrics.sum(payments, REQUESTS, inbound("checkout", "payments"))).isEqualTo(4);
        // the client side: by destination service and the workload its certificate must name
        assertThat(Metrics.sum(frontend, REQUESTS, outbound("frontend", "orders"))).isEqualTo(3);
        assertThat(Metrics.sum(frontend, REQUESTS, outbound("frontend", "payments"))).isEqualTo(2);
        assertThat(Metrics.sum(checkout, REQUESTS, outbound("checkout", "orders"))).isEqualTo(1);
        assertThat(Metrics.sum(checkout, REQUESTS, outbound("checkout", "payments"))).isEqualTo(4);

        // duration histogram and body bytes with the same labels (no response code)
        String[] frontendToOrders = java.util.Arrays.copyOf(inbound("frontend", "orders"), 14);
        assertThat(Metrics.sum(orders, "outrider_mesh_request_duration_seconds_count", frontendToOrders))
                .isEqualTo(3);
        assertThat(Metrics.sum(orders, "outrider_mesh_request_duration_seconds_bucket", append(frontendToOrders,
                "le", "30.0"))).isEqualTo(3);
        assertThat(Metrics.sum(orders, "outrider_mesh_request_bytes_total", frontendToOrders)).isEqualTo(30);
        assertThat(Metrics.sum(orders, "outrider_mesh_response_bytes_total", frontendToOrders)).isPositive();

        // label values only from identities and services: never the path, the query or a client's token
        String scrape = Metrics.scrape(orders) + Metrics.scrape(frontend);
        assertThat(scrape).doesNotContain("alice").doesNotContain("secret").doesNotContain("/api/");
    }

    private static String[] append(String[] labels, String name, String value) {
        String[] more = java.util.Arrays.copyOf(labels, labels.length + 2);
        more[labels.length] = name;
        more[labels.length + 1] = value;
        return more;
    }
}
