package dev.outrider.controlplane.snapshot;

import static java.util.Objects.requireNonNull;

/**
 * A signed snapshot as the API serves it: the version ({@code Outrider-Snapshot-Version}) and the JWS
 * ({@code application/jose} body).
 *
 * @param version non-negative; the store revision at which the workload's content last changed
 * @param jws     the compact JWS, signed by the control plane's {@link dev.outrider.core.snapshot.SnapshotSigner}
 */
public record IssuedSnapshot(long version, String jws) {
    public IssuedSnapshot {
        requireNonNull(jws, "jws");
        if (version < 0) {
            throw new IllegalArgumentException("version must not be negative: " + version);
        }
    }

    @Override
    public String toString() {
        return "IssuedSnapshot[version=" + version + ", " + jws.length() + " characters]";
    }
}
