package dev.outrider.proxy.inbound;

import dev.outrider.proxy.accesslog.AccessLogEntry;
import dev.outrider.proxy.http.HeaderHygiene;
import dev.outrider.proxy.http.LocalRejection;
import dev.outrider.proxy.http.LocalResponses;
import dev.outrider.proxy.metrics.Direction;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.ReferenceCountUtil;

/**
 * How the inbound policy handlers answer a request themselves (401, 403) and what happens to the rest of it.
 * <ul>
 *   <li>HTTP/2: the response ends the stream; a request body still arriving is refused with RST_STREAM.</li>
 *   <li>HTTP/1.1, a keep-alive request whose body is absent or small ({@value #MAX_SKIPPED_BODY} bytes, by
 *       Content-Length): the response is sent at once, the body is read and dropped, and the connection
 *       carries the next request (a denied request does not cost the sidecars their connection).</li>
 *   <li>HTTP/1.1 otherwise (chunked or large body, {@code Connection: close}, draining): the response, then
 *       a lingering close ({@link LocalRejection}).</li>
 * </ul>
 * Every local reply is counted and written to the access log with the authentication or authorization
 * outcome, like a forwarded request.
 */
final class LocalReply {
    static final long MAX_SKIPPED_BODY = 64 * 1024;

    private LocalReply() {
    }

    static void send(ChannelHandlerContext ctx, InboundPolicy policy, InboundRequest state, HttpResponseStatus status,
                     String message, CharSequence wwwAuthenticate, AccessLogEntry.Auth auth) {
        HttpRequest request = state.request();
        String requestId = request.headers().get(HeaderHygiene.X_REQUEST_ID);
        FullHttpResponse response = LocalResponses.of(ctx.alloc(), status, message, requestId);
        if (wwwAuthenticate != null) {
            response.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, wwwAuthenticate);
        }
        boolean http2 = ctx.channel() instanceof Http2StreamChannel;
        boolean complete = request instanceof LastHttpContent;
        long duration = System.nanoTime() - state.startNanos;
        int responseBytes = response.content().readableBytes();
        policy.metrics().requestCompleted(Direction.INBOUND, status.code(), duration, 0, responseBytes);
        policy.accessLog().log(new AccessLogEntry(state.startMillis, Direction.INBOUND,
                http2 ? "HTTP/2" : "HTTP/1.1", request.method().name(), request.uri(), status.code(), duration, 0,
                responseBytes, null, requestId, null, auth));
        ReferenceCountUtil.release(request);
        if (http2) {
            state.discardingForever = true;
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        long length = HttpUtil.getContentLength(request, -1L);
        boolean skippable = !HttpUtil.isTransferEncodingChunked(request) && length <= MAX_SKIPPED_BODY;
        if (skippable && HttpUtil.isKeepAlive(request) && !policy.drain().isDraining()) {
            state.discarding = !complete;
            HttpUtil.setKeepAlive(response, true);
            ctx.writeAndFlush(response);
            return;
        }
        state.discardingForever = true;
        LocalRejection.respondAndClose(ctx, response);
    }

    /**
     * Drops {@code msg} if it belongs to a request already answered locally.
     *
     * @return true when dropped (and released)
     */
    static boolean dropIfAnswered(InboundRequest state, Object msg) {
        if (state.discardingForever) {
            ReferenceCountUtil.release(msg);
            return true;
        }
        if (state.discarding && msg instanceof HttpContent) {
            if (msg instanceof LastHttpContent) {
                state.discarding = false;
            }
            ReferenceCountUtil.release(msg);
            return true;
        }
        return false;
    }
}
