package dev.outrider.proxy.inbound;

import dev.outrider.proxy.accesslog.AccessLogEntry;
import dev.outrider.proxy.http.HeaderHygiene;
import dev.outrider.proxy.http.KeepAlive;
import dev.outrider.proxy.http.LocalRejection;
import dev.outrider.proxy.http.LocalResponses;
import dev.outrider.proxy.metrics.Direction;
import dev.outrider.proxy.tracing.HopSpan;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

/**
 * How the inbound checks' refusals (401, 403, 429, 503) are answered, counted and logged, and what happens to
 * the rest of the refused request. The response itself is {@link LocalResponses}' (text, or gRPC's status fields
 * for a gRPC call); whether the connection carries the next request is {@link KeepAlive#afterRefusal}'s:
 * <ul>
 *   <li>HTTP/2: the response ends the stream; a request body still arriving is refused with RST_STREAM.</li>
 *   <li>HTTP/1.1, a keep-alive request whose body is absent or small: the response is sent at once, the body is
 *       read and dropped, and the connection carries the next request (a denied request does not cost the
 *       sidecars their connection).</li>
 *   <li>HTTP/1.1 otherwise: the response, then a lingering close ({@link LocalResponses#respondAndClose}).</li>
 * </ul>
 * Every local reply is counted and written to the access log with the authentication or authorization
 * outcome, like a forwarded request, and recorded in the security event stream (the refusal's policy, rule and
 * reason; never a token or header value).
 */
final class LocalReply {
    private LocalReply() {
    }

    /**
     * The access log records the outcome the checks recorded in {@code state} ({@link InboundRequest#auth}).
     *
     * @param extra headers to add to the response ({@code WWW-Authenticate}, {@code Retry-After}), or null
     */
    static void send(ChannelHandlerContext ctx, InboundPolicy policy, InboundRequest state, LocalRejection rejection,
                     HttpHeaders extra) {
        HttpRequest request = state.request();
        String requestId = request.headers().get(HeaderHygiene.X_REQUEST_ID);
        FullHttpResponse response = LocalResponses.of(ctx.alloc(), rejection, requestId,
                LocalResponses.isGrpc(request));
        if (extra != null) {
            response.headers().add(extra);
        }
        int status = response.status().code();
        boolean http2 = ctx.channel() instanceof Http2StreamChannel;
        boolean complete = request instanceof LastHttpContent;
        long duration = System.nanoTime() - state.startNanos;
        int responseBytes = response.content().readableBytes();
        policy.metrics().requestCompleted(Direction.INBOUND, policy.metrics().mesh().inbound(state.peerPrincipal()),
                status, duration, 0, responseBytes);
        HopSpan span = policy.tracing().start(Direction.INBOUND, request.headers(), request.method().name(),
                request.uri(), state.startMillis * 1_000_000L);
        if (span != null) {
            span.end(status, -1, null, null, state.peerPrincipal(), state.auth());
        }
        if (policy.accessLog().enabled()) {
            policy.accessLog().log(new AccessLogEntry(state.startMillis, Direction.INBOUND,
                    http2 ? "HTTP/2" : "HTTP/1.1", request.method().name(), request.uri(), status, duration, 0,
                    responseBytes, null, requestId, null, state.auth(), span == null ? null : span.traceId()));
        }
        if (policy.securityEvents().admit()) {
            policy.securityEvents().emit(state.securityEvent(state.refusalType(), requestId));
        }
        if (!http2 && KeepAlive.afterRefusal(request, complete, policy.drain().isDraining())) {
            ReferenceCountUtil.release(request);
            state.discarding = !complete;
            KeepAlive.mark(response, true);
            ctx.writeAndFlush(response);
            return;
        }
        ReferenceCountUtil.release(request);
        state.discardingForever = true;
        LocalResponses.respondAndClose(ctx, response);
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
