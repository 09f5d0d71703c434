package dev.outrider.proxy.tracing;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.ReadWriteSpan;
import io.opentelemetry.sdk.trace.ReadableSpan;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Hands sampled spans to the exporter in batches on its own thread ({@code outrider-trace-export}), never on the
 * event loop that ends them: a span ended is offered to a bounded queue; a full queue drops it and counts it in
 * {@code outrider_tracing_spans_dropped_total} (the OpenTelemetry SDK's batch processor works the same way but
 * counts into OpenTelemetry's own metrics, which the sidecar does not run). Exported and failed spans are counted
 * too ({@code outrider_tracing_spans_exported_total}, {@code outrider_tracing_spans_failed_total}).
 */
final class BoundedExport implements SpanProcessor {
    private static final Logger log = LoggerFactory.getLogger(BoundedExport.class);
    static final int BATCH = 512;
    private static final long SCHEDULE_MILLIS = 1_000;

    private final SpanExporter exporter;
    private final ArrayBlockingQueue<SpanData> queue;
    private final Counter dropped;
    private final Counter exported;
    private final Counter failed;
    private final Thread thread;
    private volatile boolean stopping;

    BoundedExport(SpanExporter exporter, int queueSize, MeterRegistry registry) {
        this.exporter = exporter;
        this.queue = new ArrayBlockingQueue<>(queueSize);
        this.dropped = Counter.builder("outrider.tracing.spans.dropped")
                .description("Finished spans dropped because the export queue was full").register(registry);
        this.exported = Counter.builder("outrider.tracing.spans.exported")
                .description("Spans the OTLP endpoint accepted").register(registry);
        this.failed = Counter.builder("outrider.tracing.spans.failed")
                .description("Spans whose export failed (the endpoint refused or did not answer)").register(registry);
        this.thread = new Thread(this::run, "outrider-trace-export");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    @Override
    public void onStart(Context parentContext, ReadWriteSpan span) {
    }

    @Override
    public boolean isStartRequired() {
        return false;
    }

    /** The event loop that ended the span: never waits. */
    @Override
    public void onEnd(ReadableSpan span) {
        if (!span.getSpanContext().isSampled()) {
            return;
        }
        if (stopping || !queue.offer(span.toSpanData())) {
            dropped.increment();
        }
    }

    @Override
    public boolean isEndRequired() {
        return true;
    }

    /**
     * Exports a batch when it is full ({@value #BATCH} spans) or {@value #SCHEDULE_MILLIS} ms after its first span
     * came, whichever is first: one request per second at a steady trickle, not one per span.
     */
    private void run() {
        List<SpanData> batch = new ArrayList<>(BATCH);
        while (true) {
            try {
                SpanData first = queue.poll(SCHEDULE_MILLIS, TimeUnit.MILLISECONDS);
                if (first == null) {
                    if (stopping) {
                        return;
                    }
                    continue;
                }
                batch.add(first);
                long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(SCHEDULE_MILLIS);
                while (batch.size() < BATCH && !stopping) {
                    queue.drainTo(batch, BATCH - batch.size());
                    long left = deadline - System.nanoTime();
                    if (batch.size() >= BATCH || left <= 0) {
                        break;
                    }
                    SpanData next = queue.poll(left, TimeUnit.NANOSECONDS);
                    if (next == null) {
                        break;
                    }
                    batch.add(next);
                }
                queue.drainTo(batch, BATCH - batch.size());
                export(batch);
            } catch (InterruptedException e) {
                queue.drainTo(batch);
                export(batch);
                return;
            }
        }
    }

    private void export(List<SpanData> batch) {
        if (batch.isEmpty()) {
            return;
        }
        try {
            CompletableResultCode result = exporter.export(List.copyOf(batch)).join(15, TimeUnit.SECONDS);
            if (result.isSuccess()) {
                exported.increment(batch.size());
            } else {
                failed.increment(batch.size());
                log.warn("tracing: exporting {} spans failed", batch.size());
            }
        } catch (RuntimeException e) {
            failed.increment(batch.size());
            log.warn("tracing: exporting {} spans failed: {}", batch.size(), e.toString());
        }
        batch.clear();
    }

    @Override
    public CompletableResultCode shutdown() {
        stopping = true;
        try {
            thread.join(TimeUnit.SECONDS.toMillis(20)); // exports what is queued, then ends
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return exporter.shutdown();
    }

    @Override
    public CompletableResultCode forceFlush() {
        return CompletableResultCode.ofSuccess();
    }
}
