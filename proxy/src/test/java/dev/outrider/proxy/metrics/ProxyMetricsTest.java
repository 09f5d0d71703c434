package dev.outrider.proxy.metrics;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.handler.codec.http2.Http2Error;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class ProxyMetricsTest {

    @Test
    void requestCompletedCountsByDirectionAndStatusClass() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        ProxyMetrics metrics = new ProxyMetrics(registry);

        metrics.requestCompleted(Direction.INBOUND, 200, 2_000_000, 10, 100);
        metrics.requestCompleted(Direction.INBOUND, 204, 1_000_000, 0, 0);
        metrics.requestCompleted(Direction.INBOUND, 503, 3_000_000, 5, 7);
        metrics.requestCompleted(Direction.OUTBOUND, 404, 1_000_000, 1, 2);

        assertThat(count(registry, "inbound", "2xx")).isEqualTo(2);
        assertThat(count(registry, "inbound", "5xx")).isEqualTo(1);
        assertThat(count(registry, "inbound", "4xx")).isZero();
        assertThat(count(registry, "outbound", "4xx")).isEqualTo(1);
        assertThat(count(registry, "outbound", "2xx")).isZero();

        var inTimer = registry.get("outrider.request.duration").tag("direction", "inbound").timer();
        assertThat(inTimer.count()).isEqualTo(3);
        assertThat(inTimer.totalTime(TimeUnit.MILLISECONDS)).isEqualTo(6.0);
        assertThat(registry.get("outrider.request.bytes").tag("direction", "inbound").counter().count())
                .isEqualTo(15);
        assertThat(registry.get("outrider.response.bytes").tag("direction", "inbound").counter().count())
                .isEqualTo(107);
        assertThat(registry.get("outrider.response.bytes").tag("direction", "outbound").counter().count())
                .isEqualTo(2);
    }

    @Test
    void statusOutsideTheValidRangeCountsAsServerError() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        ProxyMetrics metrics = new ProxyMetrics(registry);

        metrics.requestCompleted(Direction.OUTBOUND, 0, 1, 0, 0);
        metrics.requestCompleted(Direction.OUTBOUND, 999, 1, 0, 0);
        metrics.requestCompleted(Direction.OUTBOUND, 101, 1, 0, 0);

        assertThat(count(registry, "outbound", "5xx")).isEqualTo(2);
        assertThat(count(registry, "outbound", "1xx")).isEqualTo(1);
    }

    @Test
    void connectionsRetriesAndConnectFailures() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        ProxyMetrics metrics = new ProxyMetrics(registry);

        metrics.connectionOpened(Direction.INBOUND);
        metrics.connectionOpened(Direction.INBOUND);
        metrics.connectionOpened(Direction.OUTBOUND);
        metrics.connectionClosed(Direction.INBOUND);
        metrics.upstreamConnectFailure(Direction.OUTBOUND);
        metrics.upstreamRetry(Direction.OUTBOUND);
        metrics.upstreamRetry(Direction.OUTBOUND);

        assertThat(registry.get("outrider.active.connections").tag("direction", "inbound").gauge().value())
                .isEqualTo(1);
        assertThat(registry.get("outrider.active.connections").tag("direction", "outbound").gauge().value())
                .isEqualTo(1);
        assertThat(registry.get("outrider.upstream.connect.failures").tag("direction", "outbound")
                .counter().count()).isEqualTo(1);
        assertThat(registry.get("outrider.upstream.connect.failures").tag("direction", "inbound")
                .counter().count()).isZero();
        assertThat(registry.get("outrider.upstream.retries").tag("direction", "outbound").counter().count())
                .isEqualTo(2);
        assertThat(metrics.registry()).isSameAs(registry);
    }

    @Test
    void everySeriesIsInTheScrapeBeforeAnyRequest() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        new ProxyMetrics(registry);

        String scrape = registry.scrape();

        for (String direction : new String[] {"inbound", "outbound"}) {
            for (String statusClass : new String[] {"1xx", "2xx", "3xx", "4xx", "5xx"}) {
                assertThat(scrape).containsPattern("outrider_requests_total\\{[^}]*direction=\"" + direction
                        + "\"[^}]*status_class=\"" + statusClass + "\"[^}]*} 0\\.0");
            }
            assertThat(scrape)
                    .containsPattern("outrider_request_duration_seconds_bucket\\{direction=\"" + direction
                            + "\",le=\"[0-9.]+\"} 0")
                    .containsPattern("outrider_request_duration_seconds_count\\{direction=\"" + direction + "\"} 0")
                    .contains("outrider_request_bytes_total{direction=\"" + direction + "\"} 0.0")
                    .contains("outrider_response_bytes_total{direction=\"" + direction + "\"} 0.0")
                    .contains("outrider_active_connections{direction=\"" + direction + "\"} 0.0")
                    .contains("outrider_upstream_connect_failures_total{direction=\"" + direction + "\"} 0.0")
                    .contains("outrider_upstream_retries_total{direction=\"" + direction + "\"} 0.0");
        }
        // The SLO boundaries are buckets of their own.
        assertThat(scrape).contains("outrider_request_duration_seconds_bucket{direction=\"inbound\",le=\"0.005\"}");
        registry.close();
    }

    @Test
    void prometheusRegistryCarriesTheJvmAndProcessMetersOnceBound() {
        PrometheusMeterRegistry registry = Registries.prometheus();
        try {
            assertThat(registry.scrape()).doesNotContain("jvm_memory_used_bytes"); // bound after /ready
            Registries.bindJvm(registry);
            assertThat(registry.scrape())
                    .contains("jvm_memory_used_bytes")
                    .contains("jvm_threads_live_threads")
                    .contains("system_cpu_count")
                    .contains("process_uptime_seconds");
        } finally {
            registry.close();
        }
    }

    private static double count(SimpleMeterRegistry registry, String direction, String statusClass) {
        return registry.get("outrider.requests").tag("direction", direction).tag("status_class", statusClass)
                .counter().count();
    }

    @Test
    void http2ConnectionErrorsByDirectionAndErrorCode() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        ProxyMetrics metrics = new ProxyMetrics(registry);

        metrics.http2ConnectionError(Direction.INBOUND, Http2Error.FRAME_SIZE_ERROR);
        metrics.http2ConnectionError(Direction.INBOUND, Http2Error.FRAME_SIZE_ERROR);
        metrics.http2ConnectionError(Direction.OUTBOUND, Http2Error.PROTOCOL_ERROR);

        assertThat(registry.get("outrider.http2.connection.errors").tag("direction", "inbound")
                .tag("error_code", "frame_size_error").counter().count()).isEqualTo(2);
        assertThat(registry.get("outrider.http2.connection.errors").tag("direction", "outbound")
                .tag("error_code", "protocol_error").counter().count()).isEqualTo(1);
        assertThat(registry.get("outrider.http2.connection.errors").counters())
                .as("every direction and error code, registered up front")
                .hasSize(Direction.values().length * Http2Error.values().length);
    }
}
