package dev.outrider.proxy.config;

import dev.outrider.control.model.ServiceName;

import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * A service this workload may call and where its instances are (their sidecars' inbound listeners).
 * Comes from the bootstrap file now; the control plane supplies the same later.
 */
public record ServiceConfig(ServiceName name, Protocol protocol, List<HostPort> endpoints) {
    public ServiceConfig {
        requireNonNull(name, "name");
        requireNonNull(protocol, "protocol");
        endpoints = List.copyOf(endpoints);
    }
}
