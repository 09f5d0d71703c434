package dev.outrider.proxy.ratelimit;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The bound on limiter memory: how many cells all key tables of a sidecar hold together. A table takes a
 * slot before it adds a cell and the sweeper gives it back when it retires one; at the bound a table adds
 * nothing and counts the request under its overflow cell instead ({@link KeyTable}).
 *
 * <p>Thread-safe: any event loop takes slots, the sweeper returns them.
 */
final class TrackedKeys {
    private final long max;
    private final AtomicLong count = new AtomicLong();
    private final LongAdder overflowed = new LongAdder();

    TrackedKeys(long max) {
        if (max < 1) {
            throw new IllegalArgumentException("max must be positive: " + max);
        }
        this.max = max;
    }

    /** Takes a slot; false at the bound. The count never exceeds the bound, not even for an instant. */
    boolean tryTake() {
        for (;;) {
            long n = count.get();
            if (n >= max) {
                return false;
            }
            if (count.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    void giveBack() {
        count.decrementAndGet();
    }

    void overflowed() {
        overflowed.increment();
    }

    long count() {
        return count.get();
    }

    long max() {
        return max;
    }

    /** Requests counted under an overflow cell because the bound was reached, since start. */
    long overflowCount() {
        return overflowed.sum();
    }
}
