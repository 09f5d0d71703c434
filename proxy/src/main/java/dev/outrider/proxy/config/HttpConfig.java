package dev.outrider.proxy.config;

import java.time.Duration;

import static java.util.Objects.requireNonNull;

/**
 * Limits and timeouts for downstream HTTP (both listeners).
 *
 * @param maxInitialLineLength longest request line, bytes; longer → 414 (HTTP/1.1)
 * @param maxHeaderSize        total header block, bytes; larger → 431
 * @param maxHeaderCount       header fields per request; more → 431
 * @param maxConcurrentStreams HTTP/2 streams per connection (SETTINGS_MAX_CONCURRENT_STREAMS)
 * @param idleTimeout          a downstream connection with no traffic for this long is closed
 * @param requestHeaderTimeout a request's header block must be complete this long after its first byte (and
 *                             a connection's first request this long after the connection was accepted);
 *                             else 408 and close (HTTP/1.1) or GOAWAY and close (HTTP/2)
 */
public record HttpConfig(int maxInitialLineLength, int maxHeaderSize, int maxHeaderCount,
                         int maxConcurrentStreams, Duration idleTimeout, Duration requestHeaderTimeout) {
    public HttpConfig {
        requireNonNull(idleTimeout, "idleTimeout");
        requireNonNull(requestHeaderTimeout, "requestHeaderTimeout");
        if (requestHeaderTimeout.isZero() || requestHeaderTimeout.isNegative()) {
            throw new IllegalArgumentException("requestHeaderTimeout must be positive");
        }
    }
}
