package dev.outrider.proxy;

import com.sun.net.httpserver.HttpServer;
import dev.outrider.proxy.config.BootstrapLoader;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Frame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Drain on an HTTP/2 connection: the caller gets GOAWAY while its stream is in flight, the stream still
 * completes, and then the connection closes.
 */
class Http2DrainTest {
    private HttpServer backend;
    private final CountDownLatch arrived = new CountDownLatch(1);
    private final CountDownLatch release = new CountDownLatch(1);
    private final EventLoopGroup clientGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());

    @BeforeEach
    void startBackend() throws Exception {
        backend = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        backend.setExecutor(Executors.newFixedThreadPool(2));
        backend.createContext("/slow", ex -> {
            arrived.countDown();
            try {
                release.await(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            byte[] body = "done".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        });
        backend.start();
    }

    @AfterEach
    void stop() {
        release.countDown();
        backend.stop(0);
        clientGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    @Test
    void goAwayThenTheStreamInFlightCompletes() throws Exception {
        Sidecar sidecar = Sidecar.start(BootstrapLoader.parse("""
                node: {service: app, namespace: test}
                inbound: {listen: 127.0.0.1:0, application: 127.0.0.1:%d}
                outbound: {listen: 127.0.0.1:0}
                health: {listen: 127.0.0.1:0}
                admin: {listen: 127.0.0.1:0}
                accessLog: {enabled: false}
                runtime: {drainTimeout: 10s}
                tls: {mode: disabled}
                policies: {defaultAction: allow}
                """.formatted(backend.getAddress().getPort()), "test"));
        BlockingQueue<Http2Frame> frames = new LinkedBlockingQueue<>();
        Channel client = new Bootstrap().group(clientGroup).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forClient().build());
                        ch.pipeline().addLast(new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
                        ch.pipeline().addLast(collector(frames)); // connection frames: GOAWAY
                    }
                }).connect(sidecar.inboundAddress()).sync().channel();
        try {
            Http2StreamChannel stream = new Http2StreamChannelBootstrap(client).handler(collector(frames))
                    .open().sync().getNow();
            stream.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers()
                    .method("GET").path("/slow").scheme("http").authority("app"), true)).sync();
            assertThat(arrived.await(10, TimeUnit.SECONDS)).isTrue();

            sidecar.drain();
            Http2GoAwayFrame goAway = next(frames, Http2GoAwayFrame.class);
            assertThat(goAway.lastStreamId()).isGreaterThanOrEqualTo(1);
            assertThat(client.isActive()).as("open while the stream is in flight").isTrue();

            release.countDown();
            Http2HeadersFrame headers = next(frames, Http2HeadersFrame.class);
            assertThat(headers.headers().status().toString()).isEqualTo("200");
            Http2DataFrame data = next(frames, Http2DataFrame.class);
            try {
                assertThat(data.content().toString(StandardCharsets.UTF_8)).isEqualTo("done");
            } finally {
                data.release();
            }
            assertThat(client.closeFuture().await(10, TimeUnit.SECONDS)).as("closed after the stream").isTrue();
            assertThat(sidecar.terminated()).succeedsWithin(java.time.Duration.ofSeconds(10));
        } finally {
            client.close();
            sidecar.close();
            for (Http2Frame f : frames) {
                if (f instanceof Http2DataFrame d && d.refCnt() > 0) {
                    d.release();
                }
            }
        }
    }

    private static SimpleChannelInboundHandler<Http2Frame> collector(BlockingQueue<Http2Frame> frames) {
        return new SimpleChannelInboundHandler<>() {
            @Override
            protected void channelRead0(ChannelHandlerContext ctx, Http2Frame frame) {
                if (frame instanceof Http2DataFrame data) {
                    data.retain();
                }
                frames.add(frame);
            }
        };
    }

    private static <T> T next(BlockingQueue<Http2Frame> frames, Class<T> type) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            Http2Frame f = frames.poll(100, TimeUnit.MILLISECONDS);
            if (type.isInstance(f)) {
                return type.cast(f);
            }
            if (f instanceof Http2DataFrame d) {
                d.release();
            }
        }
        throw new AssertionError("no " + type.getSimpleName() + " within 10 s");
    }
}
