package dev.outrider.proxy.it;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small HTTP/1.1 + h2c (prior knowledge) server on 127.0.0.1 for the integration tests. It records every
 * request it receives (headers, trailers, body checksum, protocol) and counts accepted connections.
 * Handlers, chosen by path:
 * <ul>
 *   <li>{@code /status/NNN}: that status, short body;</li>
 *   <li>{@code /delay?ms=N}: 200 after N ms (scheduled, the loop is not blocked);</li>
 *   <li>{@code /trailers}: 200, body {@code hello}, trailers {@code grpc-status: 0}, {@code grpc-message};</li>
 *   <li>{@code /big?bytes=N}: N bytes streamed in 16 KiB chunks (byte i is {@code i % 251});</li>
 *   <li>{@code /close}: closes the connection without a response;</li>
 *   <li>any path with the query parameter {@code hold} ({@code /x?hold}): no response until
 *       {@link #releaseHeld()}, then 200 {@code released};</li>
 *   <li>anything else: echo, 200 with body {@code <length> <sha256 of the request body>}.</li>
 * </ul>
 */
final class TestBackend implements AutoCloseable {
    /** What the backend saw. {@code headers} and {@code trailers} are copies. */
    record Received(String protocol, String method, String uri, HttpHeaders headers, HttpHeaders trailers,
                    long bodyLength, String bodySha256) {
    }

    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    private final AtomicInteger accepted = new AtomicInteger();
    private final AtomicInteger requests = new AtomicInteger();
    private final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
    /** Responses of the requests held ({@code ?hold}), not yet sent. Guarded by itself. */
    private final List<Runnable> held = new ArrayList<>();
    private final Channel server;

    private TestBackend() throws InterruptedException {
        server = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        accepted.incrementAndGet();
                        ch.pipeline().addLast(new Detector());
                    }
                })
                .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    }

    static TestBackend start() throws InterruptedException {
        return new TestBackend();
    }

    int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** Connections accepted since start. */
    int acceptedConnections() {
        return accepted.get();
    }

    /** The next request the backend received, waiting up to 5 s. */
    Received take() throws InterruptedException {
        Received r = received.poll(5, TimeUnit.SECONDS);
        if (r == null) {
            throw new AssertionError("the backend received no request within 5 s");
        }
        return r;
    }

    /** Requests received since start. */
    int requestCount() {
        return requests.get();
    }

    void clear() {
        received.clear();
    }

    /** Requests held ({@code ?hold}) and not yet released. */
    int heldCount() {
        synchronized (held) {
            return held.size();
        }
    }

    /** Answers every request held so far with 200 {@code released}; returns how many. */
    int releaseHeld() {
        List<Runnable> now;
        synchronized (held) {
            now = List.copyOf(held);
            held.clear();
        }
        now.forEach(Runnable::run);
        return now.size();
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** HTTP/2 connection preface → h2c, anything else → HTTP/1.1. */
    private final class Detector extends ByteToMessageDecoder {
        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
            int n = Math.min(in.readableBytes(), PREFACE.length);
            boolean prefix = true;
            for (int i = 0; i < n && prefix; i++) {
                prefix = in.getByte(in.readerIndex() + i) == PREFACE[i];
            }
            if (prefix && n < PREFACE.length) {
                return;
            }
            if (prefix) {
                ctx.pipeline().addLast(Http2FrameCodecBuilder.forServer().build(),
                        new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
                            @Override
                            protected void initChannel(Http2StreamChannel ch) {
                                ch.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(true),
                                        new HttpObjectAggregator(16 << 20), new Handler("HTTP/2"));
                            }
                        }));
            } else {
                ctx.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(16 << 20),
                        new Handler("HTTP/1.1"));
            }
            ctx.pipeline().remove(this);
        }
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final String protocol;

        Handler(String protocol) {
            this.protocol = protocol;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            requests.incrementAndGet();
            byte[] body = ByteBufUtil.getBytes(req.content());
            received.add(new Received(protocol, req.method().name(), req.uri(), req.headers().copy(),
                    req.trailingHeaders().copy(), body.length, sha256(body)));
            QueryStringDecoder q = new QueryStringDecoder(req.uri());
            String path = q.path();
            boolean keepAlive = HttpUtil.isKeepAlive(req);
            if (q.parameters().containsKey("hold")) {
                synchronized (held) {
                    held.add(() -> respond(ctx, HttpResponseStatus.OK, "released\n", keepAlive));
                }
            } else if (path.startsWith("/status/")) {
                respond(ctx, HttpResponseStatus.valueOf(Integer.parseInt(path.substring(8))), "status\n", keepAlive);
            } else if (path.equals("/delay")) {
                long ms = Long.parseLong(q.parameters().get("ms").getFirst());
                ctx.executor().schedule(() -> respond(ctx, HttpResponseStatus.OK, "late\n", keepAlive),
                        ms, TimeUnit.MILLISECONDS);
            } else if (path.equals("/trailers")) {
                trailers(ctx);
            } else if (path.equals("/big")) {
                big(ctx, Long.parseLong(q.parameters().get("bytes").getFirst()));
            } else if (path.equals("/close")) {
                ctx.channel().close(); // an HTTP/2 stream: reset; HTTP/1.1: the connection
            } else {
                respond(ctx, HttpResponseStatus.OK, body.length + " " + sha256(body), keepAlive);
            }
        }

        private void respond(ChannelHandlerContext ctx, HttpResponseStatus status, String text, boolean keepAlive) {
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                    Unpooled.copiedBuffer(text, StandardCharsets.UTF_8));
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain");
            r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, r.content().readableBytes());
            HttpUtil.setKeepAlive(r, keepAlive);
            var f = ctx.writeAndFlush(r);
            if (!keepAlive) {
                f.addListener(ChannelFutureListener.CLOSE);
            }
        }

        private void trailers(ChannelHandlerContext ctx) {
            HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            head.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/grpc");
            HttpUtil.setTransferEncodingChunked(head, true);
            ctx.write(head);
            ctx.write(new DefaultHttpContent(Unpooled.copiedBuffer("hello", StandardCharsets.UTF_8)));
            LastHttpContent last = new DefaultLastHttpContent();
            last.trailingHeaders().set("grpc-status", "0").set("grpc-message", "all good");
            ctx.writeAndFlush(last);
        }

        private void big(ChannelHandlerContext ctx, long bytes) {
            HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            HttpUtil.setContentLength(head, bytes);
            ctx.write(head);
            long sent = 0;
            while (sent < bytes) {
                int n = (int) Math.min(16384, bytes - sent);
                byte[] chunk = new byte[n];
                for (int i = 0; i < n; i++) {
                    chunk[i] = (byte) ((sent + i) % 251);
                }
                sent += n;
                ctx.write(new DefaultHttpContent(Unpooled.wrappedBuffer(chunk)));
            }
            ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
        }
    }
}
