package dev.outrider.proxy.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;

/**
 * Pipeline position: after {@link Http2DrainHandler}, behind the HTTP/2 multiplexer of a downstream connection.
 * Closes the connection
 * (GOAWAY first, through the codec's graceful close) when it has been idle for the idle timeout with no
 * stream open, or when the client half-closed it (TCP FIN): then the streams whose request is complete are
 * answered before the close (bounded by the codec's graceful shutdown timeout), and the streams still
 * waiting for request body, which can never come, are reset (CANCEL). Drops connection-level frames nobody
 * else consumes.
 */
final class Http2IdleCloseHandler extends ChannelInboundHandlerAdapter {
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent) {
            Http2FrameCodec codec = ctx.pipeline().get(Http2FrameCodec.class);
            if (codec == null || codec.connection().numActiveStreams() == 0) {
                ctx.close();
            }
            return;
        }
        if (evt instanceof ChannelInputShutdownEvent) {
            Http2FrameCodec codec = ctx.pipeline().get(Http2FrameCodec.class);
            if (codec != null) {
                resetStreamsAwaitingBody(codec, ctx.pipeline().context(codec));
            }
            ctx.close();
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    private static void resetStreamsAwaitingBody(Http2FrameCodec codec, ChannelHandlerContext codecCtx) {
        try {
            codec.connection().forEachActiveStream(stream -> {
                if (stream.state().remoteSideOpen()) {
                    codec.resetStream(codecCtx, stream.id(), Http2Error.CANCEL.code(), codecCtx.newPromise());
                }
                return true;
            });
        } catch (Http2Exception e) {
            throw new IllegalStateException(e); // only the visitor could throw it, and it does not
        }
        codecCtx.flush();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ReferenceCountUtil.release(msg); // SETTINGS, PING acks, GOAWAY: handled by the codec already
    }
}
