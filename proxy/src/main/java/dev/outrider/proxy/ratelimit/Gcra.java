package dev.outrider.proxy.ratelimit;

/**
 * The generic cell rate algorithm (a token bucket kept as one number): a {@link Cell} holds the theoretical
 * arrival time {@code tat}, the instant at which the bucket would be full again. A request at {@code now} is
 * admitted when {@code max(tat, now) + interval - now <= capacity}, and then moves {@code tat} there. A cell
 * whose {@code tat <= now} is a full bucket, exactly like a new one (value 0), which is why the sweeper may
 * drop it.
 *
 * <p>No timer, no refill thread, no lock: one compare-and-set per admission, retried only when another event
 * loop admitted a request of the same key in between (then the decision is taken again on the new value, so
 * no token is lost or counted twice). Times are nanoseconds on the limiter's clock, which starts above 0.
 */
final class Gcra {
    /** What {@link #acquire} returns for a retired cell: look the key up again. */
    static final long RETIRED = Long.MIN_VALUE;

    private Gcra() {
    }

    /**
     * Takes one token.
     *
     * @param interval nanoseconds per token (the sustained rate)
     * @param capacity {@code burst * interval}: how far ahead of {@code now} {@code tat} may run
     * @return when admitted, the requests still admissible at once (0 or more); when refused, minus the
     *         nanoseconds until one would be admitted (at most {@code -1}); {@link #RETIRED} for a retired cell
     */
    static long acquire(Cell cell, long now, long interval, long capacity) {
        for (;;) {
            long tat = cell.get();
            if (tat == Cell.RETIRED) {
                return RETIRED;
            }
            long next = Math.max(tat, now) + interval;
            long ahead = next - now;
            if (ahead > capacity) {
                return -(ahead - capacity);
            }
            if (cell.compareAndSet(tat, next)) {
                return (capacity - ahead) / interval;
            }
        }
    }

    /**
     * Gives back a token taken by {@link #acquire} for a request that another rule then refused. Never makes
     * the bucket fuller than full.
     */
    static void refund(Cell cell, long now, long interval) {
        for (;;) {
            long tat = cell.get();
            if (tat == Cell.RETIRED || tat <= now) {
                return;
            }
            if (cell.compareAndSet(tat, Math.max(tat - interval, now))) {
                return;
            }
        }
    }

    /** Whether the sweeper may retire a cell holding {@code tat}: the bucket is full. */
    static boolean idle(long tat, long now) {
        return tat <= now;
    }
}
