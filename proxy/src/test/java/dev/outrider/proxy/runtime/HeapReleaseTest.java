package dev.outrider.proxy.runtime;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class HeapReleaseTest {
    private static final long MIB = 1L << 20;

    /** Samples the same heap size and collection count {@code n} times; true if any asked for a release. */
    private static boolean steady(HeapRelease r, long collections, long committed, int n) {
        boolean any = false;
        for (int i = 0; i < n; i++) {
            any |= r.observe(collections, committed);
        }
        return any;
    }

    @Test
    void aHeapGrownByABurstIsCollectedOnceTheBurstIsOver() {
        HeapRelease r = new HeapRelease(28 * MIB);
        // The burst: young collections and a growing heap.
        assertThat(r.observe(100, 40 * MIB)).isFalse();
        assertThat(r.observe(400, 70 * MIB)).isFalse();
        assertThat(r.observe(900, 90 * MIB)).isFalse();
        // Over: the heap stays at 90 MiB, no collection runs.
        assertThat(r.observe(900, 90 * MIB)).isFalse();
        assertThat(r.observe(900, 90 * MIB)).isFalse();
        assertThat(r.observe(900, 90 * MIB)).isTrue();
        r.collected(30 * MIB);
        // Given back: quiet from now on.
        assertThat(steady(r, 901, 30 * MIB, 20)).isFalse();
    }

    @Test
    void lightLoadStillCountsAsQuiet() {
        HeapRelease r = new HeapRelease(28 * MIB);
        r.observe(0, 90 * MIB);
        assertThat(r.observe(1, 90 * MIB)).isFalse();
        assertThat(r.observe(2, 90 * MIB)).isFalse();
        assertThat(r.observe(3, 90 * MIB)).isTrue(); // 3 young collections in 30 s
    }

    @Test
    void noCollectionWhileTheLoadGoesOn() {
        HeapRelease r = new HeapRelease(28 * MIB);
        long gcs = 0;
        for (int i = 0; i < 30; i++) {
            gcs += 4; // a young collection every 2.5 s: 12 in each window
            assertThat(r.observe(gcs, 90 * MIB)).isFalse();
        }
    }

    @Test
    void noCollectionWhileTheHeapIsStillGrowing() {
        HeapRelease r = new HeapRelease(28 * MIB);
        for (int i = 0; i < 30; i++) {
            assertThat(r.observe(0, (40 + i) * MIB)).isFalse();
        }
    }

    @Test
    void aSmallGrowthIsNotWorthAFullCollection() {
        HeapRelease r = new HeapRelease(28 * MIB);
        assertThat(steady(r, 0, 28 * MIB + HeapRelease.GROWTH_BYTES, 30)).isFalse();
        assertThat(steady(new HeapRelease(28 * MIB), 0, 28 * MIB + HeapRelease.GROWTH_BYTES + 1, 30)).isTrue();
    }

    @Test
    void aHeapThatDoesNotShrinkBecomesTheBaseline() {
        HeapRelease r = new HeapRelease(28 * MIB);
        assertThat(steady(r, 0, 90 * MIB, HeapRelease.QUIET_CHECKS + 1)).isTrue();
        r.collected(88 * MIB); // a large live set: the collection gave little back
        assertThat(steady(r, 1, 88 * MIB, 30)).isFalse();
        // Another burst that grows it further is released again.
        r.observe(50, 96 * MIB);
        assertThat(steady(r, 50, 96 * MIB, 30)).isFalse(); // 96 - 88 = 8 MiB: under the growth threshold
        r.observe(60, 120 * MIB);
        assertThat(steady(r, 60, 120 * MIB, HeapRelease.QUIET_CHECKS)).isTrue();
    }
}
