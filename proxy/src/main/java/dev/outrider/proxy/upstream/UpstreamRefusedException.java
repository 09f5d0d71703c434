package dev.outrider.proxy.upstream;

import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;

import java.io.IOException;

/**
 * The upstream provably did not process a request (RFC 9113 §8.7): its HTTP/2 stream was above the last stream id
 * of the peer's GOAWAY, was reset with {@code REFUSED_STREAM}, or could not be opened because the connection is
 * going away. Such a request may be sent again on another connection whatever its method.
 */
public final class UpstreamRefusedException extends IOException {
    private UpstreamRefusedException(String message) {
        super(message);
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
        return this; // a value, not a stack trace
    }

    static UpstreamRefusedException goAway() {
        return new UpstreamRefusedException("stream not processed: above the last stream id of the upstream's GOAWAY");
    }

    static UpstreamRefusedException refusedStream() {
        return new UpstreamRefusedException("stream refused by the upstream (REFUSED_STREAM)");
    }

    /** Whether {@code cause} (of a failed write or a closed stream) says the request was never processed. */
    public static boolean neverProcessed(Throwable cause) {
        if (cause instanceof UpstreamRefusedException) {
            return true;
        }
        Http2Exception h2 = cause == null ? null : Http2CodecUtil.getEmbeddedHttp2Exception(cause);
        return h2 != null && h2.error() == Http2Error.REFUSED_STREAM;
    }
}
