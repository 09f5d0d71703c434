package dev.outrider.proxy.config;

import java.time.Duration;

import static java.util.Objects.requireNonNull;

/**
 * Process-level settings.
 *
 * @param transport    event loop transport
 * @param eventLoops   event loop threads; 0 means one per available processor
 * @param drainTimeout upper bound for finishing in-flight requests after SIGTERM or /drain
 */
public record RuntimeConfig(TransportKind transport, int eventLoops, Duration drainTimeout) {
    public RuntimeConfig {
        requireNonNull(transport, "transport");
        requireNonNull(drainTimeout, "drainTimeout");
    }

    public int effectiveEventLoops() {
        return eventLoops > 0 ? eventLoops : Runtime.getRuntime().availableProcessors();
    }
}
