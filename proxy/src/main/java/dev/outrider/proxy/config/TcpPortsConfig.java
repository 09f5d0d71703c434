package dev.outrider.proxy.config;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * {@code inbound.tcp}: the application ports this sidecar accepts TCP tunnels for (an HTTP/1.1 {@code CONNECT}
 * from another sidecar over mTLS, relayed as bytes to {@code <inbound.application host>:<port>}), and the
 * connection limits per caller identity on them. A {@code CONNECT} for any other port is refused: the inbound
 * listener is never an open proxy.
 *
 * @param ports                   the application's TCP ports (empty: no tunnels)
 * @param maxConnectionsPerSource open tunnels of one caller identity (source principal), all ports together
 * @param connectionsPerSecond    new tunnels per second of one caller identity (sustained rate)
 * @param connectionBurst         new tunnels one caller identity may open at once after a quiet spell
 */
public record TcpPortsConfig(Set<Integer> ports, int maxConnectionsPerSource, int connectionsPerSecond,
                             int connectionBurst) {
    /** No TCP ports. */
    public static final TcpPortsConfig NONE = new TcpPortsConfig(Set.of(), 1024, 1000, 1000);

    public TcpPortsConfig {
        ports = Set.copyOf(new TreeSet<>(ports));
        if (maxConnectionsPerSource < 1 || connectionsPerSecond < 1 || connectionBurst < 1) {
            throw new IllegalArgumentException("TCP connection limits must be positive");
        }
    }

    public boolean declares(int port) {
        return ports.contains(port);
    }

    /** The ports in ascending order (for metrics and {@code /config}). */
    public List<Integer> sortedPorts() {
        return List.copyOf(new TreeSet<>(ports));
    }
}
