package dev.outrider.proxy.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;

import static java.util.Objects.requireNonNull;

/**
 * The Redis that keeps the budgets of {@code scope: global} rate-limit rules ({@code rateLimits.redis}).
 *
 * @param uri          {@code redis://host:port[/db]}, {@code rediss://...} (TLS, the JDK's trusted roots), or a
 *                     Sentinel URI ({@code redis-sentinel://host:port,host:port/db#master}); never a password
 * @param passwordFile the file holding the password (AUTH), or null: the password stays out of the bootstrap file
 *                     and the logs
 * @param timeout      how long a request waits for Redis's answer; longer counts as Redis being unavailable for
 *                     that request (the rule's fallback decides)
 */
public record RedisConfig(URI uri, Path passwordFile, Duration timeout) {
    public RedisConfig {
        requireNonNull(uri, "uri");
        requireNonNull(timeout, "timeout");
    }
}
