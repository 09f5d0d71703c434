package dev.outrider.proxy.config;

import java.time.Duration;

import static java.util.Objects.requireNonNull;

/**
 * The security event stream: one JSON line per refusal (401, 403, 429, refused handshakes, identity mismatches,
 * dry-run denials), for a SIEM.
 *
 * @param enabled         write the stream
 * @param path            {@code stdout}, {@code stderr}, or a file appended to
 * @param ratePerSecond   events written per second on average; more are dropped and counted
 * @param burst           events written at once after a quiet spell
 * @param summaryInterval how often a line says how many events were dropped (only when some were)
 */
public record SecurityEventsConfig(boolean enabled, String path, int ratePerSecond, int burst,
                                   Duration summaryInterval) {
    public SecurityEventsConfig {
        requireNonNull(path, "path");
        requireNonNull(summaryInterval, "summaryInterval");
        if (ratePerSecond < 1 || burst < 1 || summaryInterval.isNegative() || summaryInterval.isZero()) {
            throw new IllegalArgumentException("ratePerSecond, burst and summaryInterval must be positive");
        }
    }
}
