package dev.outrider.proxy.accesslog;

import dev.outrider.proxy.config.AccessLogConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

import java.io.OutputStream;
import java.io.UncheckedIOException;

import static java.util.Objects.requireNonNull;

/**
 * The JSON access log: event loops hand entries over, the writer thread of {@link JsonLines} formats and
 * writes them.
 * <pre>
 *  event loops ──log()──▶ JsonLines (bounded queue, writer thread) ──▶ JSON lines ──▶ stdout | file
 *                  │ full: drop, count outrider_access_log_dropped_total
 * </pre>
 * {@link #log} only offers to the queue: it never waits for the writer or the disk.
 *
 * <p>Invariant: a line never holds a query string, Authorization, cookies or tokens: {@link AccessLogEntry}
 * has no header fields and the path is written normalized, without its query ({@link AccessLogJson}).
 */
public final class AsyncAccessLog implements AccessLog {
    private final Counter dropped;
    private final JsonLines<AccessLogEntry> lines;

    private AsyncAccessLog(JsonLines.Output out, int queueSize, MeterRegistry registry) {
        if (queueSize <= 0) {
            throw new IllegalArgumentException("accessLog.queueSize must be positive, got " + queueSize);
        }
        this.dropped = Counter.builder("outrider.access.log.dropped")
                .description("Access log lines dropped because the writer could not keep up (or failed)")
                .register(registry);
        this.lines = JsonLines.start("access-log", out, queueSize, new AccessLogJson(), dropped::increment,
                null, 0);
    }

    /**
     * Opens the output ({@code -} or {@code stdout} is standard output, {@code stderr} standard error, anything
     * else a file appended to) and starts the writer thread. Whether the log is enabled at all is the caller's
     * decision ({@link AccessLog#disabled()}).
     *
     * @throws IllegalArgumentException when {@code queueSize} is not positive
     * @throws UncheckedIOException     when the file cannot be opened (the message names it)
     */
    public static AsyncAccessLog start(AccessLogConfig cfg, MeterRegistry registry) {
        requireNonNull(cfg, "cfg");
        requireNonNull(registry, "registry");
        if (cfg.queueSize() <= 0) {
            throw new IllegalArgumentException("accessLog.queueSize must be positive, got " + cfg.queueSize());
        }
        return new AsyncAccessLog(JsonLines.Output.open("accessLog.path", cfg.path()), cfg.queueSize(), registry);
    }

    /** Starts a log writing to {@code out}; closes it on {@link #close()} when {@code closeOut}. */
    static AsyncAccessLog start(OutputStream out, boolean closeOut, int queueSize, MeterRegistry registry) {
        return new AsyncAccessLog(new JsonLines.Output(out, closeOut), queueSize, registry);
    }

    @Override
    public void log(AccessLogEntry e) {
        if (!lines.offer(e)) {
            dropped.increment();
        }
    }

    /**
     * Stops accepting entries, lets the writer write what is queued, flushes and stops it. Waits at most a
     * few seconds; what is still queued after that is counted as dropped.
     */
    @Override
    public void close() {
        lines.close();
    }
}
