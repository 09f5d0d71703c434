package dev.outrider.proxy.tracing;

import dev.outrider.proxy.config.TracingConfig;
import dev.outrider.proxy.metrics.Direction;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.handler.codec.http.HttpHeaders;

/**
 * One span per request and hop (docs/observability.md "Tracing"). This interface and {@link #OFF} are all the data
 * plane sees: with tracing off no OpenTelemetry class is loaded ({@link OtelTracing} is the only one that names
 * them, and it is loaded only by {@link #start} when tracing is on).
 */
public interface Tracing extends AutoCloseable {
    /** Tracing off: no span, headers untouched. */
    Tracing OFF = new Tracing() {
        @Override
        public HopSpan start(Direction direction, HttpHeaders headers, String method, String path,
                             long startEpochNanos) {
            return null;
        }

        @Override
        public void close() {
        }
    };

    /** {@link #OFF}, or the OpenTelemetry SDK exporting over OTLP as {@code config} says. */
    static Tracing start(TracingConfig config, String serviceName, MeterRegistry registry) {
        return config.enabled() ? OtelTracing.start(config, serviceName, registry) : OFF;
    }

    /**
     * Starts the span of a request on its event loop: continues the trace of {@code headers} (W3C
     * {@code traceparent}/{@code tracestate}, else B3 single or multi) or starts one, and writes the new span's context
     * into {@code headers} for the next hop (W3C, and B3 in the form the caller used).
     *
     * @param path the request target (its query is left out of the span)
     * @return the span to end, or null when tracing is off
     */
    HopSpan start(Direction direction, HttpHeaders headers, String method, String path, long startEpochNanos);

    /** Exports what is queued and stops. */
    @Override
    void close();
}
