package dev.outrider.proxy.http;

import dev.outrider.core.model.SpiffeId;
import dev.outrider.proxy.metrics.ConnectionRefusal;
import dev.outrider.proxy.metrics.Direction;
import dev.outrider.proxy.metrics.ProxyMetrics;
import dev.outrider.proxy.tunnel.ByteRelay;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.util.concurrent.GlobalEventExecutor;

import static java.util.Objects.requireNonNull;

/**
 * The open downstream connections of one listener direction: admitted against the connection limits,
 * counted in the active-connections gauge and reachable for the drain. The tracker is the first handler of
 * every downstream connection; it starts the first read because downstream connections run with auto-read off.
 *
 * <p>Limits: {@link #admit} runs first in the listener's {@code initChannel}, before any handler (TLS
 * included) exists, and closes a connection over the listener's limit; {@link #admitPeer} runs once the
 * caller's identity is known (after the inbound handshake) and closes a connection over that identity's
 * limit. Each refusal is counted in {@code outrider_connections_refused_total{direction, reason}}. What was
 * admitted is released when the connection closes (its close future completes exactly once), so counts
 * cannot leak. Thread-safe: connections of one listener live on several event loops ({@link ConnectionLimits}).
 */
public final class DownstreamConnections {
    private final ChannelGroup channels = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final ChannelHandler tracker;
    private final Direction direction;
    private final ProxyMetrics metrics;
    private final ConnectionLimits<SpiffeId> limits;
    private final ChannelFutureListener release;

    /**
     * @param maxConnections        open connections of this listener direction
     * @param maxConnectionsPerPeer open connections of one caller identity (inbound; unused where no identity
     *                              is known)
     */
    public DownstreamConnections(Direction direction, ProxyMetrics metrics, int maxConnections,
                                 int maxConnectionsPerPeer) {
        this.direction = requireNonNull(direction, "direction");
        this.metrics = requireNonNull(metrics, "metrics");
        this.tracker = new Tracker(direction, metrics, channels);
        this.limits = new ConnectionLimits<>(maxConnections, maxConnectionsPerPeer);
        this.release = f -> limits.release();
    }

    /**
     * Admits a just-accepted connection, or closes it when the listener has its maximum open. Call first in
     * {@code initChannel}; on false add nothing to the pipeline.
     */
    public boolean admit(Channel ch) {
        if (!limits.tryAcquire()) {
            metrics.connectionRefused(direction, ConnectionRefusal.LISTENER_LIMIT);
            ch.close();
            return false;
        }
        ch.closeFuture().addListener(release);
        return true;
    }

    /**
     * Admits a connection for its caller's identity, or closes it when that identity has its maximum open.
     * Call once per connection, when the identity is known.
     */
    public boolean admitPeer(Channel ch, SpiffeId peer) {
        requireNonNull(peer, "peer");
        if (!limits.tryAcquire(peer)) {
            metrics.connectionRefused(direction, ConnectionRefusal.PEER_LIMIT);
            ch.close();
            return false;
        }
        ch.closeFuture().addListener(f -> limits.release(peer));
        return true;
    }

    /** What the limits count now (for tests: a closed connection leaves nothing behind). */
    int admitted() {
        return limits.open();
    }

    int admitted(SpiffeId peer) {
        return limits.open(peer);
    }

    int trackedPeers() {
        return limits.trackedPeers();
    }

    /** The handler to put first in each downstream pipeline (shared, stateless). */
    /** Counts a connection closed on arrival for {@code reason} by the handler that closes it. */
    public void refused(ConnectionRefusal reason) {
        metrics.connectionRefused(direction, reason);
    }

    public ChannelHandler tracker() {
        return tracker;
    }

    public int size() {
        return channels.size();
    }

    /**
     * Asks every connection to finish politely: HTTP/2 sends GOAWAY twice ({@link Http2DrainHandler}) and closes
     * when its streams are done (bounded by the codec's graceful shutdown timeout); HTTP/1.1 closes when idle or
     * after the current response; a tunnel (WebSocket, TCP port) is told, and runs on until it ends or the drain
     * timeout closes it; a connection whose protocol is not known yet (handshake, detection) closes now.
     */
    public void drain() {
        for (Channel ch : channels) {
            ch.eventLoop().execute(() -> {
                if (ch.pipeline().get(Http2FrameCodec.class) != null
                        || ch.pipeline().get(Http1ServerCodec.class) != null) {
                    ch.pipeline().fireUserEventTriggered(DrainEvent.INSTANCE);
                } else if (ByteRelay.relays(ch)) {
                    ch.pipeline().fireUserEventTriggered(ByteRelay.DRAIN);
                } else {
                    ch.close();
                }
            });
        }
    }

    /** Closes whatever is still open (drain timeout reached). */
    public void closeAll() {
        channels.close();
    }

    @ChannelHandler.Sharable
    private static final class Tracker extends ChannelInboundHandlerAdapter {
        private final Direction direction;
        private final ProxyMetrics metrics;
        private final ChannelGroup channels;

        Tracker(Direction direction, ProxyMetrics metrics, ChannelGroup channels) {
            this.direction = direction;
            this.metrics = metrics;
            this.channels = channels;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            channels.add(ctx.channel());
            metrics.connectionOpened(direction);
            ctx.fireChannelActive();
            ctx.read();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            metrics.connectionClosed(direction);
            ctx.fireChannelInactive();
        }
    }
}
