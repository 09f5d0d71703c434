package dev.outrider.proxy.upstream;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.HttpConversionUtil;

/**
 * HttpObjects ⇄ HTTP/2 frames of one client stream: what Netty's {@code Http2StreamFrameToHttpObjectCodec}
 * (client side, headers validated) does on a stream channel, as functions on a frame, so a stream needs no channel
 * and no pipeline. Responses (RFC 9113 §8.1): a 1xx HEADERS frame is a {@code FullHttpResponse}; the final HEADERS
 * frame is an {@code HttpResponse} (chunked unless it says its length or cannot have content), or a
 * {@code FullHttpResponse} when it ends the stream; DATA is {@code HttpContent}, the last one
 * {@code LastHttpContent}; a HEADERS frame without {@code :status} that ends the stream is the trailers.
 */
final class Http2Messages {
    private Http2Messages() {
    }

    /** The response object a HEADERS frame of stream {@code streamId} carries. */
    static HttpObject response(int streamId, Http2Headers headers, boolean endStream, ByteBufAllocator alloc)
            throws Http2Exception {
        CharSequence status = headers.status();
        if (status != null && isInformational(status)) {
            return HttpConversionUtil.toFullHttpResponse(streamId, headers, alloc, true);
        }
        if (endStream) {
            if (headers.method() == null && status == null) {
                LastHttpContent last = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER, true);
                HttpConversionUtil.addHttp2ToHttpHeaders(streamId, headers, last.trailingHeaders(),
                        HttpVersion.HTTP_1_1, true, true);
                return last;
            }
            return HttpConversionUtil.toFullHttpResponse(streamId, headers, alloc, true);
        }
        HttpResponse response = HttpConversionUtil.toHttpResponse(streamId, headers, true);
        if ((status == null || !isContentAlwaysEmpty(status)) && !HttpUtil.isContentLengthSet(response)) {
            response.headers().add(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        return response;
    }

    /** The content a DATA frame carries; the frame's buffer moves to it (the frame is not released after). */
    static HttpContent content(Http2DataFrame frame) {
        return frame.isEndStream()
                ? new DefaultLastHttpContent(frame.content(), true)
                : new DefaultHttpContent(frame.content());
    }

    /**
     * The request head as HTTP/2 headers; {@code scheme} becomes {@code :scheme} (set on the request as Netty's
     * extension header, as the stream codec does, for an origin-form target).
     */
    static Http2Headers request(HttpRequest request, CharSequence scheme) {
        request.headers().set(HttpConversionUtil.ExtensionHeaderNames.SCHEME.text(), scheme);
        return HttpConversionUtil.toHttp2Headers(request, true);
    }

    /** Request trailers as an HTTP/2 header block. */
    static Http2Headers trailers(HttpHeaders trailers) {
        return HttpConversionUtil.toHttp2Headers(trailers, true);
    }

    /** 1xx other than 101: an interim response (RFC 9113 §8.1). */
    private static boolean isInformational(CharSequence status) {
        return status.length() == 3 && status.charAt(0) == '1'
                && isDigit(status.charAt(1)) && isDigit(status.charAt(2)) && status.charAt(2) != '1';
    }

    /** 204 and 304 have no content (RFC 9113 §8.1.1). */
    private static boolean isContentAlwaysEmpty(CharSequence status) {
        return status.length() == 3 && (status.charAt(0) == '2' || status.charAt(0) == '3')
                && status.charAt(1) == '0' && status.charAt(2) == '4';
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }
}
