package dev.outrider.proxy.config;

import java.time.Duration;

import static java.util.Objects.requireNonNull;

/**
 * How the sidecar talks to upstreams (the local application and other sidecars).
 *
 * @param connectTimeout      TCP connect timeout
 * @param requestTimeout      from forwarding the request to the upstream's response headers; {@code 0}
 *                            disables it. Expiry → 504. Bodies then stream for as long as bytes flow
 *                            (bounded by {@code idleTimeout}), so long downloads are not cut.
 * @param idleTimeout         a pooled keep-alive connection unused this long is closed; a request whose
 *                            upstream sends nothing for this long is failed
 * @param maxRetries          extra attempts per request (connect failures; idempotent requests
 *                            without a body whose connection failed before any response byte)
 * @param retryBudgetPercent  retries in flight may not exceed this share of requests in flight ...
 * @param minRetryConcurrency ... or this many, whichever is larger (Envoy's retry budget)
 * @param maxIdlePerEndpoint  idle HTTP/1.1 keep-alive connections kept per endpoint on each event loop; when
 *                            one more goes idle the least recently used is closed ({@code 0}: none kept)
 */
public record UpstreamConfig(Duration connectTimeout, Duration requestTimeout, Duration idleTimeout,
                             int maxRetries, int retryBudgetPercent, int minRetryConcurrency,
                             int maxIdlePerEndpoint) {
    public UpstreamConfig {
        requireNonNull(connectTimeout, "connectTimeout");
        requireNonNull(requestTimeout, "requestTimeout");
        requireNonNull(idleTimeout, "idleTimeout");
    }
}
