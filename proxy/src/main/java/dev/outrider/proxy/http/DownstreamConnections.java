package dev.outrider.proxy.http;

import dev.outrider.proxy.metrics.Direction;
import dev.outrider.proxy.metrics.ProxyMetrics;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.util.concurrent.GlobalEventExecutor;

import static java.util.Objects.requireNonNull;

/**
 * The open downstream connections of one listener direction: counted in the active-connections gauge and
 * reachable for the drain. The tracker is the first handler of every downstream connection; it starts the
 * first read because downstream connections run with auto-read off.
 */
public final class DownstreamConnections {
    private final ChannelGroup channels = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final ChannelHandler tracker;

    public DownstreamConnections(Direction direction, ProxyMetrics metrics) {
        requireNonNull(direction, "direction");
        requireNonNull(metrics, "metrics");
        this.tracker = new Tracker(direction, metrics, channels);
    }

    /** The handler to put first in each downstream pipeline (shared, stateless). */
    public ChannelHandler tracker() {
        return tracker;
    }

    public int size() {
        return channels.size();
    }

    /**
     * Asks every connection to finish politely: HTTP/2 sends GOAWAY and closes when its streams are done
     * (bounded by the codec's graceful shutdown timeout); HTTP/1.1 closes when idle or after the current
     * response; a connection that has not yet sent a request closes now.
     */
    public void drain() {
        for (Channel ch : channels) {
            ch.eventLoop().execute(() -> {
                if (ch.pipeline().get(Http2FrameCodec.class) != null) {
                    ch.close();
                } else if (ch.pipeline().get(Http1ServerCodec.class) != null) {
                    ch.pipeline().fireUserEventTriggered(DrainEvent.INSTANCE);
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
