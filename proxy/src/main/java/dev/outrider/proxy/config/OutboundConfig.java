package dev.outrider.proxy.config;

import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * The outbound listener (plaintext from the local application) and its explicit upstream ports.
 *
 * @param maxConnections open connections on the outbound listener and the upstream ports together; the next
 *                       one is closed when accepted
 */
public record OutboundConfig(HostPort listen, List<UpstreamPortConfig> upstreams, int maxConnections) {
    public OutboundConfig {
        requireNonNull(listen, "listen");
        upstreams = List.copyOf(upstreams);
        if (maxConnections < 1) {
            throw new IllegalArgumentException("maxConnections must be positive");
        }
    }
}
