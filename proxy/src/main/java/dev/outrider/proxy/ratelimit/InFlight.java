package dev.outrider.proxy.ratelimit;

/**
 * A concurrency limit kept in a {@link Cell}: the number of requests of one key in flight. Entering is a
 * compare-and-set that refuses at the limit; leaving is an atomic decrement on the cell entered (a request
 * holds its cell, so a reload or the sweeper never makes it leave another one). A cell at zero is idle.
 */
final class InFlight {
    static final int ENTERED = 0;
    static final int FULL = 1;
    static final int RETIRED = 2;

    private InFlight() {
    }

    static int enter(Cell cell, long max) {
        for (;;) {
            long n = cell.get();
            if (n == Cell.RETIRED) {
                return RETIRED;
            }
            if (n >= max) {
                return FULL;
            }
            if (cell.compareAndSet(n, n + 1)) {
                return ENTERED;
            }
        }
    }

    static void leave(Cell cell) {
        cell.getAndAdd(-1);
    }

    static boolean idle(long n) {
        return n == 0;
    }
}
