package dev.outrider.proxy.accesslog;

import dev.outrider.proxy.config.SecurityEventsConfig;
import dev.outrider.proxy.ratelimit.TokenBucket;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

import static java.util.Objects.requireNonNull;

/**
 * The security event stream: refusals as JSON lines for a SIEM, rate-limited so that a flood of refusals cannot
 * fill a disk or starve the event loops.
 * <pre>
 *  event loops ──admit()──▶ token bucket ──emit()──▶ JsonLines (bounded queue, writer thread) ──▶ stdout | stderr | file
 *                            │ empty: drop          │ full: drop
 *                            ▼                      ▼
 *        outrider_security_events_dropped_total{reason} + droppedSinceSummary
 *                                                   ▲ the writer, every summaryInterval: one
 *                                                     {"event":"security_events_dropped","dropped":N} line if N > 0
 * </pre>
 * At most {@code burst} events at once and {@code ratePerSecond} on average are written, plus one summary line
 * per interval. {@link #admit} takes a token with one compare-and-set ({@link TokenBucket}), {@link #emit} offers
 * to the queue: neither locks nor waits, and an event over the limit is never built.
 */
public final class AsyncSecurityEvents implements SecurityEvents {
    private final TokenBucket bucket;
    private final Counter droppedByRate;
    private final Counter droppedByQueue;
    private final Counter droppedByWrite;
    /** Events dropped since the last summary line; added to on event loops, taken by the writer thread. */
    private final AtomicLong droppedSinceSummary = new AtomicLong();
    private final long summaryMillis;
    private final JsonLines<SecurityEventJson.Line> lines;

    private AsyncSecurityEvents(SecurityEventsConfig cfg, JsonLines.Output out, MeterRegistry registry,
                                LongSupplier nanoClock) {
        this.bucket = new TokenBucket(cfg.ratePerSecond(), cfg.burst(), nanoClock);
        this.droppedByRate = dropped(registry, "rate_limit");
        this.droppedByQueue = dropped(registry, "queue_full");
        this.droppedByWrite = dropped(registry, "write_failed");
        this.summaryMillis = cfg.summaryInterval().toMillis();
        this.lines = JsonLines.start("security-events", out, queueSize(cfg), new SecurityEventJson(),
                n -> {
                    droppedByWrite.increment(n);
                    droppedSinceSummary.addAndGet(n);
                },
                this::summary, TimeUnit.MILLISECONDS.toNanos(summaryMillis));
    }

    private static Counter dropped(MeterRegistry registry, String reason) {
        return Counter.builder("outrider_security_events_dropped")
                .description("Security events not written: over the stream's rate limit, queue full, or write failed "
                        + "(or still queued when the sidecar stopped)")
                .tag("reason", reason).register(registry);
    }

    /** Room for a full burst, and never less than 1,024 lines. */
    private static int queueSize(SecurityEventsConfig cfg) {
        return Math.max(1_024, cfg.burst());
    }

    /**
     * Opens the output ({@code stdout}, {@code stderr}, or a file appended to) and starts the writer thread.
     * Whether the stream is enabled at all is the caller's decision ({@link SecurityEvents#disabled()}).
     *
     * @throws UncheckedIOException when the file cannot be opened (the message names {@code securityEvents.path})
     */
    public static AsyncSecurityEvents start(SecurityEventsConfig cfg, MeterRegistry registry) {
        requireNonNull(cfg, "cfg");
        requireNonNull(registry, "registry");
        return new AsyncSecurityEvents(cfg, JsonLines.Output.open("securityEvents.path", cfg.path()), registry,
                System::nanoTime);
    }

    /** A stream writing to {@code out} (not closed), on {@code nanoClock}'s time. */
    static AsyncSecurityEvents start(SecurityEventsConfig cfg, OutputStream out, MeterRegistry registry,
                                     LongSupplier nanoClock) {
        return new AsyncSecurityEvents(cfg, new JsonLines.Output(out, false), registry, nanoClock);
    }

    @Override
    public boolean admit() {
        if (bucket.tryAcquire()) {
            return true;
        }
        droppedByRate.increment();
        droppedSinceSummary.incrementAndGet();
        return false;
    }

    @Override
    public void emit(SecurityEvent e) {
        if (!lines.offer(e)) {
            droppedByQueue.increment();
            droppedSinceSummary.incrementAndGet();
        }
    }

    /** The writer thread's tick: a summary line when events were dropped since the last one. */
    private SecurityEventJson.Line summary() {
        long n = droppedSinceSummary.getAndSet(0);
        return n == 0 ? null : new SecurityEventJson.DroppedSummary(System.currentTimeMillis(), n, summaryMillis);
    }

    /** Writes what is queued (and the last summary), flushes and stops the writer. */
    @Override
    public void close() {
        lines.close();
    }
}
