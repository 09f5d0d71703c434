package dev.outrider.proxy.egress;

import dev.outrider.proxy.upstream.OriginatedTlsException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

import static java.util.Objects.requireNonNull;

/**
 * Egress meters, registered once at start-up (every series shows at zero before the first request); bounded labels
 * only, never a host:
 * <pre>
 * outrider_egress_requests_total{outcome}      outcome = allowed | not_declared | denied_by_policy
 * outrider_egress_tls_failures_total{reason}   reason = untrusted | name_mismatch | expired | handshake
 * </pre>
 * Thread-safe: the counters are; the fields are final.
 */
public final class EgressMetrics {
    private final Counter allowed;
    private final Counter notDeclared;
    private final Counter deniedByPolicy;
    private final Counter[] tlsFailures;

    public EgressMetrics(MeterRegistry registry) {
        requireNonNull(registry, "registry");
        allowed = requests(registry, "allowed");
        notDeclared = requests(registry, "not_declared");
        deniedByPolicy = requests(registry, "denied_by_policy");
        OriginatedTlsException.Reason[] reasons = OriginatedTlsException.Reason.values();
        tlsFailures = new Counter[reasons.length];
        for (OriginatedTlsException.Reason r : reasons) {
            tlsFailures[r.ordinal()] = Counter.builder("outrider.egress.tls.failures")
                    .description("TLS handshakes the sidecar originated to external services that failed, by reason")
                    .tag("reason", r.tag()).register(registry);
        }
    }

    private static Counter requests(MeterRegistry registry, String outcome) {
        return Counter.builder("outrider.egress.requests")
                .description("Requests from the application to hosts outside the mesh: allowed (a ServiceEntry"
                        + " declares the host and port, and no AuthorizationPolicy targeting it refuses), not_declared"
                        + " (not in the egress allow-list) or denied_by_policy")
                .tag("outcome", outcome).register(registry);
    }

    void allowed() {
        allowed.increment();
    }

    void notDeclared() {
        notDeclared.increment();
    }

    void deniedByPolicy() {
        deniedByPolicy.increment();
    }

    /** Called on an event loop by the TLS handler. */
    void tlsFailed(OriginatedTlsException.Reason reason) {
        tlsFailures[reason.ordinal()].increment();
    }
}
