package dev.outrider.proxy.inbound;

import dev.outrider.proxy.accesslog.AccessLogEntry;
import dev.outrider.proxy.http.HeaderHygiene;
import dev.outrider.proxy.http.LocalRejection;
import dev.outrider.proxy.http.LocalResponses;
import dev.outrider.proxy.metrics.Direction;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;

import java.nio.charset.StandardCharsets;

/**
 * How the inbound policy handlers answer a request themselves (401, 403) and what happens to the rest of it.
 * <ul>
 *   <li>HTTP/2: the response ends the stream; a request body still arriving is refused with RST_STREAM.</li>
 *   <li>HTTP/1.1, a keep-alive request whose body is absent or small ({@value #MAX_SKIPPED_BODY} bytes, by
 *       Content-Length): the response is sent at once, the body is read and dropped, and the connection
 *       carries the next request (a denied request does not cost the sidecars their connection).</li>
 *   <li>HTTP/1.1 otherwise (chunked or large body, {@code Connection: close}, draining, or an
 *       {@code Expect: 100-continue} whose body has not come: the caller may or may not send it now, so the
 *       connection's framing is in doubt): the response, then a lingering close ({@link LocalRejection}).</li>
 * </ul>
 * Every local reply is counted and written to the access log with the authentication or authorization
 * outcome, like a forwarded request.
 *
 * <p>gRPC requests ({@code content-type: application/grpc...}) get what gRPC clients understand: HTTP 200
 * with no body and {@code grpc-status} / {@code grpc-message} (a trailers-only response on HTTP/2): 401 →
 * UNAUTHENTICATED (16), 403 → PERMISSION_DENIED (7), 429 and the 503 of a concurrency limit →
 * RESOURCE_EXHAUSTED (8, which gRPC clients do not retry transparently, unlike UNAVAILABLE).
 */
final class LocalReply {
    static final long MAX_SKIPPED_BODY = 64 * 1024;
    static final String GRPC_CONTENT_TYPE = "application/grpc";
    static final AsciiString GRPC_STATUS = AsciiString.cached("grpc-status");
    static final AsciiString GRPC_MESSAGE = AsciiString.cached("grpc-message");

    private LocalReply() {
    }

    /**
     * @param extra headers to add to the response ({@code WWW-Authenticate}, {@code Retry-After}), or null
     */
    static void send(ChannelHandlerContext ctx, InboundPolicy policy, InboundRequest state, HttpResponseStatus status,
                     String message, HttpHeaders extra, AccessLogEntry.Auth auth) {
        HttpRequest request = state.request();
        String requestId = request.headers().get(HeaderHygiene.X_REQUEST_ID);
        FullHttpResponse response = isGrpc(request) ? grpc(ctx, status, message, requestId)
                : LocalResponses.of(ctx.alloc(), status, message, requestId);
        if (extra != null) {
            response.headers().add(extra);
        }
        status = response.status();
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
        boolean skippable = !HttpUtil.isTransferEncodingChunked(request) && length <= MAX_SKIPPED_BODY
                && (complete || !HttpUtil.is100ContinueExpected(request));
        if (skippable && HttpUtil.isKeepAlive(request) && !policy.drain().isDraining()) {
            state.discarding = !complete;
            HttpUtil.setKeepAlive(response, true);
            ctx.writeAndFlush(response);
            return;
        }
        state.discardingForever = true;
        LocalRejection.respondAndClose(ctx, response);
    }

    static boolean isGrpc(HttpRequest request) {
        String type = request.headers().get(HttpHeaderNames.CONTENT_TYPE);
        return type != null && type.regionMatches(true, 0, GRPC_CONTENT_TYPE, 0, GRPC_CONTENT_TYPE.length());
    }

    private static FullHttpResponse grpc(ChannelHandlerContext ctx, HttpResponseStatus status, String message,
                                         String requestId) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                Unpooled.EMPTY_BUFFER);
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, GRPC_CONTENT_TYPE)
                .setInt(GRPC_STATUS, grpcStatus(status))
                .set(GRPC_MESSAGE, grpcMessage("outrider: " + message))
                .setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
        if (requestId != null) {
            response.headers().set(HeaderHygiene.X_REQUEST_ID, requestId);
        }
        return response;
    }

    static int grpcStatus(HttpResponseStatus status) {
        return switch (status.code()) {
            case 401 -> 16; // UNAUTHENTICATED
            case 403 -> 7; // PERMISSION_DENIED
            case 429, 503 -> 8; // RESOURCE_EXHAUSTED
            default -> 2; // UNKNOWN
        };
    }

    /** gRPC's percent-encoding of {@code grpc-message}: bytes outside printable ASCII, and '%'. */
    static String grpcMessage(String message) {
        StringBuilder b = new StringBuilder(message.length());
        for (byte c : message.getBytes(StandardCharsets.UTF_8)) {
            if (c >= 0x20 && c <= 0x7e && c != '%') {
                b.append((char) c);
            } else {
                b.append('%').append(Character.toUpperCase(Character.forDigit((c >> 4) & 0xf, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return b.toString();
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
