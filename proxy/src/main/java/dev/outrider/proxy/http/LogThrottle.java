package dev.outrider.proxy.http;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * At most one log line per interval for an event a peer can cause at will (a malformed frame, a reset), so
 * a flood of them cannot flood the log; the events not logged are counted and reported with the next line.
 *
 * <p>Threading: shared by the connections of one listener, on every event loop at once; lock-free. Which of
 * two racing events gets the line is arbitrary; every event is either logged or counted as suppressed.
 */
final class LogThrottle {
    private final long intervalNanos;
    private final LongSupplier nanoClock;
    /** The clock value from which the next line may be logged. */
    private final AtomicLong nextLine;
    private final AtomicLong suppressed = new AtomicLong();

    LogThrottle(long intervalNanos, LongSupplier nanoClock) {
        if (intervalNanos <= 0) {
            throw new IllegalArgumentException("intervalNanos must be positive, got " + intervalNanos);
        }
        this.intervalNanos = intervalNanos;
        this.nanoClock = nanoClock;
        this.nextLine = new AtomicLong(nanoClock.getAsLong());
    }

    /**
     * Call once per event. Returns -1 when this event must not be logged (it is counted as suppressed);
     * otherwise the number of events suppressed since the last line, for the line about to be logged.
     */
    long tryLog() {
        long now = nanoClock.getAsLong();
        long next = nextLine.get();
        if (now - next < 0 || !nextLine.compareAndSet(next, now + intervalNanos)) {
            suppressed.incrementAndGet();
            return -1;
        }
        return suppressed.getAndSet(0);
    }
}
