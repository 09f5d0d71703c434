package dev.outrider.proxy.it;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A WebSocket echo server on 127.0.0.1 built from Netty's WebSocket server handler (RFC 6455 handshake, framing,
 * close handshake): every data frame comes back as it was sent. It counts the handshakes it completed, the
 * upgrade requests it saw and the close frames it received.
 */
final class WebSocketEcho implements AutoCloseable {
    /** Larger than any message the tests send: the server holds one frame at a time. */
    static final int MAX_FRAME = 32 * 1024 * 1024;

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;
    final AtomicInteger handshakes = new AtomicInteger();
    final AtomicInteger upgradeRequests = new AtomicInteger();
    final AtomicInteger closesReceived = new AtomicInteger();

    WebSocketEcho() throws InterruptedException {
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec());
                        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                if (msg instanceof HttpRequest r
                                        && r.headers().contains("upgrade")) {
                                    upgradeRequests.incrementAndGet();
                                }
                                ctx.fireChannelRead(msg);
                            }
                        });
                        ch.pipeline().addLast(new HttpObjectAggregator(65536));
                        ch.pipeline().addLast(new WebSocketServerProtocolHandler(WebSocketServerProtocolConfig.newBuilder()
                                .websocketPath("/ws").maxFramePayloadLength(MAX_FRAME).handleCloseFrames(false)
                                .build()));
                        ch.pipeline().addLast(new SimpleChannelInboundHandler<WebSocketFrame>(false) {
                            @Override
                            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                                if (evt instanceof WebSocketServerProtocolHandler.HandshakeComplete) {
                                    handshakes.incrementAndGet();
                                }
                                ctx.fireUserEventTriggered(evt);
                            }

                            @Override
                            protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
                                if (frame instanceof CloseWebSocketFrame close) {
                                    closesReceived.incrementAndGet();
                                    ctx.writeAndFlush(close).addListener(f -> ctx.close()); // echo the close: done
                                    return;
                                }
                                ctx.writeAndFlush(frame);
                            }
                        });
                    }
                }).bind("127.0.0.1", 0).sync().channel();
    }

    int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
