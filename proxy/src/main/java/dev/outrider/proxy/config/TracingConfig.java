package dev.outrider.proxy.config;

import java.net.URI;

import static java.util.Objects.requireNonNull;

/**
 * Distributed tracing (docs/observability.md "Tracing"): off by default.
 *
 * @param enabled       make one span per request and hop and export them; off: trace headers pass untouched and
 *                      no tracing code is loaded
 * @param endpoint      the OTLP/HTTP traces endpoint ({@code http(s)://host:port/v1/traces})
 * @param samplingRatio the share of new traces recorded (0 to 1); a caller's sampled flag is followed
 * @param queueSize     finished spans waiting for export; beyond it spans are dropped and counted
 */
public record TracingConfig(boolean enabled, URI endpoint, double samplingRatio, int queueSize) {
    public static final TracingConfig OFF = new TracingConfig(false, URI.create("http://127.0.0.1:4318/v1/traces"),
            0.01, 2048);

    public TracingConfig {
        requireNonNull(endpoint, "endpoint");
    }
}
