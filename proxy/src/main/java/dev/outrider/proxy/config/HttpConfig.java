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
 */
public record HttpConfig(int maxInitialLineLength, int maxHeaderSize, int maxHeaderCount,
                         int maxConcurrentStreams, Duration idleTimeout) {
    public HttpConfig {
        requireNonNull(idleTimeout, "idleTimeout");
    }
}
