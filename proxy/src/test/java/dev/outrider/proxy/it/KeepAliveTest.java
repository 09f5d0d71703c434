package dev.outrider.proxy.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Keep-alive end to end: many sequential requests on one client connection use one connection on every hop.
 * A pair of its own, so no other test's connections are counted.
 */
class KeepAliveTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static TestBackend backend;
    private static SidecarPair pair;

    @BeforeAll
    static void start() throws Exception {
        backend = TestBackend.start();
        pair = SidecarPair.start(backend.port(), "http1");
    }

    @AfterAll
    static void stop() {
        if (pair != null) {
            pair.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    @Test
    void sequentialRequestsOnOneConnectionUseOneConnectionPerHop() throws Exception {
        try (HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
            for (int i = 0; i < 50; i++) {
                HttpResponse<String> r = client.send(request(pair.outbound(), "/seq/" + i)
                        .header("Host", "orders").build(), HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.headers().firstValue("connection")).isNotEqualTo(java.util.Optional.of("close"));
            }
            // One client connection lives on one event loop of A, which pools one connection to B, whose one
            // inbound connection lives on one loop that pools one connection to the backend.
            assertThat(activeConnections(client, pair.a.adminAddress(), "outbound")).isEqualTo(1.0);
            assertThat(activeConnections(client, pair.b.adminAddress(), "inbound")).isEqualTo(1.0);
            assertThat(backend.acceptedConnections()).isEqualTo(1);
        }
    }

    private static HttpRequest.Builder request(InetSocketAddress at, String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + at.getPort() + path)).timeout(TIMEOUT);
    }

    private static double activeConnections(HttpClient client, InetSocketAddress admin, String direction)
            throws Exception {
        String metrics = client.send(request(admin, "/metrics").build(), HttpResponse.BodyHandlers.ofString()).body();
        Matcher m = Pattern.compile("(?m)^outrider_active_connections\\{direction=\"" + direction
                + "\"[^}]*} (\\S+)$").matcher(metrics);
        assertThat(m.find()).as("active connections gauge in\n%s", metrics).isTrue();
        return Double.parseDouble(m.group(1));
    }
}
