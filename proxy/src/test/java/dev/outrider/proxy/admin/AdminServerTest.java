package dev.outrider.proxy.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.outrider.proxy.config.HostPort;
import dev.outrider.proxy.config.TransportKind;
import dev.outrider.proxy.metrics.Direction;
import dev.outrider.proxy.metrics.ProxyMetrics;
import dev.outrider.proxy.metrics.Registries;
import dev.outrider.proxy.transport.Transport;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.outrider.proxy.admin.ServerTestSupport.send;
import static dev.outrider.proxy.admin.ServerTestSupport.uri;
import static org.assertj.core.api.Assertions.assertThat;

class AdminServerTest {
    record View(String node, HostPort listen, Duration drainTimeout, String token) {
    }

    private Transport transport;
    private PrometheusMeterRegistry registry;
    private AdminServer server;
    private final AtomicInteger drains = new AtomicInteger();
    private final HttpClient client = ServerTestSupport.client();

    @BeforeEach
    void start() throws InterruptedException {
        transport = Transport.create(TransportKind.NIO, 1, "test");
        registry = Registries.prometheus();
        Registries.bindJvm(registry);
        ProxyMetrics metrics = new ProxyMetrics(registry);
        metrics.requestCompleted(Direction.INBOUND, 200, 1_000_000, 1, 2);
        server = AdminServer.start(transport, new HostPort("127.0.0.1", 0), registry,
                () -> new View("orders-1", new HostPort("0.0.0.0", 15006), Duration.ofSeconds(5), "<redacted>"),
                drains::incrementAndGet);
    }

    @AfterEach
    void stop() {
        client.close();
        server.close().syncUninterruptibly();
        transport.group().shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
        registry.close();
    }

    @Test
    void metricsShowTheMemoryOfNettysBufferPool() throws Exception {
        HttpResponse<String> res = send(client, HttpRequest.newBuilder(uri(server.address(), "/metrics")).build());

        assertThat(res.statusCode()).isEqualTo(200);
        assertThat(res.body().lines().filter(l -> l.startsWith("netty_allocator_memory_used_bytes{")))
                .anySatisfy(l -> assertThat(l).contains("memory_type=\"direct\""))
                .anySatisfy(l -> assertThat(l).contains("memory_type=\"heap\""));
    }

    @Test
    void metricsIsThePrometheusScrape() throws Exception {
        HttpResponse<String> res = send(client, HttpRequest.newBuilder(uri(server.address(), "/metrics")).build());

        assertThat(res.statusCode()).isEqualTo(200);
        assertThat(res.headers().firstValue("content-type"))
                .hasValue("text/plain; version=0.0.4; charset=utf-8");
        assertThat(res.body())
                .contains("outrider_requests_total{direction=\"inbound\",status_class=\"2xx\"} 1.0")
                .contains("outrider_active_connections{direction=\"outbound\"} 0.0")
                .contains("jvm_memory_used_bytes");
    }

    @Test
    void keepAliveConnectionServesManyRequests() throws Exception {
        // One client, several requests: the JDK client reuses the connection when the server keeps it.
        for (String path : List.of("/metrics", "/config", "/metrics", "/nope", "/config")) {
            HttpResponse<String> res = send(client, HttpRequest.newBuilder(uri(server.address(), path)).build());
            assertThat(res.statusCode()).isEqualTo(path.equals("/nope") ? 404 : 200);
            assertThat(res.headers().firstValue("connection")).isNotEqualTo(java.util.Optional.of("close"));
        }
    }

    @Test
    void configIsPrettyJson() throws Exception {
        HttpResponse<String> res = send(client, HttpRequest.newBuilder(uri(server.address(), "/config")).build());

        assertThat(res.statusCode()).isEqualTo(200);
        assertThat(res.headers().firstValue("content-type")).hasValue("application/json");
        assertThat(res.body()).contains("\n  \"node\" : \"orders-1\"");
        JsonNode json = new ObjectMapper().readTree(res.body());
        assertThat(json.get("node").asText()).isEqualTo("orders-1");
        assertThat(json.get("listen").get("port").asInt()).isEqualTo(15006);
        assertThat(json.get("drainTimeout").asText()).isEqualTo("PT5S");
        assertThat(json.get("token").asText()).isEqualTo("<redacted>");
    }

