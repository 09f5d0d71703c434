package dev.outrider.controlplane.snapshot;

import dev.outrider.core.model.SpiffeId;
import dev.outrider.core.snapshot.SnapshotSigner;
import dev.outrider.core.snapshot.RedisSettings;
import dev.outrider.core.snapshot.WorkloadSnapshot;
import dev.outrider.controlplane.ca.WorkloadIdentity;
import dev.outrider.controlplane.registry.ServiceRegistry;
import dev.outrider.controlplane.snapshot.SnapshotContents.Compiled;
import dev.outrider.controlplane.snapshot.SnapshotContents.Content;
import dev.outrider.controlplane.store.Store;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static java.util.Objects.requireNonNull;

/**
 * Compiles, signs and hands out each workload's snapshot, and holds the long polls waiting for a newer one
 * (docs/control-plane.md, "Snapshots").
 * <pre>
 *   store write ─▶ storeChanged() ──┐  (coalesced: at most one refresh queued)
 *   registry change ─▶ listener ────┤
 *   next() of a new workload ───────┘
 *                                   ▼  hub thread
 *   refresh: revision R ─▶ content per scope ─▶ per workload seen: content changed? ─▶ to issue at version R
 *            (namespace + Sidecar egress hosts)                                            │
 *                        signing pool (one thread per processor) ◀─ one task per workload ─┘
 *                          sign version R ─▶ publish ─▶ wake its waiters;   hub thread waits for every task
 *   next(w, after, wait): current version > after ? done : waiter ─▶ woken by an issue, or empty after wait
 *   every reissueAfter/24: a snapshot issued ≥ reissueAfter ago? ─▶ store.advance() ─▶ re-sign those at R+1
 * </pre>
 *
 * <p>Versions. A workload's version is one more than the store revision at which its content last changed (its
 * first one: the revision when first compiled, plus one; so even an empty store's snapshot is newer than 0), so versions only grow, also across restarts (the store's revision never goes
 * down), and a write that changes nothing a workload sees neither bumps nor wakes it. A refresh reads the revision
 * before any content: what it then reads includes at least every write up to that revision (the registry keeps
 * its memory and the store in step under its lock), so the content is never newer-labelled than it is. A content
 * read may include a write beyond the revision; should that content differ from one already issued at the same
 * revision, the refresh leaves it for the next one (that write's own notification, or a retry), never issuing
 * two contents under one version.
 *
 * <p>Replicas ({@code followsWatch}). Replicas sharing an etcd store must never give two contents one version
 * (a sidecar moving to another replica asks for what is newer than the version it holds: it would keep a stale
 * content), and should give one content one version (so it downloads nothing again). etcd's cluster revision cannot
 * be the label: everything written to etcd moves it (the sidecars' status records among them), replicas refresh at
 * different moments, and reads made at "now" may see writes their label does not cover. So such a hub is driven by
 * the store's watch alone ({@link #caughtUp}: the revision of the last resource change passed on, and of the last
 * delete), reads everything, registrations included, from etcd as it was at that revision ({@link Store#at}), and
 * labels a changed content with one more than the greatest of: the versions of what it was compiled from
 * ({@link SnapshotContents.Compiled}) and the last delete. Contents compiled at two revisions differ only through a
 * change between them, which is a write (its version is among the newer content's inputs) or a delete (the newer
 * one's last delete), so different contents get different labels; the same content gets the same label on every
 * replica unless a delete came between their compilations (then a moving sidecar downloads it once more). A
 * replica started later knows no delete before its start: it counts its start as one, which keeps the rule safe.
 * {@link #storeChanged} and registry events do nothing then (their changes come through the watch). Re-signing
 * labels with one more than the revision of its own {@link Store#advance()}; a change whose label would not be above
 * the version a workload holds after that takes a fresh advance too. Advances are etcd writes of their own, so no
 * other replica labels anything with the same number.
 *
 * <p>Re-signing. A snapshot whose content does not change keeps its version and its signed {@code issuedAt}. Sidecars
 * refuse a last-known-good snapshot issued longer ago than their {@code controlPlane.maxSnapshotAge} (at least two
 * days), so the hub re-signs every snapshot once it is {@code reissueAfter} (one day) old: it advances the store
 * revision (durably, so the new version is never issued again with other content after a restart) and issues the
 * same content under the next version with a fresh {@code issuedAt}, waking the workload's waiters like a change.
 *
 * <p>Threading. One daemon thread runs refreshes (store reads, compiling) and the wait timeouts; callers and event
 * loops only enqueue. When a refresh has more than one snapshot to issue, it hands them to a bounded pool of daemon
 * signing threads (as many as processors: ES256 signing and the payload's JSON are the cost, a write seen by 1,000
 * workloads is 1,000 signatures), each of which signs, publishes and wakes the waiters of its workloads, and waits
 * for all of them before it goes on; a refresh with one snapshot signs it itself. Futures returned by {@link #next}
 * therefore complete on the hub thread, a signing thread, or at once on the caller's; their dependants must not
 * block (the API hands them to the connection's event loop). Per workload, {@code current} is a volatile field
 * written by one thread at a time: the hub thread, or the signing thread a refresh gave the workload to while the
 * hub thread waits for it (the task's completion happens-before the hub thread goes on, so consecutive refreshes'
 * writes are ordered, and versions only grow). A refresh issues one content per workload, so one version never
 * carries two contents. Waiters are a concurrent queue, and whoever removes a waiter from it (issue, timeout,
 * cancellation) is the one that completes it, so each completes once. A waiter is added before {@code current}
 * is read again, and an issue sets {@code current} before it scans the waiters, so no waiter misses an issue.
 */
