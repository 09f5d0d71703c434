package dev.outrider.core.client;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BackoffTest {
    private static final Duration INITIAL = Duration.ofMillis(250);
    private static final Duration MAX = Duration.ofSeconds(30);

    @Test
    void ceilingDoublesFromInitialUpToMax() {
        Backoff backoff = new Backoff(INITIAL, MAX, new Random(1));
        List<Long> ceilings = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            ceilings.add(backoff.ceiling().toMillis());
            backoff.next();
        }
        assertThat(ceilings).containsExactly(250L, 500L, 1000L, 2000L, 4000L, 8000L, 16000L, 30000L, 30000L, 30000L);
    }

    @Test
    void everyDelayIsWithinZeroAndItsCeiling() {
        Backoff backoff = new Backoff(INITIAL, MAX, new Random(42));
        for (int i = 0; i < 1000; i++) {
            long ceiling = backoff.ceiling().toMillis();
            long delay = backoff.next().toMillis();
            assertThat(delay).isBetween(0L, ceiling);
        }
    }

    @Test
    void delaysAreJitteredNotTheCeiling() {
        // Full jitter: with a seeded random, the delays of a long run at the cap spread over [0, 30 s].
        Backoff backoff = new Backoff(INITIAL, MAX, new Random(7));
        for (int i = 0; i < 20; i++) {
            backoff.next();
        }
        long below = 0;
        long above = 0;
        for (int i = 0; i < 200; i++) {
            long d = backoff.next().toMillis();
            below += d < 15_000 ? 1 : 0;
            above += d >= 15_000 ? 1 : 0;
        }
        assertThat(below).isGreaterThan(50);
        assertThat(above).isGreaterThan(50);
    }

    @Test
    void resetStartsAgainAtInitial() {
        Backoff backoff = new Backoff(INITIAL, MAX, new Random(3));
        for (int i = 0; i < 12; i++) {
            backoff.next();
        }
        assertThat(backoff.ceiling()).isEqualTo(MAX);
        backoff.reset();
        assertThat(backoff.ceiling()).isEqualTo(INITIAL);
        for (int i = 0; i < 100; i++) {
            Backoff b = new Backoff(INITIAL, MAX, new Random(i));
            assertThat(b.next()).isLessThanOrEqualTo(INITIAL);
        }
    }

    @Test
    void manyFailuresDoNotOverflow() {
        Backoff backoff = new Backoff(INITIAL, MAX, new Random(5));
        for (int i = 0; i < 10_000; i++) {
            assertThat(backoff.next()).isBetween(Duration.ZERO, MAX);
        }
        assertThat(backoff.ceiling()).isEqualTo(MAX);
    }

    @Test
    void aDelayAfterARefusalNeverExceedsTheRefusalBound() {
        // Any mix of failures, any draw: a refused connection waits at most 2 s, others up to their ceiling.
        for (int seed = 0; seed < 200; seed++) {
            Random random = new Random(seed);
            Backoff backoff = new Backoff(INITIAL, MAX, random);
            for (int i = 0; i < 100; i++) {
                if (random.nextInt(5) == 0) {
                    backoff.reset();
                }
                boolean refused = random.nextBoolean();
                long ceiling = backoff.ceiling().toMillis();
                Duration delay = backoff.next(refused);
                assertThat(delay).isBetween(Duration.ZERO, refused ? Backoff.REFUSED_MAX : Duration.ofMillis(ceiling));
            }
        }
        assertThat(Backoff.REFUSED_MAX).isEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void refusalsKeepTheExponentialStartAndOtherFailuresTheLongBackoff() {
        Backoff backoff = new Backoff(INITIAL, MAX, new Ceiling());
        List<Long> refused = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            refused.add(backoff.next(true).toMillis());
        }
        // Worst case draws: doubling from 250 ms, then held at the bound however long the refusals last.
        assertThat(refused).containsExactly(250L, 500L, 1000L, 2000L, 2000L, 2000L, 2000L, 2000L);
        assertThat(backoff.next(false)).as("a timeout or 5xx after them").isEqualTo(MAX);
        assertThat(backoff.next(true)).isEqualTo(Backoff.REFUSED_MAX);
    }

    @Test
    void delaysAfterRefusalsAreJitteredToo() {
        Backoff backoff = new Backoff(INITIAL, MAX, new Random(11));
        for (int i = 0; i < 20; i++) {
            backoff.next(true);
        }
        long below = 0;
        long above = 0;
        for (int i = 0; i < 200; i++) {
            long d = backoff.next(true).toMillis();
            below += d < 1000 ? 1 : 0;
            above += d >= 1000 ? 1 : 0;
        }
        assertThat(below).isGreaterThan(50);
        assertThat(above).isGreaterThan(50);
    }

    @Test
    void aSmallMaximumBoundsRefusalsToo() {
        Backoff backoff = new Backoff(Duration.ofMillis(10), Duration.ofMillis(40), new Ceiling());
        for (int i = 0; i < 10; i++) {
            assertThat(backoff.next(true)).isLessThanOrEqualTo(Duration.ofMillis(40));
        }
    }

    /** Every draw is the ceiling: the longest delay the policy allows. */
    private static final class Ceiling implements java.util.random.RandomGenerator {
        @Override
        public long nextLong() {
            return Long.MAX_VALUE;
        }

        @Override
        public long nextLong(long bound) {
            return bound - 1;
        }
    }

    @Test
    void refusesNonsense() {
        assertThatThrownBy(() -> new Backoff(Duration.ZERO, MAX, new Random()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Backoff(MAX, INITIAL, new Random()))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
