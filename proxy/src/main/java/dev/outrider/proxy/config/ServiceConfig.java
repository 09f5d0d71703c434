package dev.outrider.proxy.config;

import dev.outrider.core.model.ServiceName;
import dev.outrider.core.model.SpiffeId;

import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * A service this workload may call, where its instances are (their sidecars' inbound listeners) and which
 * identities its instances may prove: with mTLS an upstream whose certificate shows another identity is
 * refused. Comes from the bootstrap file now; the control plane supplies the same later.
 */
public record ServiceConfig(ServiceName name, Protocol protocol, List<HostPort> endpoints,
                            List<SpiffeId> identities) {
    public ServiceConfig {
        requireNonNull(name, "name");
        requireNonNull(protocol, "protocol");
        endpoints = List.copyOf(endpoints);
        identities = List.copyOf(identities);
    }
}
