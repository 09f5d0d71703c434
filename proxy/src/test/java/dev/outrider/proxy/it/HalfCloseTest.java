package dev.outrider.proxy.it;

import dev.outrider.proxy.Sidecar;
import dev.outrider.proxy.config.BootstrapLoader;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DuplexChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A client that half-closes (TCP FIN after its request, {@code shutdownOutput()}) still gets its answer, as
 * from any HTTP server: a complete request is answered and then the connection closes; pipelined requests
 * are all answered in order first; an idle connection closes at once; a request whose body is incomplete is
 * aborted. On the outbound listener (through the pair) and on a plaintext inbound listener, HTTP/1.1 and h2c.
 */
class HalfCloseTest {
    private static final String EMPTY_BODY_ECHO = "0 " + TestBackend.sha256(new byte[0]);
    private static TestBackend backend;
    private static SidecarPair pair;
    private static Sidecar plainInbound;

    @BeforeAll
    static void start() throws Exception {
        backend = TestBackend.start();
        pair = SidecarPair.start(backend.port(), "auto");
        plainInbound = Sidecar.start(BootstrapLoader.parse("""
                node: {service: orders, namespace: shop}
                inbound: {listen: 127.0.0.1:0, application: 127.0.0.1:%d, applicationProtocol: auto}
                outbound: {listen: 127.0.0.1:0}
                health: {listen: 127.0.0.1:0}
                admin: {listen: 127.0.0.1:0}
                accessLog: {enabled: false}
                runtime: {eventLoops: 2, drainTimeout: 2s}
                tls: {mode: disabled}
                policies: {defaultAction: allow}
                """.formatted(backend.port()), "plain-inbound"));
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[] {plainInbound, pair, backend}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }

    @BeforeEach
    void clear() {
        backend.releaseHeld();
        backend.clear();
    }

    private static InetSocketAddress listener(String which) {
        return which.equals("outbound") ? pair.outbound() : plainInbound.inboundAddress();
    }

    @ParameterizedTest
    @ValueSource(strings = {"outbound", "plaintext inbound"})
    void aCompleteRequestThenFinIsAnsweredThenTheConnectionCloses(String which) throws Exception {
        int before = backend.requestCount();
        String response;
        try (RawHttp raw = new RawHttp(listener(which))) {
            raw.send("GET /half-close HTTP/1.1\r\nHost: orders\r\n\r\n");
            raw.shutdownOutput();
            response = raw.readToEof();
        }

        // readToEof returned: the sidecar closed after the response (which says Connection: close unless its
        // head went out before the FIN was read).
        assertThat(response).startsWith("HTTP/1.1 200 ").endsWith("\r\n\r\n" + EMPTY_BODY_ECHO);
        assertThat(backend.take().uri()).isEqualTo("/half-close");
        assertThat(backend.requestCount() - before).as("the backend saw the request exactly once").isEqualTo(1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"outbound", "plaintext inbound"})
    void finWhileTheResponseIsPendingStillGetsTheResponse(String which) throws Exception {
        try (RawHttp raw = new RawHttp(listener(which))) {
            raw.send("GET /half-close-held?hold HTTP/1.1\r\nHost: orders\r\n\r\n");
            assertThat(backend.take().uri()).isEqualTo("/half-close-held?hold");
            await().atMost(Duration.ofSeconds(5)).until(() -> backend.heldCount() == 1);
            raw.shutdownOutput();
            assertThat(backend.releaseHeld()).isEqualTo(1);

            String response = raw.readToEof();
            assertThat(response).startsWith("HTTP/1.1 200 ").endsWith("\r\n\r\nreleased\n");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"outbound", "plaintext inbound"})
    void pipelinedRequestsThenFinAreAllAnsweredInOrder(String which) throws Exception {
        int before = backend.requestCount();
        String response;
        try (RawHttp raw = new RawHttp(listener(which))) {
            raw.send("GET /p/0 HTTP/1.1\r\nHost: orders\r\n\r\n"
                    + "POST /p/1 HTTP/1.1\r\nHost: orders\r\nContent-Length: 3\r\n\r\nabc"
                    + "GET /p/2 HTTP/1.1\r\nHost: orders\r\n\r\n");
            raw.shutdownOutput();
            response = raw.readToEof();
        }

        Matcher statuses = Pattern.compile("HTTP/1\\.1 (\\d{3}) ").matcher(response);
        assertThat(statuses.results().map(m -> m.group(1)).toList()).containsExactly("200", "200", "200");
        String abc = "3 " + TestBackend.sha256("abc".getBytes(StandardCharsets.UTF_8));
        assertThat(response.indexOf(EMPTY_BODY_ECHO)).isLessThan(response.indexOf(abc));
        assertThat(response).endsWith(EMPTY_BODY_ECHO);
        for (int i = 0; i < 3; i++) {
            assertThat(backend.take().uri()).isEqualTo("/p/" + i);
        }
        assertThat(backend.requestCount() - before).isEqualTo(3);
    }

