package dev.outrider.proxy.config;

import java.time.Duration;
import java.util.List;
import java.util.Locale;

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
 * @param upgrades             the HTTP/1.1 upgrade protocols a request may ask for (lower-case names, e.g.
 *                             {@code websocket}, without a version); a request offering another gets 403
 */
public record HttpConfig(int maxInitialLineLength, int maxHeaderSize, int maxHeaderCount,
                         int maxConcurrentStreams, Duration idleTimeout, Duration requestHeaderTimeout,
                         List<String> upgrades) {
    /** The upgrades a listener lets through when {@code http.upgrades} is not set: WebSocket. */
    public static final List<String> DEFAULT_UPGRADES = List.of("websocket");

    /** With the default upgrades ({@link #DEFAULT_UPGRADES}). */
    public HttpConfig(int maxInitialLineLength, int maxHeaderSize, int maxHeaderCount, int maxConcurrentStreams,
                      Duration idleTimeout, Duration requestHeaderTimeout) {
        this(maxInitialLineLength, maxHeaderSize, maxHeaderCount, maxConcurrentStreams, idleTimeout,
                requestHeaderTimeout, DEFAULT_UPGRADES);
    }

    public HttpConfig {
        upgrades = List.copyOf(upgrades);
        for (String u : upgrades) {
            if (u.isEmpty() || !u.equals(u.toLowerCase(Locale.ROOT)) || u.indexOf('/') >= 0 || u.indexOf(',') >= 0) {
                throw new IllegalArgumentException("upgrade '" + u + "' is not a lower-case protocol name");
            }
        }
        requireNonNull(idleTimeout, "idleTimeout");
        requireNonNull(requestHeaderTimeout, "requestHeaderTimeout");
        if (requestHeaderTimeout.isZero() || requestHeaderTimeout.isNegative()) {
            throw new IllegalArgumentException("requestHeaderTimeout must be positive");
        }
    }
}
