package dev.outrider.proxy.accesslog;

import dev.outrider.proxy.config.AccessLogConfig;
import dev.outrider.proxy.metrics.Direction;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * The JSON access log: event loops hand entries over, one writer thread formats and writes them.
 * <pre>
 *  event loops ──log()──▶ [bounded queue] ──take()──▶ writer thread ──▶ JSON lines ──▶ stdout | file
 *                  │ full: drop, count outrider_access_log_dropped_total
 * </pre>
 * {@link #log} only offers to the queue: it never waits for the writer or the disk. The writer flushes when
 * the queue runs empty, so lines are buffered under load and visible promptly when idle.
 *
 * <p>Invariant: a line never holds a query string, Authorization, cookies or tokens: {@link AccessLogEntry}
 * has no header fields and the path is written normalized, without its query ({@link AccessLogJson}).
 */
public final class AsyncAccessLog implements AccessLog {
    private static final Logger log = LoggerFactory.getLogger(AsyncAccessLog.class);
    private static final long CLOSE_WAIT_MILLIS = 5_000;
    /** Tells the writer to finish: everything queued before it has been written. */
    private static final AccessLogEntry END = new AccessLogEntry(0, Direction.INBOUND, null, null, null,
            0, 0, 0, 0, null, null, null);

    private final BlockingQueue<AccessLogEntry> queue;
    private final Counter dropped;
    private final OutputStream out;
    private final boolean closeOut;
    private final AccessLogJson json = new AccessLogJson();
    private final Thread writer;
    /** Set once by close() (called from one thread); volatile because log() reads it on any event loop. */
    private volatile boolean closed;

    private AsyncAccessLog(OutputStream out, boolean closeOut, int queueSize, MeterRegistry registry) {
        this.out = out;
        this.closeOut = closeOut;
        this.queue = new ArrayBlockingQueue<>(queueSize);
        this.dropped = Counter.builder("outrider.access.log.dropped")
                .description("Access log lines dropped because the writer could not keep up (or failed)")
                .register(registry);
        this.writer = Thread.ofPlatform().name("outrider-access-log").daemon(true).unstarted(this::drain);
    }

    /**
     * Opens the output ({@code -} is standard output, anything else a file appended to) and starts the
     * writer thread. Whether the log is enabled at all is the caller's decision ({@link AccessLog#disabled()}).
     *
     * @throws IllegalArgumentException when {@code queueSize} is not positive
     * @throws UncheckedIOException     when the file cannot be opened (the message names it)
     */
    public static AsyncAccessLog start(AccessLogConfig cfg, MeterRegistry registry) {
        requireNonNull(cfg, "cfg");
        requireNonNull(registry, "registry");
        if (cfg.path().equals("-")) {
            return start(System.out, false, cfg.queueSize(), registry);
        }
        OutputStream file;
        try {
            // FileOutputStream, not Files.newOutputStream: its channel would close if the thread were interrupted.
            file = new FileOutputStream(cfg.path(), true);
        } catch (IOException e) {
            throw new UncheckedIOException("accessLog.path: cannot open '" + cfg.path() + "' for appending", e);
        }
        return start(file, true, cfg.queueSize(), registry);
    }

    /** Starts a log writing to {@code out}; closes it on {@link #close()} when {@code closeOut}. */
    static AsyncAccessLog start(OutputStream out, boolean closeOut, int queueSize, MeterRegistry registry) {
        if (queueSize <= 0) {
            throw new IllegalArgumentException("accessLog.queueSize must be positive, got " + queueSize);
        }
        AsyncAccessLog accessLog = new AsyncAccessLog(new BufferedOutputStream(out, 64 * 1024), closeOut,
                queueSize, registry);
        accessLog.writer.start();
        return accessLog;
    }

    @Override
    public void log(AccessLogEntry e) {
        if (closed || !queue.offer(e)) {
            dropped.increment();
        }
    }

    /** The writer thread's loop. Only this thread touches {@link #out} and {@link #json}. */
    private void drain() {
        try {
            for (AccessLogEntry e = queue.take(); e != END; e = queue.take()) {
                try {
                    json.write(e, out);
                    if (queue.isEmpty()) {
                        out.flush();
                    }
                } catch (IOException | RuntimeException ex) {
                    dropped.increment();
                    log.warn("access log write failed: {}", ex.toString());
                }
            }
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        } finally {
            try {
                out.flush();
                if (closeOut) {
                    out.close();
                }
            } catch (IOException ex) {
                log.warn("access log flush failed: {}", ex.toString());
            }
        }
    }

    /**
     * Stops accepting entries, lets the writer write what is queued, flushes and stops it. Waits at most a
     * few seconds; what is still queued after that is counted as dropped.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (!queue.offer(END, CLOSE_WAIT_MILLIS, TimeUnit.MILLISECONDS)) {
                log.warn("access log writer is stuck; {} lines not written", queue.size());
                writer.interrupt();
            }
            writer.join(CLOSE_WAIT_MILLIS);
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        }
        // Entries that raced past the closed check after END was queued.
        int left = queue.size();
        queue.clear();
        if (left > 0) {
            dropped.increment(left);
        }
    }
}
