package dev.outrider.core.snapshot;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * The Redis that keeps the budgets of {@code scope: global} rate-limit rules, as sidecars reach it: from a
 * sidecar's bootstrap file ({@code rateLimits.redis}) or from the control plane ({@code --redis}), which passes it
 * on in every snapshot to the sidecars whose bootstrap file names none.
 *
 * @param uri          {@code redis://[user@]host:port[/db]}, {@code rediss://...} (TLS, the JDK's trusted roots), or
 *                     a Sentinel URI ({@code redis-sentinel://host:port,host:port/db#master}); never a password
 * @param passwordFile the file holding the password (AUTH; with a user in the URI, that ACL user's) on the sidecar's
 *                     file system, or null: the password itself stays out of configuration, snapshots and logs
 * @param timeout      how long a request whose lease is empty waits for Redis; longer counts as Redis being
 *                     unavailable (the rule's fallback decides); positive, at most {@link #MAX_TIMEOUT}
 * @param cluster      {@code uri} is one node of a Redis Cluster (a seed; the client learns the other nodes)
 */
public record RedisSettings(URI uri, Path passwordFile, Duration timeout, boolean cluster) {
    /** URI schemes the client reads (Lettuce): plain, TLS, and Sentinel of either. */
    public static final List<String> SCHEMES = List.of("redis", "rediss", "redis-sentinel", "rediss-sentinel");
    /** A few round trips on a local network. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMillis(5);
    public static final Duration MAX_TIMEOUT = Duration.ofSeconds(10);

    /** @throws IllegalArgumentException saying what is wrong with the URI or the timeout */
    public RedisSettings {
        requireNonNull(uri, "uri");
        requireNonNull(timeout, "timeout");
        if (uri.getScheme() == null || !SCHEMES.contains(uri.getScheme())) {
            throw new IllegalArgumentException("'" + uri + "' is not a Redis URI (" + String.join("://, ", SCHEMES)
                    + "://)");
        }
        if (uri.getRawUserInfo() != null && uri.getRawUserInfo().contains(":")) {
            throw new IllegalArgumentException("holds a password: put the password in a file and name that file instead");
        }
        if (timeout.isNegative() || timeout.isZero() || timeout.compareTo(MAX_TIMEOUT) > 0) {
            throw new IllegalArgumentException("timeout " + timeout + " must be positive and at most " + MAX_TIMEOUT);
        }
        if (cluster && uri.getScheme().endsWith("-sentinel")) {
            throw new IllegalArgumentException("a Sentinel URI names a monitored primary, not a cluster node");
        }
    }

    /** A Redis that is not a cluster (a server, or a primary found through Sentinel). */
    public RedisSettings(URI uri, Path passwordFile, Duration timeout) {
        this(uri, passwordFile, timeout, false);
    }

    /**
     * Reads a URI as written.
     *
     * @throws IllegalArgumentException when {@code uri} is not a URI, or as the constructor
     */
    public static URI uri(String uri) {
        String text = requireNonNull(uri, "uri").strip();
        try {
            return new URI(text);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("'" + text + "' is not a URI: " + e.getReason());
        }
    }
}
