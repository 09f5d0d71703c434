package dev.outrider.proxy.http;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;

/**
 * The open connections of one listener direction, and of each caller identity on it, counted against their
 * limits. An acquire that succeeds must be paired with exactly one release ({@link DownstreamConnections}
 * releases from the connection's close future, which completes once).
 *
 * <p>Threading: called from every event loop of the listener at once, never blocking. The total is a CAS
 * loop that never goes above its limit (a refused acquire leaves no trace). The per-identity counts live in a
 * {@link ConcurrentHashMap} changed only through {@code compute}, which is atomic per key (it holds that key's
 * bin lock for one increment, no I/O); an identity whose count drops to zero is removed, so the map holds
 * only identities with open connections.
 *
 * @param <K> the identity type (the caller's SPIFFE ID)
 */
final class ConnectionLimits<K> {
    private static final BiFunction<Object, Integer, Integer> DECREMENT = (k, n) -> n == 1 ? null : n - 1;

    private final int maxConnections;
    private final int maxPerPeer;
    private final AtomicInteger open = new AtomicInteger();
    private final ConcurrentHashMap<K, Integer> perPeer = new ConcurrentHashMap<>();

    ConnectionLimits(int maxConnections, int maxPerPeer) {
        if (maxConnections < 1 || maxPerPeer < 1) {
            throw new IllegalArgumentException("limits must be positive: " + maxConnections + ", " + maxPerPeer);
        }
        this.maxConnections = maxConnections;
        this.maxPerPeer = maxPerPeer;
    }

    /** Counts one more connection on the listener; false (and nothing counted) when it is at its limit. */
    boolean tryAcquire() {
        for (;;) {
            int n = open.get();
            if (n >= maxConnections) {
                return false;
            }
            if (open.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    void release() {
        open.decrementAndGet();
    }

    /** Counts one more connection of {@code peer}; false (and nothing counted) when it is at its limit. */
    boolean tryAcquire(K peer) {
        boolean[] acquired = new boolean[1];
        perPeer.compute(peer, (k, n) -> {
            int current = n == null ? 0 : n;
            if (current >= maxPerPeer) {
                return n;
            }
            acquired[0] = true;
            return current + 1;
        });
        return acquired[0];
    }

    void release(K peer) {
        perPeer.computeIfPresent(peer, DECREMENT);
    }

    /** Connections counted on the listener now. */
    int open() {
        return open.get();
    }

    /** Connections counted for {@code peer} now. */
    int open(K peer) {
        return perPeer.getOrDefault(peer, 0);
    }

    /** Identities with at least one connection counted. */
    int trackedPeers() {
        return perPeer.size();
    }
}
