package dev.outrider.proxy.config;

import java.util.List;

import static java.util.Objects.requireNonNull;

/** The outbound listener (plaintext from the local application) and its explicit upstream ports. */
public record OutboundConfig(HostPort listen, List<UpstreamPortConfig> upstreams) {
    public OutboundConfig {
        requireNonNull(listen, "listen");
        upstreams = List.copyOf(upstreams);
    }
}
