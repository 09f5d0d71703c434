package dev.outrider.core.snapshot;

import dev.outrider.core.model.ServiceName;
import dev.outrider.core.model.ServiceProtocol;
import dev.outrider.core.model.SpiffeId;

import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * Everything one workload's sidecar needs from the control plane, compiled for that workload: the policy
 * documents that select it and the endpoints of the services it may call. The control plane signs it
 * ({@link SnapshotSigner}); the sidecar verifies it ({@link SnapshotVerifier}) before applying it.
 *
 * <p>Versions order as unsigned decimal numbers: {@code version} is a non-negative {@code long} written
 * in canonical decimal (no sign, no leading zeros: {@code "0"}, {@code "42"}); the control plane issues them
 * in increasing order (e.g. the revision of its store), so a greater number is a newer snapshot.
 * {@link #versionNumber()} gives the number, {@link #isOlderThan(long)} compares.
 *
 * @param version   canonical decimal of a non-negative long
 * @param workload  the SPIFFE ID of the workload this snapshot is for
 * @param issuedAt  when the control plane compiled it
 * @param policies  the policy documents as one multi-document YAML or JSON text, as
 *                  {@link dev.outrider.core.policy.PolicyDocuments#parse} reads it (empty: no policies)
 * @param endpoints immutable; no service has the same address twice, and every endpoint of a service has the
 *                  same protocol
 * @param rateLimitRedis the Redis of {@code scope: global} rate-limit rules the control plane passes on (used by a
 *                  sidecar whose bootstrap file names none), or null: none
 */
public record WorkloadSnapshot(String version, SpiffeId workload, Instant issuedAt, String policies,
                               List<SnapshotEndpoint> endpoints, RedisSettings rateLimitRedis) {
    private static final int MAX_VERSION_DIGITS = 19;

    public WorkloadSnapshot {
        requireNonNull(version, "version");
        requireNonNull(workload, "workload");
        requireNonNull(issuedAt, "issuedAt");
        requireNonNull(policies, "policies");
        endpoints = List.copyOf(requireNonNull(endpoints, "endpoints"));
        parseVersion(version);
        Set<String> seen = new HashSet<>();
        Map<ServiceName, ServiceProtocol> protocols = new HashMap<>();
        for (SnapshotEndpoint e : endpoints) {
            if (!seen.add(e.service() + " " + e.address())) {
                throw new IllegalArgumentException("endpoint " + e.address() + " of service " + e.service()
                        + " is listed twice");
            }
            ServiceProtocol first = protocols.putIfAbsent(e.service(), e.protocol());
            if (first != null && first != e.protocol()) {
                throw new IllegalArgumentException("endpoint " + e.address() + " of service " + e.service()
                        + " has protocol " + e.protocol().wireName() + ", another of its endpoints "
                        + first.wireName());
            }
        }
    }

    /** A snapshot without {@link #rateLimitRedis}. */
    public WorkloadSnapshot(String version, SpiffeId workload, Instant issuedAt, String policies,
                            List<SnapshotEndpoint> endpoints) {
        this(version, workload, issuedAt, policies, endpoints, null);
    }

    /** {@link #version()} as a number; a greater number is a newer snapshot. */
    public long versionNumber() {
        return Long.parseLong(version);
    }

    /** Whether this snapshot is older than the version {@code appliedVersion} (equal is not older). */
    public boolean isOlderThan(long appliedVersion) {
        return versionNumber() < appliedVersion;
    }

    /** Parses a canonical version; the message says why one is not. */
    static long parseVersion(String version) {
        boolean digits = !version.isEmpty() && version.length() <= MAX_VERSION_DIGITS
                && version.chars().allMatch(c -> c >= '0' && c <= '9')
                && (version.length() == 1 || version.charAt(0) != '0');
        if (!digits) {
            throw new IllegalArgumentException("version '" + version
                    + "' is not a non-negative decimal number without leading zeros");
        }
        try {
            return Long.parseLong(version);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("version '" + version + "' is greater than " + Long.MAX_VALUE);
        }
    }
}
