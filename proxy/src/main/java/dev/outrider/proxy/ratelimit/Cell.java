package dev.outrider.proxy.ratelimit;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One word of limiter state: a rate bucket's theoretical arrival time ({@link Gcra}) or a concurrency
 * counter ({@link InFlight}). Every change is a compare-and-set on this one word, so an update from one event
 * loop is never lost to or doubled by another, and there is no lock.
 *
 * <p>Retirement: the sweeper may retire a cell only when dropping it loses nothing (a bucket that has fully
 * refilled, a counter at zero), by setting {@link #RETIRED} with a compare-and-set against the value it saw
 * idle. A caller that finds a cell retired looks its key up again and gets a fresh cell, which is
 * equivalent to the one retired. A cell that is not in a table (a workload-wide rule's, an override's, a
 * table's overflow cell) is never retired.
 */
final class Cell {
    /** The value of a retired cell. */
    static final long RETIRED = Long.MIN_VALUE;

    private static final VarHandle VALUE;

    static {
        try {
            VALUE = MethodHandles.lookup().findVarHandle(Cell.class, "value", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @SuppressWarnings("unused") // accessed through VALUE
    private volatile long value;

    long get() {
        return value;
    }

    boolean compareAndSet(long expected, long update) {
        return VALUE.compareAndSet(this, expected, update);
    }

    long getAndAdd(long delta) {
        return (long) VALUE.getAndAdd(this, delta);
    }
}
