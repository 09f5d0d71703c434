package dev.outrider.proxy.config;

import dev.outrider.core.model.SpiffeId;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * Where the sidecar gets its policies, endpoints and certificate from (docs/control-plane.md). Present only
 * when the bootstrap file has a {@code controlPlane} block; then {@code policies.directory} is not used and
 * the {@code tls} files are where the issued certificate, its key and the trust bundle are written.
 *
 * @param addresses        the control plane's API (host:port), one per replica or one name in front of them; the
 *                         client starts at the first and moves to the next when one does not answer
 * @param identity         the SPIFFE ID the control plane's serving certificate must show
 * @param snapshotKeys     the control plane's public snapshot-signing keys (a JWK Set file)
 * @param joinToken        a file holding a join token, read when the tls files hold no usable certificate;
 *                         null when the sidecar always starts with a certificate or uses a service-account token
 * @param serviceAccountToken a file holding a Kubernetes projected service-account token (on Kubernetes:
 *                         {@code /var/run/secrets/outrider/token}), read afresh at each bootstrap attempt because
 *                         the kubelet rotates it; exclusive with {@code joinToken}; null when not used
 * @param cacheDirectory   where the last-known-good snapshot is kept
 * @param advertise        the inbound address other sidecars reach this one on (registered with the service);
 *                         null: the bound inbound address (loopback when it listens on a wildcard)
 * @param instance         this sidecar's instance name in the registry (a DNS label, e.g. the pod name); null:
 *                         {@code HOSTNAME} when it is a DNS label, else {@code <service>-<advertised port>}
 * @param bootstrapTimeout how long start-up waits for a first certificate from the control plane
 * @param watchTimeout     how long one long-poll for the next snapshot is held by the control plane
 * @param maxSnapshotAge   a last-known-good snapshot issued (signed {@code issuedAt}) longer ago than this is refused
 *                         at start-up; the control plane re-signs snapshots daily, so this bounds how long an
 *                         outage a restart can bridge and how old a replayed snapshot can be
 */
public record ControlPlaneLinkConfig(List<HostPort> addresses, SpiffeId identity, Path snapshotKeys, Path joinToken,
                                 Path serviceAccountToken, Path cacheDirectory, HostPort advertise, String instance,
                                 Duration bootstrapTimeout, Duration watchTimeout, Duration maxSnapshotAge) {
    public ControlPlaneLinkConfig {
        if (joinToken != null && serviceAccountToken != null) {
            throw new IllegalArgumentException("joinToken and serviceAccountToken are exclusive");
        }
        addresses = List.copyOf(requireNonNull(addresses, "addresses"));
        if (addresses.isEmpty()) {
            throw new IllegalArgumentException("no control plane address");
        }
        requireNonNull(identity, "identity");
        requireNonNull(snapshotKeys, "snapshotKeys");
        requireNonNull(cacheDirectory, "cacheDirectory");
        requireNonNull(bootstrapTimeout, "bootstrapTimeout");
        requireNonNull(watchTimeout, "watchTimeout");
        requireNonNull(maxSnapshotAge, "maxSnapshotAge");
    }

    /** The control plane's API addresses as https URLs, in order. */
    public List<URI> urls() {
        return addresses.stream().map(a -> URI.create("https://" + (a.host().contains(":") ? "[" + a.host() + "]"
                : a.host()) + ":" + a.port())).toList();
    }

    /** For logs: the addresses, comma-separated. */
    public String describeAddresses() {
        return String.join(",", addresses.stream().map(HostPort::toString).toList());
    }
}
