package dev.outrider.proxy.config;

import dev.outrider.core.document.DocumentFields;
import dev.outrider.core.document.Durations;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.List;

import static dev.outrider.proxy.config.BootstrapFields.duration;
import static dev.outrider.proxy.config.BootstrapFields.enumValue;
import static dev.outrider.proxy.config.BootstrapFields.error;
import static dev.outrider.proxy.config.BootstrapFields.integer;
import static dev.outrider.proxy.config.BootstrapFields.string;

/**
 * The bootstrap file's {@code runtime} (transport, event loops, drain), {@code accessLog},
 * {@code securityEvents} and {@code tracing} sections. Pure functions.
 */
final class RuntimeSections {
    private static final Duration MIN_SUMMARY_INTERVAL = Duration.ofMillis(100);

    private RuntimeSections() {
    }

    static RuntimeConfig runtime(DocumentFields root) {
        DocumentFields n = root.section("runtime", List.of("transport", "eventLoops", "drainTimeout"));
        RuntimeConfig d = BootstrapLoader.DEFAULT_RUNTIME;
        return new RuntimeConfig(
                enumValue(n, "transport", TransportKind.class, d.transport()),
                integer(n, "eventLoops", d.eventLoops(), 0, 1_024),
                duration(n, "drainTimeout", d.drainTimeout(), true, Duration.ofHours(1)));
    }

    static AccessLogConfig accessLog(DocumentFields root) {
        DocumentFields n = root.section("accessLog", List.of("enabled", "path", "queueSize"));
        AccessLogConfig d = BootstrapLoader.DEFAULT_ACCESS_LOG;
        String path = string(n, "path", d.path());
        if (path.isBlank()) {
            throw error(n, "path", "must not be empty ('-' is standard output)");
        }
        return new AccessLogConfig(n.bool("enabled", d.enabled()), path,
                integer(n, "queueSize", d.queueSize(), 1, 1_048_576));
    }

    static SecurityEventsConfig securityEvents(DocumentFields root) {
        DocumentFields n = root.section("securityEvents",
                List.of("enabled", "path", "ratePerSecond", "burst", "summaryInterval"));
        SecurityEventsConfig d = BootstrapLoader.DEFAULT_SECURITY_EVENTS;
        String path = string(n, "path", d.path());
        if (path.isBlank()) {
            throw error(n, "path", "must not be empty (stdout, stderr or a file)");
        }
        Duration summary = duration(n, "summaryInterval", d.summaryInterval(), false, Duration.ofHours(1));
        if (summary.compareTo(MIN_SUMMARY_INTERVAL) < 0) {
            throw error(n, "summaryInterval", "must be at least 100ms, got " + Durations.format(summary));
        }
        return new SecurityEventsConfig(n.bool("enabled", d.enabled()), path,
                integer(n, "ratePerSecond", d.ratePerSecond(), 1, 100_000),
                integer(n, "burst", d.burst(), 1, 1_000_000), summary);
    }

    static TracingConfig tracing(DocumentFields root) {
        DocumentFields n = root.section("tracing", List.of("enabled", "endpoint", "samplingRatio", "queueSize"));
        TracingConfig d = TracingConfig.OFF;
        String endpoint = string(n, "endpoint", d.endpoint().toString());
        URI uri;
        try {
            uri = new URI(endpoint);
        } catch (URISyntaxException e) {
            throw error(n, "endpoint", "'" + endpoint + "' is not a URI: " + e.getReason());
        }
        if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null) {
            throw error(n, "endpoint", "'" + endpoint + "' is not an http:// or https:// URL with a host (the OTLP/HTTP"
                    + " traces endpoint, e.g. http://otel-collector:4318/v1/traces)");
        }
        double ratio = d.samplingRatio();
        if (n.has("samplingRatio")) {
            var value = n.get("samplingRatio");
            if (!value.isNumber() || value.doubleValue() < 0 || value.doubleValue() > 1) {
                throw error(n, "samplingRatio", "must be a number from 0 to 1 (the share of new traces recorded),"
                        + " not " + value);
            }
            ratio = value.doubleValue();
        }
        return new TracingConfig(n.bool("enabled", d.enabled()), uri, ratio,
                integer(n, "queueSize", d.queueSize(), 1, 1_048_576));
    }
}
