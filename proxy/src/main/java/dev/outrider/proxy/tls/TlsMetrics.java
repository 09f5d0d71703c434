package dev.outrider.proxy.tls;

import dev.outrider.proxy.metrics.Direction;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.EnumMap;
import java.util.Map;

import static java.util.Objects.requireNonNull;

/**
 * TLS meters, all registered up front: handshakes by direction and result, failures by direction and
 * reason, material reloads by result and failure reason. The certificate-expiry gauge is registered by
 * {@link TlsState}, which owns the material.
 */
public final class TlsMetrics {
    private final Counter[] succeeded = new Counter[Direction.values().length];
    private final Counter[] failedTotal = new Counter[Direction.values().length];
    private final Map<Direction, Map<HandshakeFailure, Counter>> failed = new EnumMap<>(Direction.class);
    private final Counter reloads;
    private final Map<TlsMaterialException.Reason, Counter> reloadFailures =
            new EnumMap<>(TlsMaterialException.Reason.class);

    public TlsMetrics(MeterRegistry registry) {
        requireNonNull(registry, "registry");
        for (Direction d : Direction.values()) {
            succeeded[d.ordinal()] = Counter.builder("outrider_tls_handshakes")
                    .description("TLS handshakes completed")
                    .tag("direction", d.tag()).tag("result", "success").register(registry);
            failedTotal[d.ordinal()] = Counter.builder("outrider_tls_handshakes")
                    .description("TLS handshakes completed")
                    .tag("direction", d.tag()).tag("result", "failure").register(registry);
            Map<HandshakeFailure, Counter> byReason = new EnumMap<>(HandshakeFailure.class);
            for (HandshakeFailure r : HandshakeFailure.values()) {
                byReason.put(r, Counter.builder("outrider_tls_handshake_failures")
                        .description("TLS handshakes that failed, by reason")
                        .tag("direction", d.tag()).tag("reason", r.tag()).register(registry));
            }
            failed.put(d, byReason);
        }
        reloads = Counter.builder("outrider_tls_reloads")
                .description("New TLS material loaded from the watched files").register(registry);
        for (TlsMaterialException.Reason r : TlsMaterialException.Reason.values()) {
            reloadFailures.put(r, Counter.builder("outrider_tls_reload_failures")
                    .description("New TLS material refused (the material in use stays), by reason")
                    .tag("reason", r.tag()).register(registry));
        }
    }

    public void handshakeSucceeded(Direction d) {
        succeeded[d.ordinal()].increment();
    }

    public void handshakeFailed(Direction d, HandshakeFailure reason) {
        failedTotal[d.ordinal()].increment();
        failed.get(d).get(reason).increment();
    }

    void reloaded() {
        reloads.increment();
    }

    void reloadFailed(TlsMaterialException.Reason reason) {
        reloadFailures.get(reason).increment();
    }
}
