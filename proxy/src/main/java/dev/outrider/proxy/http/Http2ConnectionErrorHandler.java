package dev.outrider.proxy.http;

import dev.outrider.proxy.metrics.Direction;
import dev.outrider.proxy.metrics.ProxyMetrics;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Exception;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * Pipeline position: last handler of a downstream HTTP/2 connection, after the multiplexer and
 * {@link Http2IdleCloseHandler}. One instance per listener direction, shared by its connections.
 *
 * <p>On a connection error (a malformed frame, a protocol violation: RFC 9113 §5.4.1) Netty's
 * {@code Http2FrameCodec} fires the exception down the pipeline, then sends GOAWAY and closes the connection.
 * The exception used to reach the pipeline's tail and be logged as a WARN with a full stack trace: a peer could
 * fill the log at will. Here each such error is counted ({@code outrider_http2_connection_errors_total{direction,
 * error_code}}) and logged as one line (peer address, error code, the codec's message, shortened and without
 * control characters), at most one line per {@link #LOG_INTERVAL_SECONDS} seconds per listener direction,
 * with the number of errors not logged since the previous line. A read error ({@link IOException}: reset by the
 * peer) is logged at DEBUG. Anything else is unexpected and logged with its stack trace, under the same limit.
 * The connection is the codec's to close (GOAWAY with the error code, then close), as before.
 */
@ChannelHandler.Sharable
public final class Http2ConnectionErrorHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(Http2ConnectionErrorHandler.class);
    /** At most one line per this many seconds per listener direction. */
    static final long LOG_INTERVAL_SECONDS = 10;
    private static final int MAX_MESSAGE = 160;

    private final Direction direction;
    private final ProxyMetrics metrics;
    private final LogThrottle throttle;

    public Http2ConnectionErrorHandler(Direction direction, ProxyMetrics metrics) {
        this.direction = requireNonNull(direction, "direction");
        this.metrics = requireNonNull(metrics, "metrics");
        this.throttle = new LogThrottle(TimeUnit.SECONDS.toNanos(LOG_INTERVAL_SECONDS), System::nanoTime);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Http2Exception h2 = Http2CodecUtil.getEmbeddedHttp2Exception(cause);
        if (h2 != null) {
            metrics.http2ConnectionError(direction, h2.error());
            long suppressed = throttle.tryLog();
            if (suppressed >= 0) {
                log.warn("{} HTTP/2 connection error from {}: {} {}{}", direction.tag(), ctx.channel().remoteAddress(),
                        h2.error(), shortMessage(h2.getMessage()), suppressedNote(suppressed));
            }
        } else if (cause instanceof IOException) {
            log.debug("{} HTTP/2 connection from {} failed: {}", direction.tag(), ctx.channel().remoteAddress(),
                    shortMessage(cause.toString()));
        } else {
            long suppressed = throttle.tryLog();
            if (suppressed >= 0) {
                log.warn("{} HTTP/2 connection from {} failed{}", direction.tag(), ctx.channel().remoteAddress(),
                        suppressedNote(suppressed), cause);
            }
        }
        // Not closed here: the codec is firing this before it sends its GOAWAY with the error code, then closes.
    }

    private static String suppressedNote(long suppressed) {
        return suppressed == 0 ? "" : " (" + suppressed + " more HTTP/2 connection errors not logged)";
    }

    /** The message on one line: control characters (a peer's bytes may be quoted in it) become '?'; shortened. */
    static String shortMessage(String message) {
        if (message == null) {
            return "";
        }
        int n = Math.min(message.length(), MAX_MESSAGE);
        StringBuilder b = new StringBuilder(n + 3);
        for (int i = 0; i < n; i++) {
            char c = message.charAt(i);
            b.append(c < 0x20 || c == 0x7f ? '?' : c);
        }
        if (message.length() > MAX_MESSAGE) {
            b.append("...");
        }
        return b.toString();
    }
}
