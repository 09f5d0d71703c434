package dev.outrider.proxy.config;

import dev.outrider.core.model.SpiffeId;

import java.util.Map;

import static java.util.Objects.requireNonNull;

/**
 * Who this sidecar serves: the workload's service, namespace, service account and trust domain. The
 * namespace completes short Host names on outbound ({@code orders} means {@code orders.<namespace>}); the
 * service account and trust domain make the workload's identity,
 * {@code spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>}, which its certificate must carry.
 * The labels are what policy selectors ({@code selector.matchLabels}) are matched against.
 */
public record NodeConfig(String service, String namespace, String serviceAccount, String trustDomain,
                         Map<String, String> labels) {
    public NodeConfig {
        requireNonNull(service, "service");
        requireNonNull(namespace, "namespace");
        requireNonNull(serviceAccount, "serviceAccount");
        requireNonNull(trustDomain, "trustDomain");
        labels = Map.copyOf(labels);
    }

    /** This workload's SPIFFE identity. */
    public SpiffeId identity() {
        return SpiffeId.ofServiceAccount(trustDomain, namespace, serviceAccount);
    }
}
