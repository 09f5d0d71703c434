package dev.outrider.proxy.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Upstream failures seen through the pair: nothing listening → 503, one dead endpoint of two → no errors,
 * upstream closes without a response → 502, response later than upstream.requestTimeout → 504.
 */
class UpstreamFailureTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static TestBackend backend;
    private static SidecarPair pair;
    private static HttpClient client;

    @BeforeAll
    static void start() throws Exception {
        backend = TestBackend.start();
        int dead = SidecarPair.freePort();
        int deadToo = SidecarPair.freePort();
        pair = SidecarPair.start(backend.port(), "http1", """
                upstream: {requestTimeout: 300ms, connectTimeout: 2s}
                """, """
                - name: down
                  namespace: shop
                  endpoints: ["127.0.0.1:%d"]
                - name: half
                  namespace: shop
                  protocol: http1
                  endpoints: ["127.0.0.1:%d", "${B_INBOUND}"]
                  identities: ["spiffe://cluster.local/ns/shop/sa/orders"]
                """.formatted(dead, deadToo));
        client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.close();
        }
        if (pair != null) {
            pair.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    private static HttpResponse<String> get(String host, String path) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + pair.outbound().getPort() + path))
                .header("Host", host).timeout(TIMEOUT).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void nothingListeningGets503SayingConnect() throws Exception {
        HttpResponse<String> r = get("down", "/");

        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.body()).contains("connect").contains("down");
    }

    @Test
    void refusedConnectMovesToTheOtherEndpoint() throws Exception {
        for (int i = 0; i < 20; i++) {
            HttpResponse<String> r = get("half", "/half/" + i);
            assertThat(r.statusCode()).as("request %d", i).isEqualTo(200);
        }
    }

    @Test
    void upstreamClosingWithoutResponseGets502() throws Exception {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + pair.outbound().getPort() + "/close"))
                .header("Host", "orders").timeout(TIMEOUT)
                .POST(HttpRequest.BodyPublishers.ofString("not retried")).build(), HttpResponse.BodyHandlers.ofString());

        assertThat(r.statusCode()).isEqualTo(502);
    }

    @Test
    void responseLaterThanRequestTimeoutGets504() throws Exception {
        HttpResponse<String> r = get("orders", "/delay?ms=3000");

        assertThat(r.statusCode()).isEqualTo(504);
        assertThat(r.body()).contains("timeout");
    }
}
