package dev.outrider.proxy.upstream;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2WindowUpdateFrame;
import io.netty.util.ReferenceCountUtil;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An h2c upstream on 127.0.0.1 for {@link Http2UpstreamStreamTest}, frame by frame on one loop (Http2FrameCodec and
 * one handler, no stream channels): each request path scripts what it answers, and it records the resets and
 * WINDOW_UPDATEs it receives.
 * <ul>
 *   <li>{@code /ok}: 200 {@code ok}; {@code /no-content}: 204, HEADERS only;</li>
 *   <li>{@code /stall}: the response head and {@code part}, then nothing;</li>
 *   <li>{@code /hold}: nothing until {@link #answerHeld()}; {@code /goaway}: GOAWAY whose last stream id is the
 *       first held stream's;</li>
 *   <li>{@code /refuse}: RST_STREAM(REFUSED_STREAM); {@code /big}: 1 MiB in 16 KiB DATA frames;</li>
 *   <li>{@code /upload}: no answer, and the request body's bytes are not given back until
 *       {@link #openUploadWindow()}.</li>
 * </ul>
 */
final class ScriptedH2Server implements AutoCloseable {
    final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    final AtomicInteger accepted = new AtomicInteger();
    final BlockingQueue<String> resets = new LinkedBlockingQueue<>();
    final List<Http2FrameStream> held = new CopyOnWriteArrayList<>();
    final AtomicLong uploaded = new AtomicLong();
    final AtomicInteger windowUpdates = new AtomicInteger();
    final Map<Integer, String> paths = new ConcurrentHashMap<>();
    volatile ChannelHandlerContext last;
    volatile Http2FrameStream bigStream;
    volatile Http2FrameStream uploadStream;
    private final Channel channel;

    ScriptedH2Server() throws InterruptedException {
        channel = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        accepted.incrementAndGet();
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forServer().build(), new Script());
                    }
                })
                .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    }

    int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    /** The server's window to send on the /big stream is used up: it waits for the client to read. */
    boolean windowExhausted() throws Exception {
        ChannelHandlerContext ctx = last;
        Http2FrameStream s = bigStream;
        if (ctx == null || s == null) {
            return false;
        }
        return ctx.executor().submit(() -> {
            Http2FrameCodec codec = ctx.pipeline().get(Http2FrameCodec.class);
            var stream = codec.connection().stream(s.id());
            return stream != null && codec.connection().remote().flowController().windowSize(stream) == 0;
        }).get(5, TimeUnit.SECONDS);
    }

    void answerHeld() {
        ChannelHandlerContext ctx = last;
        ctx.executor().execute(() -> {
            for (Http2FrameStream s : held) {
                respond(ctx, s, "released");
            }
            held.clear();
        });
    }

    /** Gives the client's /upload stream the bytes it sent so far back: its window opens. */
    void openUploadWindow() {
        ChannelHandlerContext ctx = last;
        ctx.executor().execute(() -> ctx.writeAndFlush(
                new DefaultHttp2WindowUpdateFrame((int) uploaded.get()).stream(uploadStream)));
    }

    private static void respond(ChannelHandlerContext ctx, Http2FrameStream s, String text) {
        ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")).stream(s));
        ctx.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8), true)
                .stream(s));
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private final class Script extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            last = ctx;
            try {
                if (msg instanceof Http2HeadersFrame h && h.headers().path() != null) {
                    onRequest(ctx, h.stream(), h.headers().path().toString());
                } else if (msg instanceof Http2DataFrame d) {
                    if ("/upload".equals(paths.get(d.stream().id()))) {
                        uploaded.addAndGet(d.initialFlowControlledBytes()); // not given back: the window closes
                    } else {
                        ctx.write(new DefaultHttp2WindowUpdateFrame(d.initialFlowControlledBytes())
                                .stream(d.stream()));
                    }
                } else if (msg instanceof Http2WindowUpdateFrame w && bigStream != null
                        && w.stream().id() == bigStream.id()) {
                    windowUpdates.incrementAndGet();
                } else if (msg instanceof Http2ResetFrame r) {
                    resets.add(r.stream().id() + ":" + r.errorCode());
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        private void onRequest(ChannelHandlerContext ctx, Http2FrameStream s, String path) {
            paths.put(s.id(), path);
            switch (path) {
                case "/ok" -> respond(ctx, s, "ok");
                case "/no-content" -> ctx.writeAndFlush(new DefaultHttp2HeadersFrame(
                        new DefaultHttp2Headers().status("204"), true).stream(s));
                case "/stall" -> {
                    ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")).stream(s));
                    ctx.writeAndFlush(new DefaultHttp2DataFrame(
                            Unpooled.copiedBuffer("part", StandardCharsets.UTF_8), false).stream(s));
                }
                case "/hold" -> held.add(s);
                case "/goaway" -> {
                    Http2FrameCodec codec = ctx.pipeline().get(Http2FrameCodec.class);
                    codec.goAway(ctx.pipeline().context(codec), held.getFirst().id(), Http2Error.NO_ERROR.code(),
                            Unpooled.EMPTY_BUFFER, ctx.newPromise());
                    ctx.flush();
                }
                case "/refuse" -> ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.REFUSED_STREAM).stream(s));
                case "/big" -> {
                    bigStream = s;
                    ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")).stream(s));
                    for (int i = 0; i < 64; i++) {
                        ByteBuf chunk = Unpooled.wrappedBuffer(new byte[16384]);
                        ctx.write(new DefaultHttp2DataFrame(chunk, i == 63).stream(s));
                    }
                    ctx.flush();
                }
                case "/upload" -> uploadStream = s;
                default -> ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.INTERNAL_ERROR).stream(s));
            }
        }
    }
}
