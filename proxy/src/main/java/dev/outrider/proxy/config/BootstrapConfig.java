package dev.outrider.proxy.config;

import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * The sidecar's bootstrap file, parsed, defaulted and validated once ({@link BootstrapLoader}), then frozen.
 * Nothing here changes at run time; the control plane's snapshots carry what does.
 *
 * @param controlPlane null when the sidecar is configured from files only
 */
public record BootstrapConfig(NodeConfig node, InboundConfig inbound, OutboundConfig outbound,
                              List<ServiceConfig> services, HttpConfig http, UpstreamConfig upstream,
                              HostPort health, HostPort admin, RuntimeConfig runtime,
                              AccessLogConfig accessLog, SecurityEventsConfig securityEvents, TlsConfig tls,
                              PolicyConfig policies, JwtConfig jwt, RateLimitConfig rateLimits,
                              ControlPlaneLinkConfig controlPlane, TracingConfig tracing) {
    public BootstrapConfig {
        requireNonNull(node, "node");
        requireNonNull(inbound, "inbound");
        requireNonNull(outbound, "outbound");
        services = List.copyOf(services);
        requireNonNull(http, "http");
        requireNonNull(upstream, "upstream");
        requireNonNull(health, "health");
        requireNonNull(admin, "admin");
        requireNonNull(runtime, "runtime");
        requireNonNull(accessLog, "accessLog");
        requireNonNull(securityEvents, "securityEvents");
        requireNonNull(tls, "tls");
        requireNonNull(policies, "policies");
        requireNonNull(jwt, "jwt");
        requireNonNull(rateLimits, "rateLimits");
        requireNonNull(tracing, "tracing");
    }

    /** Whether policies, endpoints and the certificate come from the control plane ({@link #controlPlane()} set). */
    public boolean fromControlPlane() {
        return controlPlane != null;
    }
}
