package dev.outrider.proxy.ratelimit;

import java.util.function.LongSupplier;

import static java.util.Objects.requireNonNull;

/**
 * One unkeyed token bucket for callers outside the request limiter (the security event stream): the same
 * {@link Gcra} over one {@link Cell} that every rate-limit rule uses, so taking a token is one compare-and-set,
 * with no lock, no timer and no refill thread; safe on any number of event loops at once.
 */
public final class TokenBucket {
    private final Cell cell = new Cell();
    private final LongSupplier clock;
    private final long origin;
    private final long interval;
    private final long capacity;

    /**
     * @param ratePerSecond tokens added per second (the sustained rate), at least 1
     * @param burst         tokens a full bucket holds (taken at once after a quiet spell), at least 1
     * @param clock         nanoseconds, monotonic ({@code System::nanoTime})
     */
    public TokenBucket(long ratePerSecond, long burst, LongSupplier clock) {
        if (ratePerSecond < 1 || ratePerSecond > 1_000_000_000L) {
            throw new IllegalArgumentException("ratePerSecond must be 1..1000000000, got " + ratePerSecond);
        }
        if (burst < 1 || burst > 1_000_000_000L) {
            throw new IllegalArgumentException("burst must be 1..1000000000, got " + burst);
        }
        this.clock = requireNonNull(clock, "clock");
        this.origin = clock.getAsLong() - 1; // now() starts at 1: the new cell (0) is a full bucket
        this.interval = 1_000_000_000L / ratePerSecond;
        this.capacity = burst * interval;
    }

    /** Takes one token; false when the bucket is empty (nothing is taken then). */
    public boolean tryAcquire() {
        return Gcra.acquire(cell, clock.getAsLong() - origin, interval, capacity) >= 0;
    }
}
