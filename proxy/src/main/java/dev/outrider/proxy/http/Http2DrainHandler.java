package dev.outrider.proxy.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.DefaultHttp2PingFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2PingFrame;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.concurrent.TimeUnit;

/**
 * Pipeline position: after the HTTP/2 multiplexer of a downstream connection, before {@link Http2IdleCloseHandler}.
 * Drains the connection as RFC 9113 §6.8 describes, on {@link DrainEvent}:
 * <pre>
 *  server (draining)                                  client
 *  GOAWAY(last-stream-id 2^31-1, NO_ERROR) ─────────▶ stops opening streams here
 *  PING(payload)                           ─────────▶
 *        streams the client opened before it saw the GOAWAY arrive, and are served
 *                                          ◀───────── PING ack: nothing opened before the GOAWAY is still on the way
 *  GOAWAY(last-stream-id N, NO_ERROR)      ─────────▶ streams above N were not processed: retry them elsewhere
 *  close once the streams up to N are done (the codec's graceful shutdown, bounded by the drain timeout)
 * </pre>
 * A single GOAWAY with the last stream created would refuse the requests already on the wire: their HEADERS are
 * ignored, and a DATA frame following one used to be a connection error that took every stream of the connection
 * with it ({@link GoAwayTolerantConnection} makes such frames ignored instead). When the ack does not come within
 * {@link #PING_ACK_TIMEOUT_MILLIS} the final GOAWAY goes anyway.
 *
 * <p>Threading: the connection's event loop; fields need no synchronization.
 */
final class Http2DrainHandler extends ChannelInboundHandlerAdapter {
    /** How long to wait for the PING ack before the final GOAWAY. */
    static final long PING_ACK_TIMEOUT_MILLIS = 1000;
    /** The PING payload that marks the drain's round trip ("drainnow" in ASCII). */
    static final long DRAIN_PING = 0x647261696e6e6f77L;

    private boolean draining;
    private ScheduledFuture<?> pingTimeout;

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == DrainEvent.INSTANCE) {
            startDrain(ctx);
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    private void startDrain(ChannelHandlerContext ctx) {
        if (draining) {
            return;
        }
        draining = true;
        ctx.write(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR).setExtraStreamIds(Integer.MAX_VALUE));
        ctx.writeAndFlush(new DefaultHttp2PingFrame(DRAIN_PING));
        pingTimeout = ctx.executor().schedule(() -> finishDrain(ctx), PING_ACK_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** The final GOAWAY (the last stream the client opened), then the codec's graceful close. */
    private void finishDrain(ChannelHandlerContext ctx) {
        if (pingTimeout == null) {
            return;
        }
        pingTimeout.cancel(false);
        pingTimeout = null;
        ctx.writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR));
        ctx.channel().close();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Http2PingFrame ping && ping.ack() && ping.content() == DRAIN_PING) {
            ReferenceCountUtil.release(msg);
            finishDrain(ctx);
            return;
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (pingTimeout != null) {
            pingTimeout.cancel(false);
            pingTimeout = null;
        }
        ctx.fireChannelInactive();
    }
}
