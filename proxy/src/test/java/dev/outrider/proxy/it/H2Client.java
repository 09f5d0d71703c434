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
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
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
        connection = new Bootstrap()
                .group(group)
                .channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
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

    @Override
    public void close() {
        connection.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