    @ParameterizedTest
    @ValueSource(strings = {"outbound", "plaintext inbound"})
    void anIncompleteBodyThenFinIsAbortedWithoutAResponse(String which) throws Exception {
        try (RawHttp raw = new RawHttp(listener(which))) {
            raw.send("POST /partial HTTP/1.1\r\nHost: orders\r\nContent-Length: 10\r\n\r\nabc");
            raw.shutdownOutput();
            assertThat(raw.readToEof()).isEmpty();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"outbound", "plaintext inbound"})
    void anIdleConnectionClosesAtTheClientsFin(String which) throws Exception {
        try (RawHttp raw = new RawHttp(listener(which))) {
            raw.send("GET /first HTTP/1.1\r\nHost: orders\r\n\r\n");
            String head = raw.readHead();
            assertThat(RawHttp.status(head)).isEqualTo(200);
            assertThat(raw.readBytes(EMPTY_BODY_ECHO.length())).isEqualTo(EMPTY_BODY_ECHO);
            raw.shutdownOutput();
            assertThat(raw.readToEof()).as("closed at once, not at the idle timeout").isEmpty();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"outbound", "plaintext inbound"})
    void h2cStreamsInFlightAreAnsweredAfterTheClientsFin(String which) throws Exception {
        try (H2Client client = new H2Client(listener(which))) {
            CompletableFuture<H2Client.Response> held = client.send(
                    H2Client.request(HttpMethod.GET, "/h2-half-close?hold", "orders", ""));
            assertThat(backend.take().uri()).isEqualTo("/h2-half-close?hold");
            await().atMost(Duration.ofSeconds(5)).until(() -> backend.heldCount() == 1);
            client.shutdownOutput();
            assertThat(backend.releaseHeld()).isEqualTo(1);

            H2Client.Response r = held.join();
            assertThat(r.status().code()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("released\n");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"outbound", "plaintext inbound"})
    void anH2cStreamStillWaitingForItsBodyIsResetAtTheClientsFin(String which) throws Exception {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            Channel connection = new Bootstrap().group(group).channel(NioSocketChannel.class)
                    .handler(new ChannelInitializer<>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(Http2FrameCodecBuilder.forClient().build(),
                                    new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
                        }
                    }).connect(listener(which)).sync().channel();
            CompletableFuture<Http2ResetFrame> reset = new CompletableFuture<>();
            Http2StreamChannel stream = new Http2StreamChannelBootstrap(connection)
                    .handler(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                            if (evt instanceof Http2ResetFrame r) {
                                reset.complete(r);
                            }
                        }
                    }).open().sync().getNow();
            stream.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().method("POST")
                    .path("/h2-partial").scheme("http").authority("orders").setInt("content-length", 10), false));
            stream.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.copiedBuffer("abc", StandardCharsets.US_ASCII),
                    false)).sync();
            ((DuplexChannel) connection).shutdownOutput().sync();

            assertThat(reset).succeedsWithin(Duration.ofSeconds(10))
                    .satisfies(r -> assertThat(r.errorCode()).isEqualTo(Http2Error.CANCEL.code()));
            assertThat(connection.closeFuture().await(10, TimeUnit.SECONDS)).as("closed after GOAWAY").isTrue();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
