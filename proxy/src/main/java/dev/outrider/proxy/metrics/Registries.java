package dev.outrider.proxy.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetric;
import io.netty.buffer.ByteBufAllocatorMetricProvider;

/**
 * Creates the sidecar's meter registry. One per sidecar, owned by whoever starts it (no global registry):
 * closing it also unhooks the GC notification listener the JVM binder installs.
 */
public final class Registries {
    private Registries() {
    }

    /**
     * A Prometheus registry with JVM memory, GC, thread, processor and uptime meters bound, and the memory
     * Netty's buffer pool holds ({@code netty_allocator_memory_used_bytes}, heap and direct). On JDK 25 Netty
     * takes its direct memory from malloc through the FFM linker, outside {@code jvm_buffer_memory_used_bytes}
     * and Native Memory Tracking, so this gauge is the only place it shows.
     */
    public static PrometheusMeterRegistry prometheus() {
        JvmGcMetrics gc = new JvmGcMetrics();
        PrometheusMeterRegistry registry = new ClosingRegistry(gc);
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        if (ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider pool) {
            bufferPool(registry, pool.metric());
        }
        return registry;
    }

    /**
     * {@code netty_allocator_memory_used_bytes{memory_type="direct"|"heap"}}: the chunks the buffer pool holds,
     * in use or cached for reuse. (Micrometer's NettyAllocatorMetrics names the same gauge without its unit
     * and tags it with the allocator's identity hash, which changes on every start.)
     */
    private static void bufferPool(MeterRegistry registry, ByteBufAllocatorMetric metric) {
        Gauge.builder("netty.allocator.memory.used", metric, ByteBufAllocatorMetric::usedDirectMemory)
                .baseUnit("bytes").tag("memory.type", "direct")
                .description("Bytes of chunks Netty's buffer pool holds, in use or cached")
                .register(registry);
        Gauge.builder("netty.allocator.memory.used", metric, ByteBufAllocatorMetric::usedHeapMemory)
                .baseUnit("bytes").tag("memory.type", "heap")
                .description("Bytes of chunks Netty's buffer pool holds, in use or cached")
                .register(registry);
    }

    /** Closes the binders that hold JVM listeners when the registry is closed. */
    private static final class ClosingRegistry extends PrometheusMeterRegistry {
        private final AutoCloseable binder;

        ClosingRegistry(AutoCloseable binder) {
            super(PrometheusConfig.DEFAULT);
            this.binder = binder;
        }

        @Override
        public void close() {
            try {
                binder.close();
            } catch (Exception ignored) {
                // JvmGcMetrics.close only removes listeners; nothing to report.
            }
            super.close();
        }
    }
}
