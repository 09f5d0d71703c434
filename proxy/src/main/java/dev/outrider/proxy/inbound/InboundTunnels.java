package dev.outrider.proxy.inbound;

import dev.outrider.proxy.config.TcpPortsConfig;
import dev.outrider.proxy.metrics.TcpMetrics;
import dev.outrider.proxy.ratelimit.SourceLimits;
import dev.outrider.proxy.upstream.UpstreamPools;

import java.net.InetAddress;

import static java.util.Objects.requireNonNull;

/**
 * What the inbound listener needs for TCP tunnels ({@link InboundTunnelHandler}): the declared ports and their
 * limits, the application's address (resolved once at start-up, never on an event loop), the per-source limits,
 * the meters, the per-loop pools that make the connections to the application, and their idle timeout.
 */
public record InboundTunnels(TcpPortsConfig ports, InetAddress application, SourceLimits limits, TcpMetrics metrics,
                             UpstreamPools pools, long idleTimeoutNanos) {
    public InboundTunnels {
        requireNonNull(ports, "ports");
        requireNonNull(application, "application");
        requireNonNull(limits, "limits");
        requireNonNull(metrics, "metrics");
        requireNonNull(pools, "pools");
    }
}
