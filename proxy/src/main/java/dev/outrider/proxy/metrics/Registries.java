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

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Creates the sidecar's meter registry. One per sidecar, owned by whoever starts it (no global registry):
 * closing it also unhooks the GC notification listener the JVM binder installs.
 */
public final class Registries {
    private Registries() {
    }

    /**
     * A Prometheus registry with the memory Netty's buffer pool holds ({@code netty_allocator_memory_used_bytes},
     * heap and direct). On JDK 25 Netty takes its direct memory from malloc through the FFM linker, outside
     * {@code jvm_buffer_memory_used_bytes} and Native Memory Tracking, so this gauge is the only place it shows.
     * The JVM's own meters come with {@link #bindJvm}, once the sidecar is ready.
     */
    public static PrometheusMeterRegistry prometheus() {
        PrometheusMeterRegistry registry = new ClosingRegistry();
        if (ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider pool) {
            bufferPool(registry, pool.metric());
        }
        return registry;
    }

    /**
     * Binds JVM memory, GC, thread, processor and uptime meters ({@code jvm_*}, {@code process_*},
     * {@code system_*}) to a registry from {@link #prometheus()}. The sidecar calls it after its listeners are
     * up and {@code /ready} answers: Micrometer's binders load ~150 classes and register a GC notification
     * listener, ~0.15 s of a start that nothing before readiness needs. Closing the registry unhooks the listener.
     */
    public static void bindJvm(PrometheusMeterRegistry registry) {
        if (!(registry instanceof ClosingRegistry closing)) {
            throw new IllegalArgumentException("not a registry from Registries.prometheus()");
        }
        JvmGcMetrics gc = new JvmGcMetrics();
        closing.closeWith(gc);
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
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
        /** Binders to close; added by the thread that binds them, closed by the one that closes the registry. */
        private final Queue<AutoCloseable> binders = new ConcurrentLinkedQueue<>();

        ClosingRegistry() {
            super(PrometheusConfig.DEFAULT);
        }

        void closeWith(AutoCloseable binder) {
            binders.add(binder);
        }

        @Override
        public void close() {
            for (AutoCloseable binder; (binder = binders.poll()) != null; ) {
                try {
                    binder.close();
                } catch (Exception ignored) {
                    // JvmGcMetrics.close only removes listeners; nothing to report.
                }
            }
            super.close();
        }
    }
}
