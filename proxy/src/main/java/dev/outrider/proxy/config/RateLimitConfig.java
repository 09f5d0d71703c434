package dev.outrider.proxy.config;

import dev.outrider.core.snapshot.RedisSettings;

import java.time.Duration;

import static java.util.Objects.requireNonNull;

/**
 * Sidecar-wide settings of throttling (the limits themselves are RateLimitPolicy documents).
 *
 * @param maxTracked    at most this many client keys are tracked, over all rules together; at the bound, new
 *                      keys share one overflow budget per rule until idle keys expire
 * @param sweepInterval how often keys whose budget has fully refilled (and that have nothing in flight) are
 *                      forgotten, freeing their slots
 * @param redis         where {@code scope: global} rules keep their budgets, or null: none (they run their fallback)
 */
public record RateLimitConfig(int maxTracked, Duration sweepInterval, RedisSettings redis) {
    public RateLimitConfig {
        requireNonNull(sweepInterval, "sweepInterval");
    }

    public RateLimitConfig(int maxTracked, Duration sweepInterval) {
        this(maxTracked, sweepInterval, null);
    }
}
