package dev.outrider.controlplane.store;

import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Lease;

import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@link EtcdStore}'s leased resources (registrations): each is written with an etcd lease of its own, granted
 * with the write, and etcd deletes it when the lease runs out unrenewed.
 *
 * <p>The lease each resource was last known to hold is kept, from this process's writes and the resource watch's
 * events ({@link #noted}: another replica's writes), so that a renewal is one call to etcd, not a read of the key
 * first. Between another replica's new lease for a key and the watch's event, a renewal may go to the old lease;
 * the next one (a third of the TTL later) finds the new lease. A lease that is gone (the key expired) is read
 * again: the key may hold a newer lease, or nothing.
 *
 * <p>Thread-safe: the jetcd client is, and the known leases are a concurrent map.
 */
final class EtcdLeases {
    private final EtcdStore store;
    private final KV kv;
    private final Lease leaseClient;
    private final Map<ResourceKey, Long> known = new ConcurrentHashMap<>();

    EtcdLeases(EtcdStore store, KV kv, Lease leaseClient) {
        this.store = store;
        this.kv = kv;
        this.leaseClient = leaseClient;
    }

    /** Grants a lease of {@code ttl} (whole seconds, rounded up) for {@code key}'s next write. */
    long grant(ResourceKey key, Duration ttl) {
        long seconds = Math.max(1, (ttl.toMillis() + 999) / 1000);
        return store.await("grant a " + seconds + " s lease for " + key, leaseClient.grant(seconds)).getID();
    }

    /** {@code key} was written on {@code lease} by this process. */
    void written(ResourceKey key, long lease) {
        known.put(key, lease);
    }

    /** {@code key} was deleted by this process. */
    void deleted(ResourceKey key) {
        known.remove(key);
    }

    /** See {@link Store#keepAlive}. */
    boolean keepAlive(ResourceKey key) {
        Long lease = known.get(key);
        if (lease != null) {
            if (renew(key, lease)) {
                return true;
            }
            known.remove(key, lease);
        }
        List<KeyValue> kvs = store.await("get " + key, kv.get(store.key(key))).getKvs();
        if (kvs.isEmpty()) {
            known.remove(key);
            return false;
        }
        long current = kvs.getFirst().getLease();
        if (current == 0) {
            return true; // not leased: it lives until deleted
        }
        known.put(key, current);
        return renew(key, current);
    }

    /** Renews {@code lease} once; false when etcd no longer has it (expired or revoked). */
    private boolean renew(ResourceKey key, long lease) {
        try {
            return store.await("renew the lease of " + key, leaseClient.keepAliveOnce(lease)).getTTL() > 0;
        } catch (UncheckedIOException e) {
            if (e.getCause().getMessage() != null && e.getCause().getMessage().contains("lease not found")) {
                return false;
            }
            throw e;
        }
    }

    /**
     * The resource watch saw {@code entry} written at {@code key} (null: deleted): the lease it holds now is the one
     * to renew.
     */
    void noted(ResourceKey key, KeyValue entryOrNull) {
        long lease = entryOrNull == null ? 0 : entryOrNull.getLease();
        if (lease == 0) {
            known.remove(key);
        } else {
            known.put(key, lease);
        }
    }

    /** The resource watch started again and may have missed changes: leases are read again when renewed. */
    void forgetAll() {
        known.clear();
    }
}
