package dev.outrider.proxy.config;

import static java.util.Objects.requireNonNull;

/**
 * The inbound listener (traffic from other sidecars) and the local application it forwards to.
 *
 * @param maxConnections        open connections on the listener; the next one is closed when accepted
 * @param maxConnectionsPerPeer open connections of one caller identity (the SPIFFE ID of its certificate);
 *                              the next one is closed right after its handshake
 * @param tcp                   the application's TCP ports reachable through tunnels, and their limits
 */
public record InboundConfig(HostPort listen, HostPort application, Protocol applicationProtocol, int maxConnections,
                            int maxConnectionsPerPeer, TcpPortsConfig tcp) {
    public InboundConfig {
        requireNonNull(listen, "listen");
        requireNonNull(application, "application");
        requireNonNull(applicationProtocol, "applicationProtocol");
        requireNonNull(tcp, "tcp");
        if (maxConnections < 1 || maxConnectionsPerPeer < 1) {
            throw new IllegalArgumentException("connection limits must be positive");
        }
    }

    /** Without TCP ports. */
    public InboundConfig(HostPort listen, HostPort application, Protocol applicationProtocol, int maxConnections,
                         int maxConnectionsPerPeer) {
        this(listen, application, applicationProtocol, maxConnections, maxConnectionsPerPeer, TcpPortsConfig.NONE);
    }
}
