package dev.outrider.proxy.runtime;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Gives the Java heap back once a burst of load is over. Under an overload the Serial collector grows the
 * heap up to {@code -Xmx} (in-flight requests survive young collections and are promoted), and it shrinks
 * a generation only after a full collection, which an idle or lightly loaded sidecar never runs: measured
 * (bench/RESULTS.md "Memory after overload"), sidecar B kept 90 MiB of heap committed, against 28 MiB
 * before, for as long as it ran. So once the heap has grown by {@link #GROWTH_BYTES} since the last
 * release and then stayed the same size through a quiet window ({@link #QUIET_CHECKS} checks
 * {@link #PERIOD} apart, with at most {@link #QUIET_MAX_COLLECTIONS} collections in it: the burst is over,
 * the allocation rate is low), one explicit full collection runs ({@code System.gc()}); with
 * {@code -XX:-ShrinkHeapInSteps} and {@code -XX:MaxHeapFreeRatio} (config/jvm/sidecar.options) it
 * uncommits what the live set does not need. At most one per growth of {@link #GROWTH_BYTES}: a heap that
 * does not shrink (a large live set) becomes the new baseline and is not collected again.
 *
 * <p>Process-wide (one heap per JVM): started by {@code outrider proxy}, on its own daemon thread, never an
 * event loop (the collection stops every thread; the caller waits for it). The decision is
 * {@link #observe}, a pure function of the samples.
 */
public final class HeapRelease {
    private static final Logger log = LoggerFactory.getLogger(HeapRelease.class);

    /** Time between two samples. */
    public static final Duration PERIOD = Duration.ofSeconds(10);
    /** Samples in the quiet window: 30 s without heap growth. */
    public static final int QUIET_CHECKS = 3;
    /** Collections allowed in the quiet window (about one young collection per 10 s: light load). */
    public static final int QUIET_MAX_COLLECTIONS = 3;
    /** Growth of committed heap over the baseline that is worth a full collection. */
    public static final long GROWTH_BYTES = 16L << 20;

    private long baseline;
    private long lastCommitted = -1;
    private long windowStartCollections = -1;
    private int quietChecks;

    /** @param committedAtStart the heap committed when the sidecar is ready: the first baseline */
    public HeapRelease(long committedAtStart) {
        this.baseline = committedAtStart;
    }

    /**
     * One sample: the collections the JVM has run so far and the heap committed now. Returns true when a
     * full collection should run now; then call {@link #collected} with the heap committed after it.
     */
    public boolean observe(long collections, long committed) {
        if (committed != lastCommitted || windowStartCollections < 0) {
            // The heap is still changing size (or this is the first sample): the window starts again.
            lastCommitted = committed;
            windowStartCollections = collections;
            quietChecks = 0;
            return false;
        }
        if (++quietChecks < QUIET_CHECKS) {
            return false;
        }
        boolean quiet = collections - windowStartCollections <= QUIET_MAX_COLLECTIONS;
        windowStartCollections = collections;
        quietChecks = 0;
        return quiet && committed > baseline + GROWTH_BYTES;
    }

    /** After a release: the heap committed now is the new baseline. */
    public void collected(long committedAfter) {
        baseline = committedAfter;
        lastCommitted = -1;
    }

    /** Samples this JVM every {@link #PERIOD} on a daemon thread and collects when {@link #observe} says so. */
    public static void start() {
        var memory = ManagementFactory.getMemoryMXBean();
        HeapRelease release = new HeapRelease(memory.getHeapMemoryUsage().getCommitted());
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "outrider-heap-release");
            t.setDaemon(true);
            return t;
        });
        long period = PERIOD.toMillis();
        timer.scheduleWithFixedDelay(() -> {
            try {
                long before = memory.getHeapMemoryUsage().getCommitted();
                if (release.observe(collections(), before)) {
                    long t0 = System.nanoTime();
                    System.gc();
                    long after = memory.getHeapMemoryUsage().getCommitted();
                    release.collected(after);
                    log.info("load is over: heap committed {} MiB -> {} MiB after a full collection ({} ms)",
                            before >> 20, after >> 20, (System.nanoTime() - t0) / 1_000_000);
                }
            } catch (RuntimeException e) {
                log.warn("heap release check failed: {}", e.toString()); // the next check runs as usual
            }
        }, period, period, TimeUnit.MILLISECONDS);
    }

    private static long collections() {
        long n = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            n += Math.max(0, gc.getCollectionCount());
        }
        return n;
    }
}
