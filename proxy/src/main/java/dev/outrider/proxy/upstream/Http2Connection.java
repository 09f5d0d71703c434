package dev.outrider.proxy.upstream;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Promise;

import java.util.concurrent.TimeUnit;

/**
 * One HTTP/2 connection (h2c with prior knowledge, or h2 chosen by ALPN over mTLS) to an upstream endpoint, shared by the requests of one event
 * loop: each request is a stream channel whose pipeline turns frames into HttpObjects, so the forwarding code
 * is the same as for HTTP/1.1. Streams are counted against the peer's SETTINGS_MAX_CONCURRENT_STREAMS;
 * after a GOAWAY no new stream is opened here (streams in flight finish).
 *
 * <p>Threading: used only on the pool's event loop.
 */
final class Http2Connection {
    /** Streams assumed allowed before the peer's SETTINGS arrive (RFC 9113 §6.5.2 recommends ≥ 100). */
    private static final int INITIAL_MAX_STREAMS = 100;
    private static final int MAX_HEADER_LIST_SIZE = 65536;

    private final UpstreamPool pool;
    private final long idleNanos;
    private ChannelFuture connect;
    private int openStreams;
    private long maxStreams = INITIAL_MAX_STREAMS;
    private boolean goingAway;

    Http2Connection(UpstreamPool pool, long idleNanos) {
        this.pool = pool;
        this.idleNanos = idleNanos;
    }

    ChannelInitializer<Channel> initializer() {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                install(ch.pipeline());
            }
        };
    }

    /** Adds the HTTP/2 client handlers (after TLS, when the connection has TLS). */
    void install(ChannelPipeline p) {
        p.addLast("idle", new IdleStateHandler(0, 0, idleNanos, TimeUnit.NANOSECONDS));
        p.addLast("h2", Http2FrameCodecBuilder.forClient()
                .initialSettings(Http2Settings.defaultSettings()
                        .pushEnabled(false)
                        .maxHeaderListSize(MAX_HEADER_LIST_SIZE))
                .validateHeaders(true)
                .build());
        p.addLast("mux", new Http2MultiplexHandler(new RefusePushHandler()));
        p.addLast("control", new ControlFrameHandler());
    }

    void connecting(ChannelFuture connect) {
        this.connect = connect;
    }

    boolean hasRoom() {
        if (goingAway || openStreams >= maxStreams) {
            return false;
        }
        return !connect.isDone() || connect.channel().isActive();
    }

    void openStream(Endpoint endpoint, Promise<UpstreamStream> promise) {
        openStreams++;
        connect.addListener((ChannelFuture f) -> {
            if (!f.isSuccess()) {
                openStreams--;
                promise.tryFailure(f.cause());
                return;
            }
            UpstreamHandler handler = new UpstreamHandler();
            new Http2StreamChannelBootstrap(f.channel())
                    .option(ChannelOption.AUTO_READ, false)
                    .handler(new ChannelInitializer<Http2StreamChannel>() {
                        @Override
                        protected void initChannel(Http2StreamChannel ch) {
                            ch.pipeline().addLast("idle", pool.idleHandler());
                            ch.pipeline().addLast("codec", new Http2StreamFrameToHttpObjectCodec(false, true));
                            ch.pipeline().addLast("upstream", handler);
                        }
                    })
                    .open()
                    .addListener(opened -> {
                        if (opened.isSuccess()) {
                            Http2StreamChannel stream = (Http2StreamChannel) opened.getNow();
                            stream.closeFuture().addListener(c -> openStreams--);
                            if (!promise.trySuccess(pool.newHttp2Stream(stream, handler, endpoint))) {
                                stream.close();
                            }
                        } else {
                            openStreams--;
                            promise.tryFailure(opened.cause());
                        }
                    });
        });
    }

    void close() {
        goingAway = true;
        connect.channel().close();
    }

    /** SETTINGS and GOAWAY from the upstream, after the multiplexer has handled the streams. */
    private final class ControlFrameHandler extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof Http2SettingsFrame settings) {
                    Long max = settings.settings().maxConcurrentStreams();
                    if (max != null) {
                        maxStreams = max;
                    }
                } else if (msg instanceof Http2GoAwayFrame) {
                    goingAway = true;
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof IdleStateEvent && openStreams == 0) {
                goingAway = true;
                ctx.close();
                return;
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            goingAway = true;
            ctx.close();
        }
    }

    /** Server push is disabled in our SETTINGS; a pushed stream is a protocol violation and is closed. */
    private static final class RefusePushHandler extends ChannelInboundHandlerAdapter {
        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ctx.close();
        }
    }
}
