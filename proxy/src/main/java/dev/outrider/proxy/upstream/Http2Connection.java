package dev.outrider.proxy.upstream;

import dev.outrider.proxy.http.FlushConsolidation;
import dev.outrider.proxy.http.IdleTimeoutHandler;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.util.concurrent.Promise;

import java.nio.channels.ClosedChannelException;

/**
 * One HTTP/2 connection (h2c with prior knowledge, or h2 chosen by ALPN over mTLS) to an upstream endpoint, shared
 * by the requests of one event loop: each request is a stream of the connection's {@link Http2StreamRouter}, so
 * the forwarding code is the same as for HTTP/1.1. Streams are counted against the peer's
 * SETTINGS_MAX_CONCURRENT_STREAMS; after a GOAWAY no new stream is opened here (streams in flight finish).
 *
 * <p>Threading: used only on the pool's event loop.
 */
final class Http2Connection {
    /** Streams assumed allowed before the peer's SETTINGS arrive (RFC 9113 §6.5.2 recommends ≥ 100). */
    private static final int INITIAL_MAX_STREAMS = 100;
    private static final int MAX_HEADER_LIST_SIZE = 65536;

    private final long idleNanos;
    private final Http2StreamRouter router;
    private ChannelFuture connect;
    private int openStreams;
    private long maxStreams = INITIAL_MAX_STREAMS;
    private boolean goingAway;

    Http2Connection(long idleNanos) {
        this.idleNanos = idleNanos;
        this.router = new Http2StreamRouter(this, idleNanos);
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
        FlushConsolidation.add(p);
        p.addLast("idle", new IdleTimeoutHandler(idleNanos));
        p.addLast("h2", Http2FrameCodecBuilder.forClient()
                .initialSettings(Http2Settings.defaultSettings()
                        .pushEnabled(false)
                        .maxHeaderListSize(MAX_HEADER_LIST_SIZE))
                .validateHeaders(true)
                .build());
        p.addLast("streams", router);
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
            if (!router.active()) {
                openStreams--;
                promise.tryFailure(new ClosedChannelException());
                return;
            }
            Http2UpstreamStream stream = router.newStream(endpoint);
            if (!promise.trySuccess(stream)) {
                stream.abandon(); // the request went away meanwhile (its promise already settled the endpoint)
            }
        });
    }

    int openStreams() {
        return openStreams;
    }

    /** A stream's lease ended or the codec closed it, whichever came first. */
    void streamEnded() {
        openStreams--;
    }

    void maxStreams(long max) {
        maxStreams = max;
    }

    void goingAway() {
        goingAway = true;
    }

    void close() {
        goingAway = true;
        connect.channel().close();
    }
}
