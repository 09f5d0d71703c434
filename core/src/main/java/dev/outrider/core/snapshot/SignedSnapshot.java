package dev.outrider.core.snapshot;

import static java.util.Objects.requireNonNull;

/**
 * A snapshot as {@code GET /v1/snapshots/{ns}/{sa}} delivered it, not yet verified.
 *
 * @param version the {@code Outrider-Snapshot-Version} header: what to NACK when the JWS is refused (the payload's
 *                own version is only trusted after the signature verifies), and what to poll after so that a refused
 *                snapshot is not fetched again at once
 * @param jws     the compact JWS, for {@link dev.outrider.core.snapshot.SnapshotVerifier}
 */
public record SignedSnapshot(long version, String jws) {
    public SignedSnapshot {
        if (version < 0) {
            throw new IllegalArgumentException("snapshot version " + version + " is negative");
        }
        requireNonNull(jws, "jws");
    }
}
