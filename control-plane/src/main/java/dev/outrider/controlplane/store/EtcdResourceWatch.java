package dev.outrider.controlplane.store;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * {@link EtcdStore#watch}: an etcd watch on every resource key of the store, from the revision it starts at.
 *
 * <p>jetcd resumes a watch broken by a transient error (a member lost, a reconnect) from the last revision it
 * delivered, so nothing is missed. When it gives a watch up instead (the revision was compacted away, no leader,
 * a refused request), this class starts a new one from the current revision after {@link #RETRY_MILLIS} and tells
 * the listener to {@link Store.Listener#resync() resync}, since changes in between were not seen.
 *
 * <p>Threading: jetcd delivers on its own threads; every listener call runs on this watch's single daemon thread,
 * in order, so a listener may read the store (a blocking etcd call) without holding up jetcd.
 */
final class EtcdResourceWatch implements Store.Watch {
    private static final Logger log = LoggerFactory.getLogger(EtcdResourceWatch.class);
    static final long RETRY_MILLIS = 1000;

    private final EtcdStore store;
    private final Store.Listener listener;
    private final ScheduledExecutorService thread;
    /** Written on {@link #thread} only. */
    private volatile Watch.Watcher watcher;
    private volatile boolean closed;
    /** Watch thread only: see {@link Store.Listener#caughtUp}. */
    private long lastDeleted;

    EtcdResourceWatch(EtcdStore store, Store.Listener listener) {
        this.store = store;
        this.listener = listener;
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "store-watch");
            t.setDaemon(true);
            return t;
        });
        executor.setRemoveOnCancelPolicy(true);
        this.thread = executor;
    }

    /**
     * Starts watching from the revision after the current one, then has the listener read everything once: what
     * changed between the listener's own first read (before this watch existed) and now is not lost. Throws when
     * etcd cannot be read.
     */
    void start() {
        long from = store.etcdRevision() + 1;
        thread.execute(() -> open(from, true));
    }

    private void open(long fromRevision, boolean resync) {
        if (closed) {
            return;
        }
        ByteSequence prefix = ByteSequence.from(store.resourcePrefix(), StandardCharsets.UTF_8);
        WatchOption option = WatchOption.builder().withPrefix(prefix).withRevision(fromRevision).build();
        watcher = store.client().getWatchClient().watch(prefix, option, Watch.listener(
                response -> thread.execute(() -> deliver(response)),
                error -> thread.execute(() -> failed(error))));
        if (closed) {
            watcher.close(); // closed meanwhile
            return;
        }
        if (resync) {
            store.leases().forgetAll();
            listener.resync();
            lastDeleted = store.version(fromRevision - 1); // deletes before it are unknown
            listener.caughtUp(lastDeleted, lastDeleted);
        }
    }

    private void deliver(WatchResponse response) {
        if (closed) {
            return;
        }
        long last = 0;
        for (WatchEvent event : response.getEvents()) {
            last = Math.max(last, event.getKeyValue().getModRevision()); // a delete's: the revision that deleted
            if (event.getEventType() == WatchEvent.EventType.DELETE) {
                lastDeleted = Math.max(lastDeleted, store.version(event.getKeyValue().getModRevision()));
            }
            ResourceKey key;
            try {
                key = store.resourceKey(event.getKeyValue().getKey());
            } catch (UncheckedIOException e) {
                log.warn("{}; ignored", e.getMessage());
                continue;
            }
            boolean deleted = event.getEventType() == WatchEvent.EventType.DELETE;
            store.leases().noted(key, deleted ? null : event.getKeyValue());
            try {
                listener.changed(key, deleted ? null : store.stored(key, event.getKeyValue()));
            } catch (RuntimeException e) {
                log.error("store watch listener failed on {}", key, e);
            }
        }
        if (last > 0) {
            try {
                listener.caughtUp(store.version(last), lastDeleted);
            } catch (RuntimeException e) {
                log.error("store watch listener failed at revision {}", last, e);
            }
        }
    }

    private void failed(Throwable error) {
        if (closed) {
            return;
        }
        log.warn("etcd watch of {}: {}", store.resourcePrefix(), error.getMessage());
        thread.schedule(this::reopenIfGivenUp, RETRY_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** jetcd resumes what it can; a watch it closed is started again here, with a resync. */
    private void reopenIfGivenUp() {
        Watch.Watcher current = watcher;
        if (closed || current == null || !current.isClosed()) {
            return;
        }
        try {
            long from = store.etcdRevision() + 1;
            log.info("etcd watch of {} started again at revision {}; re-reading the store", store.resourcePrefix(), from);
            open(from, true);
        } catch (RuntimeException e) {
            log.warn("etcd watch of {} not started again: {}; retrying", store.resourcePrefix(), e.getMessage());
            thread.schedule(this::reopenIfGivenUp, RETRY_MILLIS, TimeUnit.MILLISECONDS);
        }
    }

    @Override
    public void close() {
        closed = true;
        Watch.Watcher current = watcher;
        if (current != null) {
            current.close();
        }
        thread.shutdownNow();
    }
}
