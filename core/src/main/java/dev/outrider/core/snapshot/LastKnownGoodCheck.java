package dev.outrider.core.snapshot;

import dev.outrider.core.snapshot.SnapshotException.Reason;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalLong;

import static java.util.Objects.requireNonNull;

/**
 * Whether a last-known-good snapshot whose signature and workload already verified may be put in force while the
 * control plane has not answered: a pure function of the snapshot's version and signed issue time, the version
 * floor kept beside the cache file, and the clock (docs/control-plane.md, "Last-known-good cache").
 * <ol>
 *   <li>No floor (the file is missing or unreadable): refused ({@link Reason#NO_FLOOR}). The sidecar writes the
 *       floor after every cache file it writes, so a cache without one was not left as the sidecar wrote it.</li>
 *   <li>A version below the floor: refused ({@link Reason#BELOW_FLOOR}). The sidecar only ever writes versions
 *       that grow, so an older one is a genuinely signed snapshot copied over the newer one (a rollback). A
 *       version above the floor is accepted: a crash between writing the cache and writing its floor.</li>
 *   <li>Issued more than {@code maxAge} ago (by the signed {@code issuedAt}): refused ({@link Reason#TOO_OLD}).
 *       This bounds a rollback by whoever can rewrite the floor too; the control plane re-signs every snapshot
 *       well within the default age, so a current one does not get this old while the control plane runs. An
 *       issue time ahead of the sidecar's clock is accepted (clock skew; the time is signed).</li>
 * </ol>
 */
final class LastKnownGoodCheck {
    /** Why a cached snapshot is refused, without key material or payload. */
    record Refusal(Reason reason, String detail) {
        Refusal {
            requireNonNull(reason, "reason");
            requireNonNull(detail, "detail");
        }
    }

    private LastKnownGoodCheck() {
    }

    /**
     * @param version  the cached snapshot's version
     * @param issuedAt its signed issue time
     * @param floor    the version floor, empty when there is none
     * @param now      the sidecar's clock
     * @param maxAge   the maximum age of a cached snapshot (positive)
     * @return empty when the snapshot may be applied
     */
    static Optional<Refusal> refusal(long version, Instant issuedAt, OptionalLong floor, Instant now,
                                     Duration maxAge) {
        requireNonNull(issuedAt, "issuedAt");
        requireNonNull(floor, "floor");
        requireNonNull(now, "now");
        requireNonNull(maxAge, "maxAge");
        if (floor.isEmpty()) {
            return Optional.of(new Refusal(Reason.NO_FLOOR, "snapshot " + version + " has no usable version floor"
                    + " beside it (missing or not a version number); a cache is used only with the floor the sidecar writes after it (the control plane's"
                    + " next snapshot writes both)"));
        }
        if (version < floor.getAsLong()) {
            return Optional.of(new Refusal(Reason.BELOW_FLOOR, "snapshot " + version
                    + " is older than the version floor " + floor.getAsLong()
                    + ": a newer snapshot was in force, the file was replaced by an older one"));
        }
        Duration age = Duration.between(issuedAt, now);
        if (age.compareTo(maxAge) > 0) {
            return Optional.of(new Refusal(Reason.TOO_OLD, "snapshot " + version + " was issued at " + issuedAt
                    + ", " + text(age) + " ago, longer than the maximum age of a cached snapshot (" + text(maxAge)
                    + ", controlPlane.maxSnapshotAge)"));
        }
        return Optional.empty();
    }

    /** Whole hours, or minutes below an hour: enough for an age measured in days. */
    private static String text(Duration d) {
        return d.compareTo(Duration.ofHours(1)) >= 0 ? d.toHours() + "h" : d.toMinutes() + "m";
    }
}
