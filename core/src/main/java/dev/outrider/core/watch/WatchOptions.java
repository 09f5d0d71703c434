package dev.outrider.core.watch;

import dev.outrider.core.client.ControlPlaneClient;
import dev.outrider.core.model.SpiffeId;

import java.time.Duration;
import java.util.function.LongSupplier;

import static java.util.Objects.requireNonNull;

/**
 * What a {@link SnapshotWatcher} watches and how this sidecar registers.
 *
 * @param namespace         the workload's namespace (of its SPIFFE ID)
 * @param serviceAccount    the workload's service account (of its SPIFFE ID)
 * @param service           the Service this instance serves, registered under {@code advertisedAddress}; null for
 *                          a workload that only calls others (nothing registered)
 * @param instance          this sidecar's instance name (e.g. the pod name): the key of its registration and status
 * @param advertisedAddress {@code host:port} where other sidecars reach this one (its inbound listener); null iff
 *                          {@code service} is null
 * @param pollWait          how long the server holds one long poll (1 to 60 s; {@code wait} in the API)
 * @param plaintextConnections the plaintext connections the sidecar's inbound listener accepted since it started,
 *                          reported with each ACK on the poll; null: not reported
 */
public record WatchOptions(String namespace, String serviceAccount, String service, String instance,
                           String advertisedAddress, Duration pollWait, LongSupplier plaintextConnections) {
    public static final Duration DEFAULT_WAIT = Duration.ofSeconds(30);

    public WatchOptions {
        ControlPlaneClient.segment("namespace", namespace);
        ControlPlaneClient.segment("serviceAccount", serviceAccount);
        ControlPlaneClient.segment("instance", instance);
        if (service != null) {
            ControlPlaneClient.segment("service", service);
        }
        if ((service == null) != (advertisedAddress == null)) {
            throw new IllegalArgumentException("a registered service needs an advertised address and the reverse");
        }
        if (advertisedAddress != null && (advertisedAddress.isBlank() || advertisedAddress.lastIndexOf(':') < 1)) {
            throw new IllegalArgumentException("advertised address '" + advertisedAddress + "' is not host:port");
        }
        requireNonNull(pollWait, "pollWait");
        if (pollWait.compareTo(Duration.ofSeconds(1)) < 0 || pollWait.compareTo(Duration.ofSeconds(60)) > 0) {
            throw new IllegalArgumentException("pollWait " + pollWait + " must be 1 to 60 seconds");
        }
    }

    /** Without a plaintext count. */
    public WatchOptions(String namespace, String serviceAccount, String service, String instance,
                        String advertisedAddress, Duration pollWait) {
        this(namespace, serviceAccount, service, instance, advertisedAddress, pollWait, null);
    }

    /** These options, reporting {@code plaintextConnections} with each ACK. */
    public WatchOptions reportingPlaintext(LongSupplier plaintextConnections) {
        return new WatchOptions(namespace, serviceAccount, service, instance, advertisedAddress, pollWait,
                requireNonNull(plaintextConnections, "plaintextConnections"));
    }

    /** Options for {@code workload} (a {@code /ns/N/sa/S} identity) with the default wait. */
    public static WatchOptions of(SpiffeId workload, String service, String instance, String advertisedAddress) {
        requireNonNull(workload, "workload");
        if (workload.namespace() == null) {
            throw new IllegalArgumentException(workload + " is not of the form spiffe://<td>/ns/<ns>/sa/<sa>");
        }
        return new WatchOptions(workload.namespace(), workload.serviceAccount(), service, instance, advertisedAddress,
                DEFAULT_WAIT);
    }
}
