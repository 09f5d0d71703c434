package dev.outrider.core.watch;

import dev.outrider.core.snapshot.LastKnownGood;
import dev.outrider.core.snapshot.SignedSnapshot;
import dev.outrider.core.snapshot.SnapshotException;
import dev.outrider.core.snapshot.SnapshotResult;
import dev.outrider.core.snapshot.SnapshotVerifier;
import dev.outrider.core.snapshot.VerifiedSnapshot;
import dev.outrider.core.snapshot.WorkloadSnapshot;

import java.io.UncheckedIOException;

import static java.util.Objects.requireNonNull;

/**
 * One received snapshot through the sidecar's gate: verify (signature, workload, not older than the snapshot in
 * force, policies parse) → apply → keep as last-known-good. The outcome is what to report: ACK when applied, NACK
 * with a short error otherwise, in which case nothing changed (the applier either applied all or nothing, and the
 * last-known-good file is only replaced after a successful apply).
 *
 * <p>Confined to the watcher's thread; stateless itself.
 */
final class SnapshotIntake {
    /** Errors reported to the control plane are at most this long, on one line. */
    static final int MAX_ERROR = 1024;

    private final SnapshotVerifier verifier;
    private final LastKnownGood cache;
    private final SnapshotApplier applier;

    SnapshotIntake(SnapshotVerifier verifier, LastKnownGood cache, SnapshotApplier applier) {
        this.verifier = requireNonNull(verifier, "verifier");
        this.cache = requireNonNull(cache, "cache");
        this.applier = requireNonNull(applier, "applier");
    }

    /**
     * @param version   the version to report
     * @param applied   the snapshot now in force; null for a NACK
     * @param error     for a NACK: why; for an ACK: a problem keeping it as last-known-good, or null
     */
    record Outcome(SnapshotResult result, String version, WorkloadSnapshot applied, String error) {
    }

    Outcome offer(SignedSnapshot fetched, long appliedVersion) {
        VerifiedSnapshot verified;
        try {
            verified = verifier.verifyAndParse(fetched.jws(), Math.max(0, appliedVersion));
        } catch (SnapshotException e) {
            return new Outcome(SnapshotResult.NACK, Long.toString(fetched.version()), null,
                    shorten("snapshot refused (" + e.reason() + "): " + e.detail()));
        }
        WorkloadSnapshot snapshot = verified.snapshot();
        try {
            applier.apply(verified);
        } catch (Exception e) {
            String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            return new Outcome(SnapshotResult.NACK, snapshot.version(), null, shorten("snapshot not applied: " + message));
        }
        String storeError = null;
        try {
            cache.store(fetched.jws(), snapshot.versionNumber());
        } catch (UncheckedIOException e) {
            storeError = shorten("snapshot " + snapshot.version() + " applied but not kept as last-known-good: "
                    + e.getMessage() + " (" + e.getCause() + ")");
        }
        return new Outcome(SnapshotResult.ACK, snapshot.version(), snapshot, storeError);
    }

    /** One line of at most {@link #MAX_ERROR} characters. */
    static String shorten(String error) {
        String line = error.replaceAll("\\s+", " ").strip();
        return line.length() <= MAX_ERROR ? line : line.substring(0, MAX_ERROR - 3) + "...";
    }
}
