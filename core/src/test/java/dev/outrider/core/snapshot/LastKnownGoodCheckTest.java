package dev.outrider.core.snapshot;

import dev.outrider.core.snapshot.LastKnownGoodCheck.Refusal;
import dev.outrider.core.snapshot.SnapshotException.Reason;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalLong;

import static org.assertj.core.api.Assertions.assertThat;

/** The floor and maximum-age decisions for a cached snapshot, without files. */
class LastKnownGoodCheckTest {
    private static final Instant ISSUED = Instant.parse("2026-03-01T00:00:00Z");
    private static final Duration WEEK = Duration.ofDays(7);

    private static Optional<Refusal> check(long version, OptionalLong floor, Instant now) {
        return LastKnownGoodCheck.refusal(version, ISSUED, floor, now, WEEK);
    }

    @Test
    void atOrAboveTheFloorAndYoungEnoughIsApplied() {
        assertThat(check(5, OptionalLong.of(5), ISSUED)).isEmpty();
        assertThat(check(6, OptionalLong.of(5), ISSUED.plus(Duration.ofDays(3)))).isEmpty();
        assertThat(check(0, OptionalLong.of(0), ISSUED)).isEmpty();
    }

    @Test
    void belowTheFloorIsARollback() {
        Refusal r = check(4, OptionalLong.of(5), ISSUED).orElseThrow();
        assertThat(r.reason()).isEqualTo(Reason.BELOW_FLOOR);
        assertThat(r.detail()).contains("snapshot 4 is older than the version floor 5");

        assertThat(check(1, OptionalLong.of(Long.MAX_VALUE), ISSUED)).map(Refusal::reason).contains(Reason.BELOW_FLOOR);
    }

    @Test
    void withoutAFloorNothingIsApplied() {
        Refusal r = check(5, OptionalLong.empty(), ISSUED).orElseThrow();
        assertThat(r.reason()).isEqualTo(Reason.NO_FLOOR);
        assertThat(r.detail()).contains("snapshot 5").contains("no usable version floor");
    }

    @Test
    void theMaximumAgeIsInclusive() {
        assertThat(check(5, OptionalLong.of(5), ISSUED.plus(WEEK))).isEmpty();

        Refusal r = check(5, OptionalLong.of(5), ISSUED.plus(WEEK).plusSeconds(1)).orElseThrow();
        assertThat(r.reason()).isEqualTo(Reason.TOO_OLD);
        assertThat(r.detail()).contains("issued at 2026-03-01T00:00:00Z").contains("168h ago")
                .contains("(168h, controlPlane.maxSnapshotAge)");
    }

    @Test
    void anIssueTimeAheadOfTheClockIsAccepted() {
        assertThat(check(5, OptionalLong.of(5), ISSUED.minus(Duration.ofHours(2)))).isEmpty();
    }

    @Test
    void theFloorIsCheckedBeforeTheAge() {
        // A rolled-back file is reported as such even when it is also old.
        assertThat(check(4, OptionalLong.of(5), ISSUED.plus(Duration.ofDays(30)))).map(Refusal::reason)
                .contains(Reason.BELOW_FLOOR);
    }

    @Test
    void ageBelowAnHourIsShownInMinutes() {
        Optional<Refusal> r = LastKnownGoodCheck.refusal(5, ISSUED, OptionalLong.of(5),
                ISSUED.plus(Duration.ofMinutes(45)), Duration.ofMinutes(30));
        assertThat(r).map(Refusal::detail).hasValueSatisfying(d -> assertThat(d).contains("45m ago").contains("(30m,"));
    }
}
