package dev.outrider.proxy.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http2.Http2StreamChannel;

import java.util.concurrent.TimeUnit;

/**
 * How a request handler refuses a request with a local error response, for the request handlers that check
 * before anything is forwarded ({@link RequestGuardHandler}, {@link PathNormalizationHandler}, and the inbound
 * authentication and authorization handlers when the request body cannot be skipped). On HTTP/2 the
 * stream ends after the response. On HTTP/1.1 the connection ends after it, with a lingering close: the
 * request body and anything pipelined behind it are never read as a request, since nothing says where the
 * refused request ends once we stop parsing it the usual way.
 *
 * <p>The caller must drop every message that reaches it after calling {@link #respondAndClose}: the
 * lingering close turns auto-read on, and what is read then still travels the pipeline.
 */
public final class LocalRejection {
    static final long LINGER_MILLIS = 2000;

    private LocalRejection() {
    }

    static void respondAndClose(ChannelHandlerContext ctx, HttpResponseStatus status, String message) {
        respondAndClose(ctx, LocalResponses.of(ctx.alloc(), status, message, null));
    }

    /** Sends {@code response}, then ends the HTTP/2 stream, or the HTTP/1.1 connection with a lingering close. */
    public static void respondAndClose(ChannelHandlerContext ctx, FullHttpResponse response) {
        if (ctx.channel() instanceof Http2StreamChannel) {
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        HttpUtil.setKeepAlive(response, false);
        ctx.writeAndFlush(response).addListener(f -> lingeringClose(ctx));
    }

    /**
     * Closing with unread request bytes in the socket makes TCP send a reset, which can destroy the error
     * response before the client reads it. So: half-close our side (the client sees the end of the response),
     * read and drop what the client still sends for at most {@link #LINGER_MILLIS}, then close.
     */
    private static void lingeringClose(ChannelHandlerContext ctx) {
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
            ch.config().setAutoRead(true); // everything read from now on is dropped by the refusing handler
            ctx.executor().schedule(() -> {
                ctx.close();
            }, LINGER_MILLIS, TimeUnit.MILLISECONDS);
        });
    }
}
