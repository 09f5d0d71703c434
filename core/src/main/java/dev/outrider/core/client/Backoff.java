package dev.outrider.core.client;

import java.time.Duration;
import java.util.random.RandomGenerator;

import static java.util.Objects.requireNonNull;

/**
 * Delays between retries: exponential with full jitter (the n-th retry in a row waits a uniformly random time in
 * {@code [0, min(max, initial * 2^n)]}), so that many sidecars cut off together do not come back in lockstep.
 * {@link #reset()} after a success starts again at {@code initial}.
 *
 * <p>A refused connection ({@link #next(boolean) next(true)}, {@link ControlPlaneException#refused()}) waits at
 * most {@link #REFUSED_MAX} however long the failures have lasted: nothing listens on the control plane's port,
 * which is what a restart looks like, and it costs the control plane nothing (the kernel answers), so the sidecar
 * keeps knocking and is back within that bound once the control plane listens again. Every other failure (a
 * timeout, a TLS failure, a 5xx, an answer that breaks the contract) means a control plane that is up but
 * struggling, and keeps the long back-off so that it is not stampeded.
 *
 * <p>Not thread-safe: each retry loop owns one (confined to its thread).
 */
public final class Backoff {
    public static final Duration DEFAULT_INITIAL = Duration.ofMillis(250);
    public static final Duration DEFAULT_MAX = Duration.ofSeconds(30);
    /** The longest wait after a refused connection (docs/control-plane.md "Sidecars and restarts"). */
    public static final Duration REFUSED_MAX = Duration.ofSeconds(2);

    private final long initialMillis;
    private final long maxMillis;
    private final RandomGenerator random;
    /** Failures since the last reset (capped once the ceiling reaches the maximum). */
    private int attempts;

    public Backoff(Duration initial, Duration max, RandomGenerator random) {
        this.initialMillis = requireNonNull(initial, "initial").toMillis();
        this.maxMillis = requireNonNull(max, "max").toMillis();
        this.random = requireNonNull(random, "random");
        if (initialMillis <= 0 || maxMillis < initialMillis) {
            throw new IllegalArgumentException("backoff needs 0 < initial <= max, got " + initial + " and " + max);
        }
    }

    /** 250 ms doubling up to 30 s. */
    public static Backoff standard() {
        return new Backoff(DEFAULT_INITIAL, DEFAULT_MAX, RandomGenerator.getDefault());
    }

    /** The ceiling of the next delay: {@code min(max, initial * 2^attempts)}. */
    public Duration ceiling() {
        return Duration.ofMillis(ceilingMillis());
    }

    private long ceilingMillis() {
        // initial * 2^attempts without overflow: attempts stops growing once the maximum is reached.
        long ceiling = initialMillis;
        for (int i = 0; i < attempts && ceiling < maxMillis; i++) {
            ceiling *= 2;
        }
        return Math.min(ceiling, maxMillis);
    }

    /** The delay before the next retry after a failure other than a refused connection; counts a failure. */
    public Duration next() {
        return next(false);
    }

    /**
     * The delay before the next retry; counts a failure. After a refused connection ({@code refused}) the delay is
     * at most {@link #REFUSED_MAX} (or the maximum, if that is smaller), still jittered from zero.
     */
    public Duration next(boolean refused) {
        long ceiling = ceilingMillis();
        if (ceiling < maxMillis) {
            attempts++;
        }
        long bound = refused ? Math.min(ceiling, REFUSED_MAX.toMillis()) : ceiling;
        return Duration.ofMillis(random.nextLong(bound + 1));
    }

    /** After a success: the next failure waits at most {@code initial} again. */
    public void reset() {
        attempts = 0;
    }
}
