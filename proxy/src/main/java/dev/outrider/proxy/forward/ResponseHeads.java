package dev.outrider.proxy.forward;

import dev.outrider.proxy.http.HeaderHygiene;
import dev.outrider.proxy.http.KeepAlive;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;

/**
 * A forwarded response's head, made right for the caller's protocol before {@link Exchange} writes it
 * downstream. Pure functions on the head.
 */
final class ResponseHeads {
    private ResponseHeads() {
    }

    /**
     * For an HTTP/1.1 caller: hop-by-hop fields go; a body that is neither length-delimited nor chunked (the
     * upstream delimited it by closing, or spoke HTTP/2) is sent chunked (RFC 9112 §6.3), unless the response
     * has no body (a HEAD request, 204, 304); the version is HTTP/1.1; {@code Connection} says what
     * {@link KeepAlive} decided.
     */
    static void forHttp1(HttpResponse response, boolean headRequest, boolean keepAlive) {
        HeaderHygiene.stripHopByHop(response.headers());
        int code = response.status().code();
        boolean bodyless = headRequest || code == 204 || code == 304;
        if (!bodyless && !HttpUtil.isContentLengthSet(response) && !HttpUtil.isTransferEncodingChunked(response)) {
            HttpUtil.setTransferEncodingChunked(response, true); // upstream delimited by close, or HTTP/2
        }
        response.setProtocolVersion(HttpVersion.HTTP_1_1);
        KeepAlive.mark(response, keepAlive);
    }

    /** For an HTTP/2 caller: hop-by-hop fields go, {@code Transfer-Encoding} too (RFC 9113 §8.2.2). */
    static void forHttp2(HttpResponse response) {
        HeaderHygiene.stripHopByHop(response.headers());
        response.headers().remove(HttpHeaderNames.TRANSFER_ENCODING);
    }
}