    @Test
    void postDrainWithTheHeaderAndALoopbackHostRunsTheDrain() throws Exception {
        HttpResponse<String> res = send(client, HttpRequest.newBuilder(uri(server.address(), "/drain"))
                .header("X-Outrider-Drain", "true")
                .POST(HttpRequest.BodyPublishers.noBody()).build());

        assertThat(res.statusCode()).isEqualTo(202);
        assertThat(res.body()).isEqualTo("draining\n");
        assertThat(drains).hasValue(1);

        for (String host : List.of("localhost", "LOCALHOST:15000", "[::1]:15000", "127.0.0.1")) {
            assertThat(send(client, HttpRequest.newBuilder(uri(server.address(), "/drain"))
                    .header("Host", host).header("X-Outrider-Drain", "true")
                    .header("Origin", "http://localhost:3000")
                    .POST(HttpRequest.BodyPublishers.noBody()).build()).statusCode()).as(host).isEqualTo(202);
        }
        assertThat(drains).hasValue(5);
    }

    @Test
    void simpleCrossOriginPostIsRefused() throws Exception {
        // What an HTML form on any web page can send without a CORS preflight.
        HttpResponse<String> res = send(client, HttpRequest.newBuilder(uri(server.address(), "/drain"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("go=1")).build());

        assertThat(res.statusCode()).isEqualTo(403);
        assertThat(res.body()).isEqualTo("POST /drain needs the header 'X-Outrider-Drain: true' (so a web page "
                + "cannot trigger it with a simple cross-origin request)\n");
        assertThat(send(client, HttpRequest.newBuilder(uri(server.address(), "/drain"))
                .header("X-Outrider-Drain", "yes").POST(HttpRequest.BodyPublishers.noBody()).build()).statusCode())
                .isEqualTo(403);
        assertThat(drains).hasValue(0);
    }

    @Test
    void nonLoopbackHostIsRefused() throws Exception {
        // DNS rebinding: a page of evil.example whose name now resolves to 127.0.0.1 is same-origin with us.
        for (String host : List.of("evil.example", "evil.example:15000", "127.0.0.1.evil.example",
                "localhost.evil.example", "10.0.0.1:15000", "[::2]")) {
            HttpResponse<String> res = send(client, HttpRequest.newBuilder(uri(server.address(), "/drain"))
                    .header("Host", host).header("X-Outrider-Drain", "true")
                    .POST(HttpRequest.BodyPublishers.noBody()).build());

            assertThat(res.statusCode()).as(host).isEqualTo(403);
            assertThat(res.body()).as(host).isEqualTo("POST /drain needs a Host header naming loopback "
                    + "(localhost, 127.0.0.1 or [::1]), got '" + host + "'\n");
        }
        assertThat(drains).hasValue(0);
    }

    @Test
    void foreignOriginIsRefused() throws Exception {
        for (String origin : List.of("http://evil.example", "null", "https://127.0.0.1.evil.example")) {
            HttpResponse<String> res = send(client, HttpRequest.newBuilder(uri(server.address(), "/drain"))
                    .header("Origin", origin).header("X-Outrider-Drain", "true")
                    .POST(HttpRequest.BodyPublishers.noBody()).build());

            assertThat(res.statusCode()).as(origin).isEqualTo(403);
            assertThat(res.body()).as(origin).isEqualTo("POST /drain is refused from origin '" + origin
                    + "': only a loopback origin may drain the sidecar\n");
        }
        assertThat(drains).hasValue(0);
    }

    @Test
    void getDrainIsNotAllowed() throws Exception {
        HttpResponse<String> res = send(client, HttpRequest.newBuilder(uri(server.address(), "/drain")).build());

        assertThat(res.statusCode()).isEqualTo(405);
        assertThat(res.headers().firstValue("allow")).hasValue("POST");
        assertThat(drains).hasValue(0);
    }

    @Test
    void unknownPathsAndLargeBodies() throws Exception {
        assertThat(send(client, HttpRequest.newBuilder(uri(server.address(), "/")).build()).statusCode())
                .isEqualTo(404);
        assertThat(send(client, HttpRequest.newBuilder(uri(server.address(), "/metrics"))
                .POST(HttpRequest.BodyPublishers.noBody()).build()).statusCode()).isEqualTo(405);
        HttpResponse<String> large = send(client, HttpRequest.newBuilder(uri(server.address(), "/drain"))
                .POST(HttpRequest.BodyPublishers.ofString("x".repeat(16 * 1024))).build());
        assertThat(large.statusCode()).isEqualTo(413);
        assertThat(drains).hasValue(0);
    }
}
