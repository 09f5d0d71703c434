package dev.outrider.proxy.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;

/**
 * Pipeline position: after the HTTP/2 multiplexer of a downstream connection. Closes the connection
 * (GOAWAY first, through the codec's graceful close) when it has been idle for the idle timeout with no
 * stream open, and drops connection-level frames nobody else consumes.
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
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ReferenceCountUtil.release(msg); // SETTINGS, PING acks, GOAWAY: handled by the codec already
    }
}
