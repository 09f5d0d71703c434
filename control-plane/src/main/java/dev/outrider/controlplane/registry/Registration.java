package dev.outrider.controlplane.registry;

import dev.outrider.core.model.DnsLabel;
import dev.outrider.core.model.ServiceName;
import dev.outrider.core.model.ServiceProtocol;
import dev.outrider.core.model.SpiffeId;
import dev.outrider.core.snapshot.SnapshotEndpoint;

import static java.util.Objects.requireNonNull;

/**
 * One live instance of a service, as its sidecar registered it: where other sidecars reach it and the identity
 * its certificate proves. Stored as {@code Registration/<namespace>/<instance>}, so an instance name is unique
 * within its namespace.
 *
 * @param service  the service, in the registering workload's namespace
 * @param instance a DNS label naming the instance (e.g. the pod name)
 * @param address  {@code host:port} as {@link SnapshotEndpoint} accepts it (IPv6 in brackets)
 * @param identity the SPIFFE ID of the workload that registered it
 */
public record Registration(ServiceName service, String instance, String address, SpiffeId identity) {
    public Registration {
        requireNonNull(service, "service");
        requireNonNull(instance, "instance");
        requireNonNull(address, "address");
        requireNonNull(identity, "identity");
        if (!DnsLabel.isValid(instance)) {
            throw new IllegalArgumentException("instance '" + instance + "' is not an RFC 1123 label");
        }
        new SnapshotEndpoint(service, address, identity); // validates the address
    }

    /** This registration as a snapshot endpoint of a service spoken to with {@code protocol}. */
    public SnapshotEndpoint endpoint(ServiceProtocol protocol) {
        return new SnapshotEndpoint(service, address, identity, protocol);
    }
}
