package dev.outrider.bench.load;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * What the connections report while a run goes on: one latency recorder and a few counters, written from
 * every event loop and from the dispatcher thread.
 *
 * <p>Threading: {@link Recorder} takes concurrent writers without locks; the counters are {@link LongAdder}s.
 * {@link #reset()} (end of the warm-up) races with in-flight completions, which then count in the measured
 * phase: the error is at most the number of requests in flight at that instant.
 */
final class LoadStats {
    /** Latency in nanoseconds; auto-resizing, 3 significant digits. */
    private final Recorder latency = new Recorder(3);
    final LongAdder completed = new LongAdder();
    /** Like {@link #completed}, warm-up included (never reset): what the target served over the whole run. */
    final LongAdder completedAll = new LongAdder();
    /** Responses with a status outside 2xx. */
    final LongAdder non2xx = new LongAdder();
    /** Requests lost to a connection error, a reset stream or a closed connection. */
    final LongAdder ioErrors = new LongAdder();
    /** Open loop only: requests not sent because {@code maxOutstanding} requests were already outstanding. */
    final LongAdder dropped = new LongAdder();
    /** Requests accepted for sending and not yet answered (queued on a connection or in flight). */
    final AtomicInteger outstanding = new AtomicInteger();

    /** A response arrived for a request whose (intended) start was {@code startNanos}. */
    void complete(long startNanos, long nowNanos, boolean success) {
        latency.recordValue(Math.max(0, nowNanos - startNanos));
        completed.increment();
        completedAll.increment();
        if (!success) {
            non2xx.increment();
        }
        outstanding.decrementAndGet();
    }

    /** A request (queued or in flight) was lost with its connection. */
    void fail() {
        ioErrors.increment();
        outstanding.decrementAndGet();
    }

    /** Forgets the warm-up: the latency recorded so far and the counters (not {@link #outstanding}). */
    void reset() {
        latency.reset();
        completed.reset();
        non2xx.reset();
        ioErrors.reset();
        dropped.reset();
    }

    /** The latency recorded since the last reset (or the previous call). */
    Histogram takeLatency() {
        return latency.getIntervalHistogram();
    }
}
