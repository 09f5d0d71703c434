package dev.outrider.proxy.it;

import dev.outrider.proxy.Sidecar;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * WebSocket through a real pair: the JDK's WebSocket client ({@code java.net.http.WebSocket}) → A's outbound port
 * for {@code orders} → mTLS (an HTTP/1.1 upgrade between the sidecars) → B's inbound → Netty's WebSocket echo
 * server ({@link WebSocketEcho}).
 */
class WebSocketPairTest {
    private WebSocketEcho echo;
    private SidecarPair pair;
    private HttpClient client;

    @BeforeEach
    void start() throws Exception {
        echo = new WebSocketEcho();
        client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterEach
    void stop() throws Exception {
        if (client != null) {
            client.close();
        }
        if (pair != null) {
            pair.close();
        }
        echo.close();
    }

    private URI uri() {
        return URI.create("ws://127.0.0.1:" + pair.upstreamPort + "/ws");
    }

    @Test
    void textAndLargeBinaryMessagesComeBackThroughThePair() throws Exception {
        pair = SidecarPair.start(echo.port(), "http1");
        Listener listener = new Listener();
        WebSocket ws = client.newWebSocketBuilder().buildAsync(uri(), listener).get(10, TimeUnit.SECONDS);

        ws.sendText("hello through the mesh", true).get(10, TimeUnit.SECONDS);
        assertThat(listener.next()).isEqualTo("hello through the mesh");

        byte[] big = new byte[8 * 1024 * 1024]; // far more than a socket buffer or the write-buffer high-water mark
        new Random(7).nextBytes(big);
        ws.sendBinary(ByteBuffer.wrap(big), true).get(30, TimeUnit.SECONDS);
        Object back = listener.next();
        assertThat(back).isInstanceOf(byte[].class);
        assertThat(Arrays.equals((byte[]) back, big)).as("8 MiB frame echoed intact").isTrue();

        ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(10, TimeUnit.SECONDS);
        assertThat(listener.closed.get(10, TimeUnit.SECONDS)).isEqualTo(WebSocket.NORMAL_CLOSURE);
        assertThat(echo.handshakes.get()).isEqualTo(1);

        // each sidecar counted one websocket tunnel, and its bytes once it ended
        for (var s : new Sidecar[] {pair.a, pair.b}) {
            String direction = s == pair.a ? "outbound" : "inbound";
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    assertThat(Metrics.sum(s, "outrider_active_tunnels", "direction", direction,
                            "protocol", "websocket")).isZero());
            assertThat(Metrics.sum(s, "outrider_tunnels_total", "direction", direction, "protocol", "websocket"))
                    .isEqualTo(1);
            assertThat(Metrics.sum(s, "outrider_tunnel_bytes_total", "direction", direction, "protocol", "websocket",
                    "from", "caller")).isGreaterThan(big.length);
            assertThat(Metrics.sum(s, "outrider_tunnel_bytes_total", "direction", direction, "protocol", "websocket",
                    "from", "upstream")).isGreaterThan(big.length);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"caller", "server"})
    void aDrainingSidecarEndsTheSessionWithGoingAwayAndTheServerSeesAnOrderlyClose(String side) throws Exception {
        pair = SidecarPair.start(echo.port(), "http1");
        Listener listener = new Listener();
        WebSocket ws = client.newWebSocketBuilder().buildAsync(uri(), listener).get(10, TimeUnit.SECONDS);
        ws.sendText("before the drain", true).get(10, TimeUnit.SECONDS);
        assertThat(listener.next()).isEqualTo("before the drain");

        Sidecar draining = side.equals("caller") ? pair.a : pair.b;
        draining.drain();

        // 1001 going away reaches the client; its answering Close goes on to the server, which ends the session
        assertThat(listener.closed.get(10, TimeUnit.SECONDS)).isEqualTo(1001);
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(echo.closesReceived.get()).isEqualTo(1));
        draining.terminated().get(10, TimeUnit.SECONDS);
    }

    @Test
    void anUpgradeThePolicyRefusesGets403AndNothingReachesTheApplication() throws Exception {
        pair = SidecarPair.start(echo.port(), "http1", "policies: {defaultAction: deny}", "");
        assertHandshakeRefused(403);
        assertThat(echo.upgradeRequests.get()).isZero();
    }

    @Test
    void anUpgradeToAProtocolNotListedGets403() throws Exception {
        pair = SidecarPair.start(echo.port(), "http1", "http: {upgrades: [h2-custom]}", "");
        assertHandshakeRefused(403);
        assertThat(echo.upgradeRequests.get()).isZero();
    }

    private void assertHandshakeRefused(int status) {
        CompletableFuture<WebSocket> f = client.newWebSocketBuilder().buildAsync(uri(), new Listener());
        assertThatThrownBy(() -> f.join()).isInstanceOf(CompletionException.class)
                .cause().isInstanceOf(WebSocketHandshakeException.class)
                .satisfies(e -> assertThat(((WebSocketHandshakeException) e).getResponse().statusCode())
                        .isEqualTo(status));
    }

    /** Collects whole messages (text or binary) and the close code. */
    static final class Listener implements WebSocket.Listener {
        final LinkedBlockingQueue<Object> messages = new LinkedBlockingQueue<>();
        final CompletableFuture<Integer> closed = new CompletableFuture<>();
        private final StringBuilder text = new StringBuilder();
        private final ByteArrayOutputStream binary = new ByteArrayOutputStream();

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                messages.add(text.toString());
                text.setLength(0);
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
            byte[] chunk = new byte[data.remaining()];
            data.get(chunk);
            binary.writeBytes(chunk);
            if (last) {
                messages.add(binary.toByteArray());
                binary.reset();
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
            closed.complete(statusCode);
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            closed.completeExceptionally(error);
        }

        Object next() throws InterruptedException {
            Object m = messages.poll(30, TimeUnit.SECONDS);
            assertThat(m).as("a message within 30 s").isNotNull();
            return m;
        }
    }
}
