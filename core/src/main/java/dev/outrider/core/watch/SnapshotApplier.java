package dev.outrider.core.watch;

import dev.outrider.core.snapshot.VerifiedSnapshot;

/**
 * Puts a verified snapshot in force: compile its policies (parsed once, by the verifier), then swap the sidecar's
 * policy store. Called by {@link SnapshotWatcher} on its own thread, one snapshot at a time, never on an event
 * loop.
 */
@FunctionalInterface
public interface SnapshotApplier {
    /**
     * Applies {@code snapshot} completely, or throws and leaves the snapshot in force unchanged (the watcher then
     * NACKs with the exception's message, which should name the document and field at fault).
     */
    void apply(VerifiedSnapshot snapshot) throws Exception;
}
