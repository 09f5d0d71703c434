package dev.outrider.core.watch;

import dev.outrider.core.snapshot.LastKnownGood;
import dev.outrider.core.snapshot.SignedSnapshot;
import dev.outrider.core.snapshot.SnapshotResult;
import dev.outrider.core.snapshot.WorkloadSnapshot;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** One snapshot through verify → apply → last-known-good, and what is reported. */
class SnapshotIntakeTest {
    private final TestSnapshots snapshots = new TestSnapshots();
    private final List<WorkloadSnapshot> applied = new ArrayList<>();
    private String applyFailure;

    @TempDir
    Path dir;
    private LastKnownGood cache;
    private SnapshotIntake intake;

    @BeforeEach
    void setUp() {
        cache = snapshots.cache(dir.resolve("snapshot.jws"));
        intake = new SnapshotIntake(snapshots.verifier, cache, s -> {
            if (applyFailure != null) {
                throw new IllegalArgumentException(applyFailure);
            }
            applied.add(s.snapshot());
        });
    }

    @Test
    void aValidSnapshotIsAppliedKeptAndAcked() {
        SnapshotIntake.Outcome outcome = intake.offer(snapshots.signed(12), 11);

        assertThat(outcome.result()).isEqualTo(SnapshotResult.ACK);
        assertThat(outcome.version()).isEqualTo("12");
        assertThat(outcome.error()).isNull();
        assertThat(applied).containsExactly(TestSnapshots.snapshot(12));
        assertThat(cache.load()).contains(TestSnapshots.snapshot(12));
    }

    @Test
    void aTamperedSnapshotIsNackedAndNothingChanges() {
        intake.offer(snapshots.signed(12), -1);
        String jws = snapshots.signed(13).jws();
        String tampered = jws.substring(0, jws.length() - 4) + (jws.endsWith("AAAA") ? "BBBB" : "AAAA");

        SnapshotIntake.Outcome outcome = intake.offer(new SignedSnapshot(13, tampered), 12);

        assertThat(outcome.result()).isEqualTo(SnapshotResult.NACK);
        assertThat(outcome.version()).isEqualTo("13");
        assertThat(outcome.error()).startsWith("snapshot refused (BAD_SIGNATURE)");
        assertThat(applied).containsExactly(TestSnapshots.snapshot(12));
        assertThat(cache.load()).contains(TestSnapshots.snapshot(12));
    }

    @Test
    void aSnapshotOlderThanTheAppliedOneIsNacked() {
        SnapshotIntake.Outcome outcome = intake.offer(snapshots.signed(9), 12);

        assertThat(outcome.result()).isEqualTo(SnapshotResult.NACK);
        assertThat(outcome.error()).contains("STALE_VERSION").contains("older than the applied version 12");
        assertThat(applied).isEmpty();
        assertThat(cache.load()).isEmpty();
    }

    @Test
    void anApplyFailureIsNackedWithItsMessageAndNotKept() {
        applyFailure = "policies: spec.rules[0]: bad\nsecond line";

        SnapshotIntake.Outcome outcome = intake.offer(snapshots.signed(12), -1);

        assertThat(outcome.result()).isEqualTo(SnapshotResult.NACK);
        assertThat(outcome.version()).isEqualTo("12");
        assertThat(outcome.error()).isEqualTo("snapshot not applied: policies: spec.rules[0]: bad second line");
        assertThat(cache.load()).isEmpty();
    }

    @Test
    void longErrorsAreShortenedToOneLine() {
        String shortened = SnapshotIntake.shorten("x".repeat(5000) + "\n\ty");
        assertThat(shortened).hasSize(SnapshotIntake.MAX_ERROR).endsWith("...").doesNotContain("\n");
    }
}
