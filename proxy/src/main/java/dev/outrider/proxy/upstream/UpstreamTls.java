package dev.outrider.proxy.upstream;

import dev.outrider.core.model.SpiffeId;
import dev.outrider.proxy.tls.TlsState;

import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * mTLS to a service's sidecars: this workload's client context (the one current at connect time) and the
 * identities the service's instances may prove.
 */
public record UpstreamTls(TlsState state, Set<SpiffeId> identities, String service) {
    public UpstreamTls {
        requireNonNull(state, "state");
        identities = Set.copyOf(identities);
        requireNonNull(service, "service");
        if (identities.isEmpty()) {
            throw new IllegalArgumentException("service " + service + " has no expected identities");
        }
    }
}
