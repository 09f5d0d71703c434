package dev.outrider.proxy.config;

import static java.util.Objects.requireNonNull;

/** The inbound listener (traffic from other sidecars) and the local application it forwards to. */
public record InboundConfig(HostPort listen, HostPort application, Protocol applicationProtocol) {
    public InboundConfig {
        requireNonNull(listen, "listen");
        requireNonNull(application, "application");
        requireNonNull(applicationProtocol, "applicationProtocol");
    }
}
