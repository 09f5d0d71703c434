package dev.outrider.proxy.forward;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;

/**
 * A request known to be complete with no body and no trailers, as the one message written upstream: an HTTP/2
 * upstream sends it as a single HEADERS frame with END_STREAM (RFC 9113 §8.1), not HEADERS followed by an empty
 * DATA frame; an HTTP/1.1 upstream gets a head with nothing after it.
 *
 * <p>A {@code Transfer-Encoding: chunked} on such a request describes an empty body: Netty's HTTP/2 → HTTP/1.1
 * conversion adds it to every request whose HEADERS lacked END_STREAM and Content-Length, and an HTTP/1.1 caller
 * may have sent a lone terminating chunk. It is dropped, so the application never sees a chunked request without
 * a body (strict servers and WAFs refuse a chunked GET); methods that define a body keep an explicit
 * {@code Content-Length: 0} (RFC 9110 §8.6).
 */
final class BodylessRequests {
    private BodylessRequests() {
    }

    /** {@code request} (headers shared, not copied) with an empty body and no trailers. */
    static FullHttpRequest of(HttpRequest request) {
        HttpHeaders headers = request.headers();
        if (HttpUtil.isTransferEncodingChunked(request)) {
            headers.remove(HttpHeaderNames.TRANSFER_ENCODING);
            if (definesBody(request.method())) {
                headers.set(HttpHeaderNames.CONTENT_LENGTH, 0);
            }
        }
        return new DefaultFullHttpRequest(request.protocolVersion(), request.method(), request.uri(),
                Unpooled.EMPTY_BUFFER, headers, EmptyHttpHeaders.INSTANCE);
    }

    /** Methods whose requests carry content by definition (RFC 9110 §9.3, RFC 5789). */
    private static boolean definesBody(HttpMethod method) {
        return method.equals(HttpMethod.POST) || method.equals(HttpMethod.PUT) || method.equals(HttpMethod.PATCH);
    }
}
