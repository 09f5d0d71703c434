package dev.outrider.proxy.ratelimit;

import dev.outrider.core.snapshot.RedisSettings;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static java.util.Objects.requireNonNull;

/**
 * The Redis that keeps the budgets of {@code scope: global} rules, as this sidecar reaches it
 * ({@code rateLimits.redis}). Connected in the background: the sidecar starts and serves without it (global rules
 * run their fallback meanwhile), and Lettuce re-makes a lost connection. Whether Redis is available follows the
 * calls: a failed or late answer makes it unavailable, an answer available again; each change is logged once
 * and shown by {@code outrider_ratelimit_redis_available} (1 or 0), and every call's time by the histogram
 * {@code outrider_ratelimit_redis_seconds} (buckets from 0.1 to 50 ms).
 *
 * <p>Thread-safe.
 */
public final class SharedBudgets implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SharedBudgets.class);
    /** Between connection attempts while Redis cannot be reached at start. */
    private static final long RETRY_MILLIS = 1000;

    private final String uri;
    private final char[] password;
    private final Duration timeout;
    /** {@link #uri} is a node of a Redis Cluster. */
    private final boolean cluster;
    private final String shown;
    private final Timer calls;
    private final AtomicBoolean available = new AtomicBoolean();
    /**
     * Counts the times Redis became available: what a lease learned before an outage (tokens, a refusal) is not
     * used after it, as Redis may have lost its budgets meanwhile (a restart without persistence).
     */
    private volatile int epoch;
    /** While unavailable, a request may start one refill as a probe this often (all leases together). */
    static final long PROBE_INTERVAL_NANOS = 100_000_000L;
    /** {@link System#nanoTime} of the last probe. */
    private final java.util.concurrent.atomic.AtomicLong lastProbe = new java.util.concurrent.atomic.AtomicLong();
    private final Thread connector;
    private final MeterRegistry registry;
    private final Gauge availableGauge;
    private volatile RedisBudgets budgets;
    private volatile boolean closed;

    private SharedBudgets(String uri, char[] password, Duration timeout, boolean cluster, MeterRegistry registry) {
        this.uri = uri;
        this.cluster = cluster;
        this.password = password;
        this.timeout = timeout;
        this.shown = uri;
        this.registry = registry;
        // a histogram with buckets around the timeout that matters here: 0.1 ms (loopback) to 50 ms (a slow Redis)
        this.calls = Timer.builder("outrider_ratelimit_redis").description("Calls to Redis for global rate limits")
                .serviceLevelObjectives(Duration.ofNanos(100_000), Duration.ofNanos(250_000),
                        Duration.ofNanos(500_000), Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(5),
                        Duration.ofMillis(10), Duration.ofMillis(50))
                .register(registry);
        this.availableGauge = Gauge.builder("outrider_ratelimit_redis_available", available, a -> a.get() ? 1 : 0)
                .description("1 while global rate limits are decided in Redis, 0 while their fallback applies")
                .register(registry);
        this.connector = Thread.ofPlatform().daemon().name("outrider-redis-connect").unstarted(this::connectLoop);
    }

    /**
     * Starts connecting in the background to the Redis {@code settings} name, with the password read from its
     * {@code passwordFile} now.
     *
     * @throws IOException naming the password file when it cannot be read
     */
    public static SharedBudgets start(RedisSettings settings, MeterRegistry registry) throws IOException {
        char[] password = null;
        if (settings.passwordFile() != null) {
            try {
                password = Files.readString(settings.passwordFile()).strip().toCharArray();
            } catch (IOException e) {
                throw new IOException("the Redis password file " + settings.passwordFile() + " cannot be read: "
                        + e.getMessage(), e);
            }
        }
        SharedBudgets s = new SharedBudgets(settings.uri().toString(), password, settings.timeout(),
                settings.cluster(), registry);
        s.connector.start();
        return s;
    }

    /**
     * Starts connecting in the background.
     *
     * @param uri      the Redis URI, without a password
     * @param password the password (from {@code passwordFile}), or null
     * @param timeout  how long a request waits for Redis
     */
    public static SharedBudgets start(String uri, char[] password, Duration timeout, MeterRegistry registry) {
        SharedBudgets s = new SharedBudgets(requireNonNull(uri, "uri"), password, requireNonNull(timeout, "timeout"),
                false, requireNonNull(registry, "registry"));
        s.connector.start();
        return s;
    }

    private void connectLoop() {
        boolean warned = false;
        while (!closed) {
            try {
                RedisBudgets connected = RedisBudgets.connect(uri, password, timeout, cluster);
                if (closed) {
                    connected.close();
                    return;
                }
                connected.onDisconnect(() -> {
                    if (!closed) {
                        becameUnavailable("the connection closed; it is being made again");
                    }
                });
                budgets = connected;
                becameAvailable();
                return;
            } catch (RuntimeException e) {
                if (!warned) {
                    log.warn("rate limits: Redis {} cannot be reached ({}); global rules run their fallback until it"
                            + " can, trying every {} ms", shown, e.getMessage(), RETRY_MILLIS);
                    warned = true;
                }
            }
            try {
                Thread.sleep(RETRY_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** The connected budgets while Redis is available; null while global rules run their fallback. */
    RedisBudgets current() {
        RedisBudgets b = budgets;
        if (b != null && b.connected()) {
            return b;
        }
        if (b != null) {
            becameUnavailable("the connection is down; it is being made again");
        }
        return null;
    }

    /** One shared-budget call for up to {@code wanted} tokens, timed, its outcome telling whether Redis is available. */
    CompletableFuture<RedisBudgets.Grant> take(RedisBudgets b, String bucket, long intervalMicros,
                                               long capacityMicros, long wanted) {
        long start = System.nanoTime();
        return b.take(bucket, intervalMicros, capacityMicros, wanted).whenComplete((grant, failure) -> {
            calls.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
            if (failure == null) {
                becameAvailable();
            } else {
                becameUnavailable("no answer in time, or a failure: " + failure);
            }
        });
    }

    private void becameUnavailable(String why) {
        if (available.compareAndSet(true, false)) {
            log.warn("rate limits: Redis {} is unavailable ({}); global rules run their fallback until it answers"
                    + " again", shown, why);
        }
    }

    private void becameAvailable() {
        if (available.compareAndSet(false, true)) {
            epoch++; // one writer: the compare-and-set
            log.info("rate limits: global rules are decided in Redis {}", shown);
        }
    }

    /**
     * Whether a request that runs the fallback should start a refill as a probe now: at most one per
     * {@link #PROBE_INTERVAL_NANOS} for the whole sidecar, so a Redis that hangs gets a few calls, not one per
     * request (one answer makes it available again).
     */
    boolean probeDue() {
        long now = System.nanoTime();
        long last = lastProbe.get();
        return now - last >= PROBE_INTERVAL_NANOS && lastProbe.compareAndSet(last, now);
    }

    /** Changes each time Redis becomes available again; see {@link Lease}. */
    int epoch() {
        return epoch;
    }

    String uri() {
        return uri;
    }

    Duration timeout() {
        return timeout;
    }

    boolean available() {
        return available.get();
    }

    /** Disconnects and removes its meters (a Redis that replaces this one registers its own). Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        connector.interrupt();
        RedisBudgets b = budgets;
        if (b != null) {
            b.close();
        }
        registry.remove(availableGauge);
        registry.remove(calls);
    }
}
