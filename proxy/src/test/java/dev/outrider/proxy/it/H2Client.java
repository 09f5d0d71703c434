package dev.outrider.proxy.it;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DuplexChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A Netty h2c client with prior knowledge (the JDK client cannot do that): one connection, a stream per
 * request, each response aggregated with its trailers and copied off the pooled buffers.
 */
final class H2Client implements AutoCloseable {
    /** A response, copied: status, headers, body text, trailers. */
    record Response(HttpResponseStatus status, HttpHeaders headers, String body, HttpHeaders trailers) {
    }

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel connection;

    H2Client(InetSocketAddress address) throws InterruptedException {
        this(address, null);
    }

    /** Over TLS when {@code tls} is not null (a client context offering h2 by ALPN). */
    H2Client(InetSocketAddress address, SslContext tls) throws InterruptedException {
        connection = new Bootstrap()
                .group(group)
                .channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (tls != null) {
                            ch.pipeline().addLast(tls.newHandler(ch.alloc(), address.getHostString(),
                                    address.getPort()));
                        }
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forClient().build(),
                                new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
                    }
                })
                .connect(address).sync().channel();
    }

    static FullHttpRequest request(HttpMethod method, String path, String authority, String body) {
        FullHttpRequest r = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, path,
                Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
        r.headers().set(HttpHeaderNames.HOST, authority); // becomes :authority
        r.headers().set("x-http2-scheme", "http");
        return r;
    }

    /**
     * Sends {@code headers} as one HEADERS frame that ends the stream, as given: nothing validates or tidies
     * the pseudo-headers (a {@code :path} with a space, a raw byte above 0x7F, ...), as a hostile peer would.
     */
    CompletableFuture<Response> sendRaw(Http2Headers headers) {
        return send(new DefaultHttp2HeadersFrame(headers, true));
    }

    /** An unvalidated GET: {@code :method GET}, {@code :scheme http}, {@code :path} and {@code :authority}. */
    static Http2Headers get(String path, String authority) {
        return new DefaultHttp2Headers(false).method("GET").scheme("http").path(path).authority(authority);
    }

    /** Sends {@code request} on a new stream; the future completes with the whole response. */
    CompletableFuture<Response> send(FullHttpRequest request) {
        return send((Object) request);
    }

    private CompletableFuture<Response> send(Object request) {
        CompletableFuture<Response> result = new CompletableFuture<>();
        new Http2StreamChannelBootstrap(connection)
                .handler(new ChannelInitializer<Http2StreamChannel>() {
                    @Override
                    protected void initChannel(Http2StreamChannel ch) {
                        ch.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(false),
                                new HttpObjectAggregator(16 << 20),
                                new SimpleChannelInboundHandler<FullHttpResponse>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse r) {
                                        result.complete(new Response(r.status(), r.headers().copy(),
                                                r.content().toString(StandardCharsets.UTF_8),
                                                r.trailingHeaders().copy()));
                                    }

                                    @Override
                                    public void channelInactive(ChannelHandlerContext ctx) {
                                        result.completeExceptionally(new IllegalStateException("stream closed"));
                                    }

                                    @Override
                                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                        result.completeExceptionally(cause);
                                        ctx.close();
                                    }
                                });
                    }
                })
                .open()
                .addListener(f -> {
                    if (f.isSuccess()) {
                        ((Channel) f.getNow()).writeAndFlush(request);
                    } else {
                        ReferenceCountUtil.release(request);
                        result.completeExceptionally(f.cause());
                    }
                });
        return result.orTimeout(10, TimeUnit.SECONDS);
    }

    /**
     * Sends {@code headers} as one HEADERS frame with END_STREAM on a new stream, as given (no conversion, so
     * a request may carry fields no HttpObject would produce); the future completes with the response's
     * {@code :status}.
     */
    CompletableFuture<String> sendHeaders(Http2Headers headers) {
        CompletableFuture<String> status = new CompletableFuture<>();
        new Http2StreamChannelBootstrap(connection)
                .handler(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        if (msg instanceof Http2HeadersFrame frame && frame.headers().status() != null) {
                            status.complete(frame.headers().status().toString());
                        }
                        ReferenceCountUtil.release(msg);
                    }

                    @Override
                    public void channelInactive(ChannelHandlerContext ctx) {
                        status.completeExceptionally(new IllegalStateException("stream closed"));
                    }
                })
                .open()
                .addListener(f -> {
                    if (f.isSuccess()) {
                        ((Channel) f.getNow()).writeAndFlush(new DefaultHttp2HeadersFrame(headers, true));
                    } else {
                        status.completeExceptionally(f.cause());
                    }
                });
        return status.orTimeout(10, TimeUnit.SECONDS);
    }

    /** Half-closes the connection (TCP FIN after what was written); responses can still arrive. */
    void shutdownOutput() {
        ((DuplexChannel) connection).shutdownOutput().syncUninterruptibly();
    }

    @Override
    public void close() {
        connection.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
