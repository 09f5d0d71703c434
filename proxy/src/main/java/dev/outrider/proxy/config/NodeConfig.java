package dev.outrider.proxy.config;

import static java.util.Objects.requireNonNull;

/**
 * Who this sidecar serves: the workload's service, namespace and trust domain. The namespace completes
 * short Host names on outbound ({@code orders} means {@code orders.<namespace>}).
 */
public record NodeConfig(String service, String namespace, String trustDomain) {
    public NodeConfig {
        requireNonNull(service, "service");
        requireNonNull(namespace, "namespace");
        requireNonNull(trustDomain, "trustDomain");
    }
}
