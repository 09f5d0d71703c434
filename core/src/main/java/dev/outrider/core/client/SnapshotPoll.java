package dev.outrider.core.client;

import dev.outrider.core.snapshot.SignedSnapshot;

import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * The answer to a snapshot long poll ({@link ControlPlaneClient#pollSnapshot}).
 *
 * @param snapshot    the first snapshot newer than the poll asked for, or empty when none appeared in time (304)
 * @param acksOnPoll  the control plane records the ACK a poll carries (it said so in
 *                    {@value ControlPlaneClient#ACKS_ON_POLL_HEADER}): the sidecar need not send it separately
 */
public record SnapshotPoll(Optional<SignedSnapshot> snapshot, boolean acksOnPoll) {
    public SnapshotPoll {
        requireNonNull(snapshot, "snapshot");
    }
}
