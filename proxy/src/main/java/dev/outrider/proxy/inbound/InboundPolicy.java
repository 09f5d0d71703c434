package dev.outrider.proxy.inbound;

import dev.outrider.proxy.tracing.Tracing;
import dev.outrider.proxy.accesslog.AccessLog;
import dev.outrider.proxy.accesslog.SecurityEvents;
import dev.outrider.proxy.metrics.ProxyMetrics;
import dev.outrider.proxy.policy.PolicyMetrics;
import dev.outrider.proxy.policy.PolicyStore;
import dev.outrider.proxy.runtime.DrainState;

import static java.util.Objects.requireNonNull;

/**
 * What the inbound authentication and authorization handlers share for a listener: the policy store, meters,
 * the access log (denied requests are logged by the handler that denies them), the security event stream
 * (refusals, and dry-run ones), the drain state, the application's port ({@code destination.port}), and
 * tracing (a refused request's span).
 */
public record InboundPolicy(PolicyStore store, PolicyMetrics policyMetrics, ProxyMetrics metrics,
                            AccessLog accessLog, SecurityEvents securityEvents, DrainState drain,
                            int applicationPort, Tracing tracing) {
    public InboundPolicy {
        requireNonNull(tracing, "tracing");
        requireNonNull(store, "store");
        requireNonNull(policyMetrics, "policyMetrics");
        requireNonNull(metrics, "metrics");
        requireNonNull(accessLog, "accessLog");
        requireNonNull(securityEvents, "securityEvents");
        requireNonNull(drain, "drain");
    }

    /** Without tracing. */
    public InboundPolicy(PolicyStore store, PolicyMetrics policyMetrics, ProxyMetrics metrics, AccessLog accessLog,
                         SecurityEvents securityEvents, DrainState drain, int applicationPort) {
        this(store, policyMetrics, metrics, accessLog, securityEvents, drain, applicationPort, Tracing.OFF);
    }
}
