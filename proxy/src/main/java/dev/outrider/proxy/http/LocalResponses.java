package dev.outrider.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

/**
 * Responses the sidecar makes itself (no route, upstream down, timeout, rejected request): a short
 * {@code text/plain} body that says what happened in words an operator can search for, and never anything
 * from the request beyond what the caller already sent (no policy internals, no upstream addresses).
 */
public final class LocalResponses {
    private static final String PREFIX = "outrider: ";

    private LocalResponses() {
    }

    public static FullHttpResponse of(ByteBufAllocator alloc, HttpResponseStatus status, String message,
                                      String requestId) {
        ByteBuf body = ByteBufUtil.writeUtf8(alloc, PREFIX + message + "\n");
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN + "; charset=utf-8")
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
        if (requestId != null) {
            response.headers().set(HeaderHygiene.X_REQUEST_ID, requestId);
        }
        return response;
    }
}
