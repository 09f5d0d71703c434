package dev.outrider.proxy.tracing;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import org.junit.jupiter.api.Test;

import java.util.Collection;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class BoundedExportTest {
    /** An exporter that keeps the size of every batch it is given; {@code gate} holds the first export back. */
    private static final class Batches implements SpanExporter {
        final List<Integer> sizes = new CopyOnWriteArrayList<>();
        final CountDownLatch gate;

        Batches(CountDownLatch gate) {
            this.gate = gate;
        }

        @Override
        public CompletableResultCode export(Collection<SpanData> spans) {
            try {
                gate.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            sizes.add(spans.size());
            return CompletableResultCode.ofSuccess();
        }

        @Override
        public CompletableResultCode flush() {
            return CompletableResultCode.ofSuccess();
        }

        @Override
        public CompletableResultCode shutdown() {
            return CompletableResultCode.ofSuccess();
        }
    }

    @Test
    void aTrickleOfSpansIsExportedInBatchesNotOneRequestPerSpan() throws Exception {
        Batches exporter = new Batches(new CountDownLatch(0));
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        SdkTracerProvider provider = SdkTracerProvider.builder().setSampler(Sampler.alwaysOn())
                .addSpanProcessor(new BoundedExport(exporter, 1000, registry)).build();
        Tracer tracer = provider.get("test");
        for (int i = 0; i < 200; i++) { // 200 spans over ~0.4 s
            tracer.spanBuilder("GET").startSpan().end();
            Thread.sleep(2);
        }
        provider.shutdown().join(30, TimeUnit.SECONDS);
        assertThat(exporter.sizes.stream().mapToInt(Integer::intValue).sum()).isEqualTo(200);
        assertThat(exporter.sizes).as("batches %s", exporter.sizes).hasSizeLessThanOrEqualTo(2);
        assertThat(registry.get("outrider.tracing.spans.exported").counter().count()).isEqualTo(200);
    }

    @Test
    void aFullQueueDropsAndCountsWithoutWaiting() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        Batches exporter = new Batches(gate); // the export thread is stuck: the queue fills
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        SdkTracerProvider provider = SdkTracerProvider.builder().setSampler(Sampler.alwaysOn())
                .addSpanProcessor(new BoundedExport(exporter, 10, registry)).build();
        Tracer tracer = provider.get("test");
        tracer.spanBuilder("first").startSpan().end();
        Thread.sleep(1_200); // its batch is being exported (held at the gate)
        long start = System.nanoTime();
        for (int i = 0; i < 50; i++) {
            tracer.spanBuilder("GET").startSpan().end();
        }
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).as("ending never waits").isLessThan(500);
        assertThat(registry.get("outrider.tracing.spans.dropped").counter().count()).isEqualTo(40);
        gate.countDown();
        provider.shutdown().join(30, TimeUnit.SECONDS);
        assertThat(exporter.sizes.stream().mapToInt(Integer::intValue).sum()).isEqualTo(11);
    }
}
