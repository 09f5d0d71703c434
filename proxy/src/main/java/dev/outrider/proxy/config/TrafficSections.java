package dev.outrider.proxy.config;

import dev.outrider.core.document.DocumentFields;
import dev.outrider.core.snapshot.RedisSettings;

import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;

import static dev.outrider.proxy.config.BootstrapFields.duration;
import static dev.outrider.proxy.config.BootstrapFields.integer;

/**
 * The bootstrap file's sections that tune how traffic is carried: {@code http} (codec limits and timeouts),
 * {@code upstream} (connections to the application and other sidecars, retries) and {@code rateLimits} (the
 * limiter's bookkeeping). Pure functions.
 */
final class TrafficSections {
    /** Upper bound for every timeout: anything longer is a typo, not a plan. */
    static final Duration MAX_TIMEOUT = Duration.ofDays(1);
    /** The characters besides letters and digits an HTTP token may hold (RFC 9110 §5.6.2). */
    private static final String TOKEN_SYMBOLS = "!#$%&'*+-.^_`|~";

    private TrafficSections() {
    }

    static HttpConfig http(DocumentFields root) {
        DocumentFields n = root.section("http", List.of("maxInitialLineLength", "maxHeaderSize", "maxHeaderCount",
                "maxConcurrentStreams", "idleTimeout", "requestHeaderTimeout", "upgrades"));
        HttpConfig d = BootstrapLoader.DEFAULT_HTTP;
        return new HttpConfig(
                integer(n, "maxInitialLineLength", d.maxInitialLineLength(), 256, 65_536),
                integer(n, "maxHeaderSize", d.maxHeaderSize(), 1_024, 1_048_576),
                integer(n, "maxHeaderCount", d.maxHeaderCount(), 1, 10_000),
                integer(n, "maxConcurrentStreams", d.maxConcurrentStreams(), 1, 65_535),
                duration(n, "idleTimeout", d.idleTimeout(), true, MAX_TIMEOUT),
                duration(n, "requestHeaderTimeout", d.requestHeaderTimeout(), false, Duration.ofMinutes(5)),
                n.has("upgrades") ? upgrades(n) : d.upgrades());
    }

    /**
     * {@code http.upgrades}: protocol names (RFC 9110 §16.7 tokens, lower case, no version); empty allows no
     * upgrade. {@code h2c} is refused: HTTP/2's own upgrade belongs to one connection and cannot cross a proxy.
     */
    private static List<String> upgrades(DocumentFields http) {
        List<String> names = http.strings("upgrades", v -> {
            if (!v.chars().allMatch(c -> c < 128 && (Character.isLetterOrDigit(c) || TOKEN_SYMBOLS.indexOf(c) >= 0))) {
                return DocumentFields.quote(v) + " is not a protocol name (an HTTP token such as websocket)";
            }
            if (!v.equals(v.toLowerCase(Locale.ROOT))) {
                return DocumentFields.quote(v) + " must be lower case (upgrade names compare without case)";
            }
            return v.equals("h2c") ? "'h2c' is HTTP/2's own upgrade between one client and one server; it cannot"
                    + " cross a proxy (callers speak HTTP/2 to the sidecar directly)" : null;
        });
        return List.copyOf(new LinkedHashSet<>(names));
    }

    static UpstreamConfig upstream(DocumentFields root) {
        DocumentFields n = root.section("upstream", List.of("connectTimeout", "requestTimeout", "idleTimeout",
                "maxRetries", "retryBudgetPercent", "minRetryConcurrency", "maxIdlePerEndpoint"));
        UpstreamConfig d = BootstrapLoader.DEFAULT_UPSTREAM;
        return new UpstreamConfig(
                duration(n, "connectTimeout", d.connectTimeout(), false, Duration.ofMinutes(5)),
                duration(n, "requestTimeout", d.requestTimeout(), true, MAX_TIMEOUT),
                duration(n, "idleTimeout", d.idleTimeout(), false, MAX_TIMEOUT),
                integer(n, "maxRetries", d.maxRetries(), 0, 10),
                integer(n, "retryBudgetPercent", d.retryBudgetPercent(), 0, 100),
                integer(n, "minRetryConcurrency", d.minRetryConcurrency(), 0, 10_000),
                integer(n, "maxIdlePerEndpoint", d.maxIdlePerEndpoint(), 0, 10_000));
    }

    static RateLimitConfig rateLimits(DocumentFields root) {
        DocumentFields n = root.section("rateLimits", List.of("maxTracked", "sweepInterval", "redis"));
        RateLimitConfig d = BootstrapLoader.DEFAULT_RATE_LIMITS;
        return new RateLimitConfig(integer(n, "maxTracked", d.maxTracked(), 100, 10_000_000),
                duration(n, "sweepInterval", d.sweepInterval(), false, Duration.ofMinutes(1)), redis(n));
    }

    /** {@code rateLimits.redis}, or null when absent. */
    private static RedisSettings redis(DocumentFields rateLimits) {
        if (!rateLimits.has("redis")) {
            return null;
        }
        DocumentFields n = rateLimits.section("redis", List.of("uri", "passwordFile", "timeout", "cluster"));
        Duration timeout = duration(n, "timeout", RedisSettings.DEFAULT_TIMEOUT, false, RedisSettings.MAX_TIMEOUT);
        java.nio.file.Path passwordFile = BootstrapFields.path(n, "passwordFile", null);
        try {
            return new RedisSettings(RedisSettings.uri(BootstrapFields.requiredString(n, "uri")), passwordFile,
                    timeout, n.bool("cluster", false));
        } catch (IllegalArgumentException e) {
            throw BootstrapFields.error(n, "uri", e.getMessage());
        }
    }
}
