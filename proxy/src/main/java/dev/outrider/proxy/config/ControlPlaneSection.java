package dev.outrider.proxy.config;

import com.fasterxml.jackson.databind.JsonNode;
import dev.outrider.core.document.DocumentFields;
import dev.outrider.core.document.Durations;
import dev.outrider.core.model.DnsLabel;
import dev.outrider.core.model.SpiffeId;
import dev.outrider.core.snapshot.LastKnownGood;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static dev.outrider.proxy.config.BootstrapFields.duration;
import static dev.outrider.proxy.config.BootstrapFields.error;
import static dev.outrider.proxy.config.BootstrapFields.hostPort;
import static dev.outrider.proxy.config.BootstrapFields.path;
import static dev.outrider.proxy.config.BootstrapFields.string;

/**
 * The bootstrap file's {@code controlPlane} section: where the sidecar gets its policies, endpoints and
 * certificates, and how it proves who it is the first time ({@link ControlPlaneLinkConfig}). Pure functions.
 */
final class ControlPlaneSection {
    /** The shortest {@code controlPlane.maxSnapshotAge}: twice the control plane's re-signing age of one day. */
    static final Duration MIN_SNAPSHOT_AGE = Duration.ofDays(2);

    private ControlPlaneSection() {
    }

    /** The {@code controlPlane} block, or null when the sidecar is configured from files only. */
    static ControlPlaneLinkConfig read(DocumentFields root, NodeConfig node) {
        if (!root.has("controlPlane")) {
            return null;
        }
        DocumentFields n = root.section("controlPlane", List.of("address", "identity", "snapshotKeys", "joinToken",
                "serviceAccountToken", "cacheDirectory", "advertise", "instance", "bootstrapTimeout", "watchTimeout",
                "maxSnapshotAge"));
        if (!n.has("address")) {
            throw error(n, "address", "required (host:port of the control plane's API, e.g. 127.0.0.1:15010, or a"
                    + " list of them, one per replica)");
        }
        SpiffeId identity;
        String idText = string(n, "identity", null);
        if (idText == null) {
            identity = SpiffeId.ofServiceAccount(node.trustDomain(), "outrider-system", "control-plane");
        } else {
            try {
                identity = SpiffeId.parse(idText.strip());
            } catch (IllegalArgumentException e) {
                throw error(n, "identity", e.getMessage());
            }
        }
        if (!n.has("snapshotKeys")) {
            throw error(n, "snapshotKeys", "required (the control plane's public snapshot keys, a JWK Set file)");
        }
        if (!n.has("cacheDirectory")) {
            throw error(n, "cacheDirectory", "required (a directory where the last-known-good snapshot is kept)");
        }
        if (n.has("serviceAccountToken") && n.has("joinToken")) {
            throw error(n, "serviceAccountToken", "set either joinToken or serviceAccountToken, not both (a sidecar"
                    + " bootstraps with one credential)");
        }
        HostPort advertise = hostPort(n, "advertise", null, 1);
        String instance = string(n, "instance", null);
        if (instance != null && !DnsLabel.isValid(instance)) {
            throw error(n, "instance", "'" + instance + "' is not a DNS label (RFC 1123: lower-case letters, digits,"
                    + " '-')");
        }
        return new ControlPlaneLinkConfig(addresses(n), identity, path(n, "snapshotKeys", null),
                path(n, "joinToken", null), path(n, "serviceAccountToken", null), path(n, "cacheDirectory", null),
                advertise, instance,
                duration(n, "bootstrapTimeout", Duration.ofSeconds(60), false, Duration.ofHours(1)),
                duration(n, "watchTimeout", Duration.ofSeconds(30), false, Duration.ofSeconds(60)),
                maxSnapshotAge(n));
    }

    /** {@code address}: one {@code host:port}, or a non-empty list of them without repeats (one per replica). */
    private static List<HostPort> addresses(DocumentFields n) {
        JsonNode value = n.get("address");
        if (!value.isArray()) {
            return List.of(hostPort(n, "address", null, 1));
        }
        List<HostPort> addresses = new ArrayList<>();
        for (DocumentFields.Item item : n.list("address")) {
            HostPort address = hostPort(item.node(), item.path(), 1, n);
            if (addresses.contains(address)) {
                throw n.errors().fail(item.path(), address + " is listed twice");
            }
            addresses.add(address);
        }
        if (addresses.isEmpty()) {
            throw error(n, "address", "the list is empty (give at least one host:port)");
        }
        return addresses;
    }

    /**
     * At least {@link #MIN_SNAPSHOT_AGE}: the control plane re-signs a snapshot once it is a day old, so a shorter
     * maximum would refuse the cache of a healthy sidecar that restarts.
     */
    private static Duration maxSnapshotAge(DocumentFields n) {
        Duration age = duration(n, "maxSnapshotAge", LastKnownGood.DEFAULT_MAX_AGE, false, Duration.ofDays(365));
        if (age.compareTo(MIN_SNAPSHOT_AGE) < 0) {
            throw error(n, "maxSnapshotAge", Durations.format(age) + " is shorter than the minimum "
                    + Durations.format(MIN_SNAPSHOT_AGE) + " (the control plane re-signs snapshots once a day)");
        }
        return age;
    }
}
