package dev.outrider.proxy.metrics;

import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * Creates the sidecar's meter registry. One per sidecar, owned by whoever starts it (no global registry):
 * closing it also unhooks the GC notification listener the JVM binder installs.
 */
public final class Registries {
    private Registries() {
    }

    /** A Prometheus registry with JVM memory, GC, thread, processor and uptime meters bound. */
    public static PrometheusMeterRegistry prometheus() {
        JvmGcMetrics gc = new JvmGcMetrics();
        PrometheusMeterRegistry registry = new ClosingRegistry(gc);
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        return registry;
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
