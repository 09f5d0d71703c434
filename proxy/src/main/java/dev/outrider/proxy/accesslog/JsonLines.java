package dev.outrider.proxy.accesslog;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamWriteFeature;
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
import java.util.function.LongConsumer;
import java.util.function.Supplier;

import static java.util.Objects.requireNonNull;

/**
 * The one asynchronous JSON-lines writer, shared by the access log ({@link AsyncAccessLog}) and the security
 * event stream ({@link AsyncSecurityEvents}): event loops hand items over, one writer thread formats and writes.
 * <pre>
 *  event loops ──offer()──▶ [bounded queue] ──poll()──▶ writer thread ──▶ JSON lines ──▶ stdout | stderr | file
 *                  │ full or closed: false (the caller drops and counts)      │ every tick: tick.get(), if any
 * </pre>
 * {@link #offer} never waits for the writer or the disk. The writer flushes when the queue runs empty, so lines
 * are buffered under load and visible promptly when idle. A line that fails to write is reported to
 * {@code dropped}, as are lines still queued when {@link #close} gives up.
 *
 * @param <T> the item one line is written from
 */
final class JsonLines<T> {
    private static final Logger log = LoggerFactory.getLogger(JsonLines.class);
    private static final long CLOSE_WAIT_MILLIS = 5_000;
    /** Tells the writer to finish: everything queued before it has been written. */
    private static final Object END = new Object();

    /** Writes one item as one JSON object (the writer adds the newline). Called on the writer thread only. */
    @FunctionalInterface
    interface Format<T> {
        void write(T item, JsonGenerator g) throws IOException;
    }

    /** Where lines go: standard output ({@code -} or {@code stdout}), standard error, or a file appended to. */
    record Output(OutputStream stream, boolean closeWhenDone) {
        /**
         * @param field the configuration field named when the file cannot be opened
         * @throws UncheckedIOException when the file cannot be opened (the message names field and file)
         */
        static Output open(String field, String path) {
            requireNonNull(path, "path");
            return switch (path) {
                case "-", "stdout" -> new Output(System.out, false);
                case "stderr" -> new Output(System.err, false);
                default -> {
                    try {
                        // FileOutputStream, not Files.newOutputStream: its channel would close on an interrupt.
                        yield new Output(new FileOutputStream(path, true), true);
                    } catch (IOException e) {
                        throw new UncheckedIOException(field + ": cannot open '" + path + "' for appending", e);
                    }
                }
            };
        }
    }

    private final String name;
    private final BlockingQueue<Object> queue;
    private final OutputStream out;
    private final boolean closeOut;
    private final Format<T> format;
    private final LongConsumer dropped;
    private final Supplier<T> tick;
    private final long tickNanos;
    private final JsonFactory factory = JsonFactory.builder()
            .disable(StreamWriteFeature.AUTO_CLOSE_TARGET)
            .disable(StreamWriteFeature.FLUSH_PASSED_TO_STREAM)
            .enable(StreamWriteFeature.WRITE_BIGDECIMAL_AS_PLAIN)
            .build();
    private final Thread writer;
    /** Set once by close() (called from one thread); volatile because offer() reads it on any event loop. */
    private volatile boolean closed;

    private JsonLines(String name, Output output, int queueSize, Format<T> format, LongConsumer dropped,
                      Supplier<T> tick, long tickNanos) {
        this.name = name;
        this.out = new BufferedOutputStream(output.stream(), 64 * 1024);
        this.closeOut = output.closeWhenDone();
        this.queue = new ArrayBlockingQueue<>(queueSize);
        this.format = format;
        this.dropped = dropped;
        this.tick = tick;
        this.tickNanos = tickNanos;
        this.writer = Thread.ofPlatform().name("outrider-" + name).daemon(true).unstarted(this::drain);
    }

    /**
     * Starts the writer thread {@code outrider-<name>}.
     *
     * @param dropped   told of lines that failed to write or were still queued at close
     * @param tick      asked every {@code tickNanos}, and once more when the writer stops, on the writer thread
     *                  for a line to write (it returns null for none); or null for no tick
     * @throws IllegalArgumentException when {@code queueSize} is not positive
     */
    static <T> JsonLines<T> start(String name, Output output, int queueSize, Format<T> format, LongConsumer dropped,
                                  Supplier<T> tick, long tickNanos) {
        requireNonNull(name, "name");
        requireNonNull(output, "output");
        requireNonNull(format, "format");
        requireNonNull(dropped, "dropped");
        if (queueSize <= 0) {
            throw new IllegalArgumentException(name + ": queue size must be positive, got " + queueSize);
        }
        if (tick != null && tickNanos <= 0) {
            throw new IllegalArgumentException(name + ": tick interval must be positive, got " + tickNanos);
        }
        JsonLines<T> lines = new JsonLines<>(name, output, queueSize, format, dropped, tick, tickNanos);
        lines.writer.start();
        return lines;
    }

    /** Queues {@code item}; false when the queue is full or the writer closed (nothing waits). */
    boolean offer(T item) {
        return !closed && queue.offer(item);
    }

    /** The writer thread's loop. Only this thread touches {@link #out} and {@link #factory}'s generators. */
    @SuppressWarnings("unchecked")
    private void drain() {
        long nextTick = tick == null ? Long.MAX_VALUE : System.nanoTime() + tickNanos;
        try {
            for (;;) {
                Object item = tick == null ? queue.take()
                        : queue.poll(Math.max(0, nextTick - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (item == END) {
                    break;
                }
                if (item != null) {
                    write((T) item);
                }
                if (tick != null && System.nanoTime() - nextTick >= 0) {
                    nextTick = System.nanoTime() + tickNanos;
                    T line = tick.get();
                    if (line != null) {
                        write(line);
                    }
                }
                if (queue.isEmpty()) {
                    flush();
                }
            }
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        } finally {
            if (tick != null) {
                T line = tick.get(); // the last interval's line, if it has one
                if (line != null) {
                    write(line);
                }
            }
            try {
                out.flush();
                if (closeOut) {
                    out.close();
                }
            } catch (IOException ex) {
                log.warn("{} flush failed: {}", name, ex.toString());
            }
        }
    }

    /** A fresh generator per line keeps a failed write from leaving a half-open object for the next line. */
    private void write(T item) {
        try (JsonGenerator g = factory.createGenerator(out)) {
            format.write(item, g);
            g.writeRaw('\n');
        } catch (IOException | RuntimeException ex) {
            dropped.accept(1);
            log.warn("{} write failed: {}", name, ex.toString());
        }
    }

    private void flush() {
        try {
            out.flush();
        } catch (IOException ex) {
            log.warn("{} flush failed: {}", name, ex.toString());
        }
    }

    /**
     * Stops accepting items, lets the writer write what is queued, flushes and stops it. Waits at most a few
     * seconds; what is still queued after that is reported as dropped.
     */
    void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (!queue.offer(END, CLOSE_WAIT_MILLIS, TimeUnit.MILLISECONDS)) {
                log.warn("{} writer is stuck; {} lines not written", name, queue.size());
                writer.interrupt();
            }
            writer.join(CLOSE_WAIT_MILLIS);
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        }
        // Items that raced past the closed check after END was queued.
        int left = queue.size();
        queue.clear();
        if (left > 0) {
            dropped.accept(left);
        }
    }
}
