package dev.outrider.core.net;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DuplexChannel;

import io.netty.util.ReferenceCountUtil;

import java.util.concurrent.TimeUnit;

/**
 * Ends an HTTP/1.1 connection after a refusal without destroying the refusal.
 *
 * <p>Closing a socket with unread request bytes in it makes TCP send a reset, and a reset can discard the
 * response before the client reads it (the client then sees "connection reset" or an empty reply instead of
 * the 413, 414 or 431 it was sent). So: half-close our side, which tells the client the response is complete,
 * read and drop whatever the client still sends for at most {@link #LINGER_MILLIS}, then close. What is read
 * meanwhile is dropped at the head of the pipeline, before TLS and HTTP decoding, so no handler sees another
 * request on the connection.
 *
 * <p>Used by the sidecar's local responses and the control plane's API server.
 */
public final class LingeringClose {

    /** How long a refused client may go on sending before the connection is closed anyway. */
    public static final long LINGER_MILLIS = 2000;

    private LingeringClose() {
    }

    /** Half-closes {@code ctx}'s connection, reads and drops for at most {@link #LINGER_MILLIS}, then closes. */
    public static void close(ChannelHandlerContext ctx) {
        Channel ch = ctx.channel();
        if (!(ch instanceof DuplexChannel duplex) || !ch.isActive()) {
            ctx.close();
            return;
        }
        duplex.shutdownOutput().addListener(f -> {
            if (!f.isSuccess()) {
                ctx.close();
                return;
            }
            if (ch.pipeline().get(Drop.class) == null) {
                ch.pipeline().addFirst(Drop.INSTANCE);
            }
            ch.config().setAutoRead(true);
            ctx.executor().schedule(() -> {
                ctx.close();
            }, LINGER_MILLIS, TimeUnit.MILLISECONDS);
        });
    }

    /** Releases everything read on a connection that is lingering before its close. */
    @ChannelHandler.Sharable
    private static final class Drop extends ChannelInboundHandlerAdapter {
        static final Drop INSTANCE = new Drop();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            // nothing was passed on
        }
    }
}