public final class SnapshotHub implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SnapshotHub.class);
    /** Delay of a refresh that found content newer than the revision it read (see class comment). */
    private static final long RETRY_MILLIS = 10;
    /** A snapshot issued this long ago is re-signed (see class comment). */
    public static final Duration DEFAULT_REISSUE_AFTER = Duration.ofDays(1);

    private volatile RedisSettings rateLimitRedis;
    private final Store store;
    private final SnapshotSigner signer;
    private final ServiceRegistry registry;
    private final String trustDomain;
    private final Clock clock;
    private final Duration reissueAfter;
    /** The hub thread. Tasks with equal delays run in submission order (FIFO), which {@link #next} relies on. */
    private final ScheduledThreadPoolExecutor executor;
    /** Signs, publishes and wakes for a refresh with several snapshots to issue (see class comment). */
    private final ThreadPoolExecutor signers;
    /** Hub thread only. */
    private final SnapshotContents contents;
    /** Every workload asked for; never shrinks (identities are few and authenticated). */
    private final ConcurrentHashMap<WorkloadIdentity, Workload> workloads = new ConcurrentHashMap<>();
    /** True while a refresh is queued and not yet started. */
    private final AtomicBoolean refreshQueued = new AtomicBoolean();
    private final Runnable registryListener = this::storeChanged;
    /** True when driven by the store's watch ({@link #caughtUp}) instead of {@link #storeChanged}; see class comment. */
    private final boolean followsWatch;
    /** With {@link #followsWatch}: where the watch last caught up; null before the first. Watch thread writes. */
    private volatile CaughtUp caughtUp;
    private volatile boolean closed;

    private record Issued(IssuedSnapshot snapshot, Content content, Instant issuedAt) {
    }

    /** A snapshot a refresh decided to issue. */
    private record Pending(Workload workload, Content content, long version) {
    }

    /** See {@link Store.Listener#caughtUp}. */
    private record CaughtUp(long revision, long lastDeleted) {
    }

    private static final class Workload {
        final WorkloadIdentity identity;
        final SpiffeId spiffeId;
        /** Written by the hub thread only; null until first compiled. */
        volatile Issued current;
        final ConcurrentLinkedQueue<Waiter> waiters = new ConcurrentLinkedQueue<>();

        Workload(WorkloadIdentity identity) {
            this.identity = identity;
            this.spiffeId = identity.spiffeId();
        }
    }

    /** Identity-compared: each held request is its own waiter. */
    private static final class Waiter {
        final long after;
        final CompletableFuture<Optional<IssuedSnapshot>> future = new CompletableFuture<>();

        Waiter(long after) {
            this.after = after;
        }
    }

    /**
     * The Redis every snapshot passes on to sidecars for their global rate limits ({@code --redis}), or null; set
     * once, before the first workload asks.
     */
    public void rateLimitRedis(RedisSettings redis) {
        this.rateLimitRedis = redis;
    }

    /** As below, re-signing snapshots after {@link #DEFAULT_REISSUE_AFTER}. */
    public SnapshotHub(Store store, SnapshotSigner signer, ServiceRegistry registry, String trustDomain, Clock clock) {
        this(store, signer, registry, trustDomain, clock, DEFAULT_REISSUE_AFTER);
    }

    /**
     * Starts the hub thread and listens to {@code registry}. Nothing is compiled until a workload asks.
     *
     * @param trustDomain  the trust domain of every workload served; others are refused
     * @param reissueAfter a snapshot issued this long ago is re-signed under a new version (checked every 24th of it)
     */
    public SnapshotHub(Store store, SnapshotSigner signer, ServiceRegistry registry, String trustDomain, Clock clock,
                       Duration reissueAfter) {
        this(store, signer, registry, trustDomain, clock, reissueAfter, false);
    }

    /**
     * As above; with {@code followsWatch} the hub is driven by the store's watch alone ({@link #caughtUp}), as
     * replicas sharing an etcd store are: see the class comment.
     */
    public SnapshotHub(Store store, SnapshotSigner signer, ServiceRegistry registry, String trustDomain, Clock clock,
                       Duration reissueAfter, boolean followsWatch) {
        this.followsWatch = followsWatch;
        this.store = requireNonNull(store, "store");
        this.signer = requireNonNull(signer, "signer");
        this.registry = requireNonNull(registry, "registry");
        this.trustDomain = requireNonNull(trustDomain, "trustDomain");
        this.clock = requireNonNull(clock, "clock");
        this.reissueAfter = requireNonNull(reissueAfter, "reissueAfter");
        if (reissueAfter.compareTo(Duration.ofMinutes(1)) < 0) {
            throw new IllegalArgumentException("reissueAfter must be at least 1 minute: " + reissueAfter);
        }
        SpiffeId.ofServiceAccount(trustDomain, "ns", "sa"); // validates the trust domain
        this.contents = new SnapshotContents(store, registry);
        this.executor = new ScheduledThreadPoolExecutor(1, task -> {
            Thread thread = new Thread(task, "outrider-snapshot-hub");
            thread.setDaemon(true);
            return thread;
        });
        executor.setRemoveOnCancelPolicy(true); // answered waiters leave no timeout task behind
        executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        int processors = Runtime.getRuntime().availableProcessors();
        AtomicInteger signerNumber = new AtomicInteger();
        this.signers = new ThreadPoolExecutor(processors, processors, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                task -> {
                    Thread thread = new Thread(task, "outrider-snapshot-signer-" + signerNumber.incrementAndGet());
                    thread.setDaemon(true);
                    return thread;
                });
        signers.allowCoreThreadTimeOut(true); // an idle hub keeps no signing thread
        if (!followsWatch) {
            registry.addListener(registryListener); // with the watch, registry changes come through it
        }
        long check = reissueAfter.dividedBy(24).toNanos();
        executor.scheduleWithFixedDelay(this::reissueStale, check, check, TimeUnit.NANOSECONDS);
    }

    /**
     * The workload's snapshot once its version is greater than {@code after}: at once when the current one is,
     * otherwise when a newer one is issued, otherwise {@link Optional#empty()} after {@code wait}. A workload
     * asked for the first time is compiled first (also with a zero wait). {@code after} -1 takes any version,
     * also 0 (a store never written). Cancelling the future releases the waiter.
     *
     * @throws IllegalArgumentException when the workload is of another trust domain or {@code wait} is negative
     */
    public CompletableFuture<Optional<IssuedSnapshot>> next(WorkloadIdentity workload, long after, Duration wait) {
        requireNonNull(workload, "workload");
        requireNonNull(wait, "wait");
        if (!workload.trustDomain().equals(trustDomain)) {
            throw new IllegalArgumentException("workload " + workload + " is not of trust domain " + trustDomain);
        }
        if (wait.isNegative()) {
            throw new IllegalArgumentException("wait must not be negative: " + wait);
        }
        if (closed) {
            return CompletableFuture.failedFuture(new IllegalStateException("snapshot hub is closed"));
        }
        Workload w = workloads.computeIfAbsent(workload, Workload::new);
        Issued current = w.current;
        if (current != null && current.snapshot().version() > after) {
            return CompletableFuture.completedFuture(Optional.of(current.snapshot()));
        }
        if (current == null) {
            queueRefresh(0); // queued before the timeout below, so it runs first
        }
        Waiter waiter = new Waiter(after);
        w.waiters.add(waiter);
        current = w.current; // an issue since the first read may have scanned the waiters before this one
        if (current != null && current.snapshot().version() > after) {
            if (w.waiters.remove(waiter)) {
                waiter.future.complete(Optional.of(current.snapshot()));
            }
            return waiter.future;
        }
        try {
            ScheduledFuture<?> timeout = executor.schedule(() -> {
                if (w.waiters.remove(waiter)) {
                    waiter.future.complete(Optional.empty());
                }
            }, wait.toNanos(), TimeUnit.NANOSECONDS);
            waiter.future.whenComplete((result, failure) -> {
                timeout.cancel(false);
                w.waiters.remove(waiter); // when cancelled by the caller
            });
        } catch (RejectedExecutionException e) { // closed meanwhile
            if (w.waiters.remove(waiter)) {
                waiter.future.complete(Optional.empty());
            }
        }
        return waiter.future;
    }

    /**
     * Call after every store write: recompiles every workload asked for on the hub thread, issuing a new version
     * to those whose content changed and waking their waiters. Returns at once; bursts are coalesced.
     */
    public void storeChanged() {
        if (!closed && !followsWatch) {
            queueRefresh(0);
        }
    }

    /**
     * With {@code followsWatch}: the store's watch has passed on every change up to {@code revision}, the last delete
     * among them at {@code lastDeleted} (see {@link Store.Listener#caughtUp}); recompiles as {@link #storeChanged}
     * does otherwise, from the store as it was at {@code revision} (see class comment). Called by the watch's thread,
     * in order; returns at once.
     */
    public void caughtUp(long revision, long lastDeleted) {
        CaughtUp last = caughtUp;
        if (last == null || revision >= last.revision()) {
            caughtUp = new CaughtUp(revision, lastDeleted);
        }
        if (!closed) {
            queueRefresh(0);
        }
    }

    /** The version of the workload's current snapshot; empty when it was never asked for or not yet compiled. */
    public OptionalLong latestVersion(WorkloadIdentity workload) {
        Workload w = workloads.get(requireNonNull(workload, "workload"));
        Issued current = w == null ? null : w.current;
        return current == null ? OptionalLong.empty() : OptionalLong.of(current.snapshot().version());
    }

    /** The workload's current snapshot; empty when it was never asked for or not yet compiled. */
    public Optional<IssuedSnapshot> current(WorkloadIdentity workload) {
        Workload w = workloads.get(requireNonNull(workload, "workload"));
        Issued current = w == null ? null : w.current;
        return current == null ? Optional.empty() : Optional.of(current.snapshot());
    }

    /**
     * Stops the hub thread, then the signing threads, and answers every held request with {@link Optional#empty()}.
     * Idempotent.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        registry.removeListener(registryListener);
        executor.shutdownNow(); // a refresh waiting for its signatures is interrupted and cancels those not begun
        signers.shutdown();
        try {
            if (!executor.awaitTermination(5, TimeUnit.SECONDS)) {
                log.warn("snapshot hub thread did not stop within 5 s");
            }
            if (!signers.awaitTermination(5, TimeUnit.SECONDS)) {
                log.warn("snapshot signing threads did not stop within 5 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Workload w : workloads.values()) {
            for (Waiter waiter; (waiter = w.waiters.poll()) != null; ) {
                waiter.future.complete(Optional.empty());
            }
        }
    }

    /** For tests: runs one more refresh on the hub thread and waits for it, so every change so far is compiled. */
    void refreshAndWait() throws Exception {
        executor.submit(this::refresh).get();
    }

    /** For tests: runs the re-signing check on the hub thread now and waits for it. */
    void reissueStaleAndWait() throws Exception {
        executor.submit(this::reissueStale).get();
    }

    private void queueRefresh(long delayMillis) {
        if (refreshQueued.compareAndSet(false, true)) {
            try {
                executor.schedule(this::refresh, delayMillis, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException e) {
                refreshQueued.set(false); // closed
            }
        }
    }

    /** Hub thread. */
    private void refresh() {
        refreshQueued.set(false); // before reading anything: a change from now on queues another refresh
        if (closed) {
            return;
        }
        compileAndIssue(Instant.MIN, 0);
    }

    /** Hub thread: re-signs the snapshots issued {@code reissueAfter} ago or earlier (see class comment). */
    private void reissueStale() {
        if (closed) {
            return;
        }
        Instant staleUpTo = clock.instant().minus(reissueAfter);
        boolean any = false;
        for (Workload w : workloads.values()) {
            Issued current = w.current;
            any |= current != null && !current.issuedAt().isAfter(staleUpTo);
        }
        if (!any) {
            return;
        }
        long advanced;
        try {
            advanced = store.advance(); // every version issued so far is at most it: the next one is newer
        } catch (RuntimeException e) {
            log.error("re-signing snapshots: the store revision cannot be advanced; trying again later", e);
            return;
        }
        compileAndIssue(staleUpTo, advanced);
    }

    /** Hub thread: issues changed contents, and unchanged ones issued at {@code staleUpTo} or earlier. */
    private void compileAndIssue(Instant staleUpTo, long advanced) {
        try {
            Map<WorkloadIdentity, Compiled> byWorkload;
            CaughtUp at = null;
            long revision = 0;
            if (followsWatch) {
                at = caughtUp;
                if (at == null) {
                    return; // the watch has not caught up yet: its first caughtUp compiles
                }
                byWorkload = contents.compute(List.copyOf(workloads.keySet()), store.at(at.revision()));
            } else {
                // Before any content (see class comment). One more than the revision, so that an empty store's
                // first snapshot is version 1, newer than the "after=0" a sidecar without a snapshot asks with.
                revision = store.revision() + 1;
                byWorkload = contents.compute(List.copyOf(workloads.keySet()));
            }
            boolean retry = false;
            List<Pending> pending = new ArrayList<>();
            List<Pending> unlabelled = new ArrayList<>();
            for (Workload w : workloads.values()) {
                Compiled compiled = byWorkload.get(w.identity);
                Issued current = w.current;
                if (compiled == null) {
                    continue; // asked for after the workloads were listed: the queued refresh compiles it
                }
                Content content = compiled.content();
                boolean changed = current == null || !current.content().equals(content);
                if (!changed && current.issuedAt().isAfter(staleUpTo)) {
                    continue; // nothing new, and signed recently enough
                }
                long version;
                if (!followsWatch) {
                    if (current != null && revision <= current.snapshot().version()) {
                        retry = true; // content beyond the revision read; never two contents under one version
                        continue;
                    }
                    version = revision;
                } else if (!changed) {
                    version = advanced + 1; // re-signed: above everything issued before the advance
                } else {
                    version = 1 + Math.max(compiled.inputsVersion(), at.lastDeleted());
                }
                if (current != null && version <= current.snapshot().version()) {
                    unlabelled.add(new Pending(w, content, 0)); // below this hub's own re-signing: see class comment
                    continue;
                }
                pending.add(new Pending(w, content, version));
            }
            if (!unlabelled.isEmpty()) {
                long fresh = store.advance() + 1;
                for (Pending p : unlabelled) {
                    pending.add(new Pending(p.workload(), p.content(), fresh));
                }
            }
            issueAll(pending);
            if (retry) {
                queueRefresh(RETRY_MILLIS);
            }
        } catch (RuntimeException e) {
            // The next change, or the next request of a workload not yet compiled, tries again.
            log.error("compiling snapshots failed", e);
        }
    }

    /**
     * Hub thread: issues each of {@code pending} at {@code version}, on the signing threads when there are several,
     * and returns once every one is published. Interrupted (the hub is closing), it returns at once; the signing
     * tasks not yet begun are cancelled.
     */
    private void issueAll(List<Pending> pending) {
        if (pending.isEmpty()) {
            return;
        }
        if (pending.size() == 1) {
            issue(pending.getFirst().workload(), pending.getFirst().version(), pending.getFirst().content());
            return;
        }
        List<Callable<Void>> tasks = new ArrayList<>(pending.size());
        for (Pending p : pending) {
            tasks.add(() -> {
                issue(p.workload(), p.version(), p.content());
                return null;
            });
        }
        List<Future<Void>> done;
        try {
            done = signers.invokeAll(tasks);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        } catch (RejectedExecutionException e) {
            return; // closed meanwhile
        }
        for (int i = 0; i < done.size(); i++) {
            try {
                done.get(i).get();
            } catch (ExecutionException e) {
                // Its waiters keep waiting; the next change, or the next re-signing, tries again.
                log.error("issuing snapshot {} for {} failed", pending.get(i).version(), pending.get(i).workload().spiffeId,
                        e.getCause());
            } catch (InterruptedException e) { // cannot happen: invokeAll returned with every task done
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** The hub thread or a signing thread, which the hub thread waits for (see class comment). */
    private void issue(Workload w, long version, Content content) {
        Instant issuedAt = clock.instant();
        WorkloadSnapshot snapshot = new WorkloadSnapshot(Long.toString(version), w.spiffeId, issuedAt,
                content.policies(), content.endpoints(), rateLimitRedis);
        IssuedSnapshot issued = new IssuedSnapshot(version, signer.sign(snapshot));
        w.current = new Issued(issued, content, issuedAt);
        for (Waiter waiter : w.waiters) {
            if (waiter.after < version && w.waiters.remove(waiter)) {
                waiter.future.complete(Optional.of(issued));
            }
        }
        log.debug("snapshot {} issued for {} ({} endpoints)", version, w.spiffeId, content.endpoints().size());
    }
}
