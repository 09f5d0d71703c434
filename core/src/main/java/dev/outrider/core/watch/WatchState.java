package dev.outrider.core.watch;

import java.time.Instant;

import static java.util.Objects.requireNonNull;

/**
 * What a {@link SnapshotWatcher} has achieved, for the sidecar's {@code /ready} and {@code /config}: immutable, a
 * new one published after every change.
 *
 * @param appliedVersion the version of the snapshot in force, -1 when none
 * @param source         where the snapshot in force came from
 * @param lastError      the problem to report (no contact, a refused snapshot, a failed registration), null when
 *                       none; it never contains key material or tokens
 * @param lastContact    when the control plane last answered a poll or registration; null when never
 */
public record WatchState(long appliedVersion, Source source, String lastError, Instant lastContact) {
    public enum Source {
        /** No snapshot in force: the sidecar must refuse inbound requests (fail closed). */
        NONE,
        /** The last-known-good snapshot from disk, until the control plane answers with a newer one. */
        CACHE,
        /** A snapshot received from the control plane. */
        CONTROL_PLANE
    }

    public WatchState {
        requireNonNull(source, "source");
        if ((source == Source.NONE) != (appliedVersion < 0)) {
            throw new IllegalArgumentException("applied version " + appliedVersion + " with source " + source);
        }
    }

    static final WatchState INITIAL = new WatchState(-1, Source.NONE, null, null);

    /** Whether a snapshot is in force (the sidecar may serve). */
    public boolean hasSnapshot() {
        return source != Source.NONE;
    }
}
