package dev.outrider.controlplane.sidecars;

import dev.outrider.controlplane.ca.WorkloadIdentity;
import dev.outrider.controlplane.store.Store;
import dev.outrider.core.model.DnsLabel;
import io.netty.util.concurrent.DefaultThreadFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Pattern;

import static java.util.Objects.requireNonNull;

/**
 * What each sidecar instance last did: its registration ({@link #seen}) and what it did with the snapshot versions
 * it received ({@link #report}: ACK or NACK with the error). Shown to operators by {@link #list}.
 *
 * <p>Where kept. With a file store (one process) in memory only: after a restart the sidecars' next registration
 * and report fill it again. With a store that {@linkplain Store#isShared is shared} (etcd) every change
 * is also written there, as record {@code NAMESPACE/SERVICE_ACCOUNT/INSTANCE} of space {@value #SPACE}, so every
 * replica lists every sidecar, whichever replica it talks to, and a replica's restart loses nothing: a report is
 * answered once its record is written ({@link #report}'s future). Writes are grouped: one thread writes every
 * change made in the {@value #LINGER_MILLIS} ms after the first one not yet written, and while the previous write
 * was in flight, in one batch (one transaction per 100 records), so 1,000 sidecars ACKing one write cost a few
 * etcd round trips, not 1,000; a report waits at most that long before its write. A record is written on condition
 * that it is still as this replica last wrote or read it; one it has not seen or another replica changed is read
 * and merged first ({@link #write}): what this replica knows with what is stored ({@link Status#merge}: the newest
 * registration, the highest applied version, the NACK of a version above it), so a sidecar moving between
 * replicas keeps its history.
 *
 * <p>Bounded: an instance neither registered nor reported for {@link #FORGET_AFTER_TTLS} times the registration
 * TTL is forgotten, and beyond {@code maxEntries} instances the one seen longest ago is; in the store by
 * {@link #sweep}, which the control plane runs on the replica leading the sweeps. An instance is its identity and
 * instance name. Error texts are cut to {@link #MAX_ERROR_LENGTH} characters.
 *
 * <p>Thread-safe: one lock guards the map, which is in access order so the instance seen longest ago comes first
 * (forgetting costs one step per forgotten instance). The TTL is read outside the lock; store I/O happens outside
 * it, on the writer thread ({@code cp-statuses}) or the caller's ({@link #list}, {@link #sweep}: never an event
 * loop).
 */
public final class SidecarStatuses implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SidecarStatuses.class);
    public static final int MAX_ENTRIES = 10_000;
    public static final int MAX_ERROR_LENGTH = 1_000;
    public static final int FORGET_AFTER_TTLS = 10;
    /** The store's record space of the statuses. */
    public static final String SPACE = "sidecars";
    private static final Pattern VERSION = Pattern.compile("0|[1-9][0-9]{0,18}");
    private static final String CUT = "... (cut)";
    /** How long the first change not yet written waits for others to join its batch. */
    static final long LINGER_MILLIS = 20;
    /** Conditional writes of a batch's records before those still changing elsewhere fail. */
    static final int WRITE_ATTEMPTS = 5;

    private final Clock clock;
    private final Supplier<Duration> registrationTtl;
    private final int maxEntries;
    /** Null in memory-only mode. */
    private final Store store;
    private final Object lock = new Object();
    /** Guarded by {@link #lock}; access order: the instance seen longest ago first. */
    private final LinkedHashMap<Key, Status> entries = new LinkedHashMap<>(16, 0.75f, true);
    /** Guarded by {@link #lock}: changed since the last batch written, with the futures waiting for them. */
    private Map<Key, List<CompletableFuture<Void>>> dirty = new LinkedHashMap<>();
    /** Guarded by {@link #lock}: the store revision of each record as this replica last wrote or read it. */
    private final Map<Key, Long> storedRevisions = new HashMap<>();
    /** Guarded by {@link #lock}: whose last write to the store failed (an ACK repeated by a poll is written again). */
    private final Set<Key> unwritten = new HashSet<>();
    private final ScheduledExecutorService writer;
    /** Guarded by {@link #lock}: a batch is queued or being written. */
    private boolean writing;
    /** Guarded by {@link #lock}: when the first change of {@link #dirty} was made ({@link System#nanoTime}). */
    private long dirtySince;
    private volatile boolean closed;

    private record Key(WorkloadIdentity identity, String instance) {
        String recordName() {
            return identity.namespace() + "/" + identity.serviceAccount() + "/" + instance;
        }
    }

    /**
     * What is known of one instance; immutable.
     *
     * @param appliedVersion the highest version it ACKed
     * @param nackVersion    the version of its last NACK, kept only while above {@code appliedVersion}
     * @param plaintext      the plaintext connections its inbound listener accepted, as last reported; null: never
     *                       reported (a sidecar older than the report, or none since it started)
     */
    record Status(String service, String address, Instant lastSeen, Long appliedVersion, Long nackVersion,
                  String nackError, Plaintext plaintext) {
        Status(String service, String address, Instant lastSeen, Long appliedVersion, Long nackVersion,
               String nackError) {
            this(service, address, lastSeen, appliedVersion, nackVersion, nackError, null);
        }

        Status seen(Instant now, String newService, String newAddress) {
            return new Status(newService, newAddress, now, appliedVersion, nackVersion, nackError, plaintext);
        }

        Status reported(Instant now, long version, boolean ack, String error) {
            if (ack) {
                long applied = appliedVersion == null ? version : Math.max(appliedVersion, version);
                boolean nackStays = nackVersion != null && nackVersion > version;
                return new Status(service, address, now, applied, nackStays ? nackVersion : null,
                        nackStays ? nackError : null, plaintext);
            }
            if ((appliedVersion == null || version > appliedVersion) && (nackVersion == null || version >= nackVersion)) {
                return new Status(service, address, now, appliedVersion, version, error, plaintext);
            }
            return new Status(service, address, now, appliedVersion, nackVersion, nackError, plaintext);
        }

        /** With the plaintext count {@code connections} reported now. */
        Status plaintextReported(Instant now, long connections) {
            return new Status(service, address, now, appliedVersion, nackVersion, nackError,
                    Plaintext.reported(plaintext, now, connections));
        }

        /** What two replicas know of one instance, together: the same answer in either order. */
        static Status merge(Status a, Status b) {
            if (a == null || b == null) {
                return a == null ? b : a;
            }
            Status newer = b.lastSeen.isAfter(a.lastSeen) ? b : a;
            Status older = newer == a ? b : a;
            Long applied = max(a.appliedVersion, b.appliedVersion);
            Status nack = a.nackVersion == null ? b : b.nackVersion == null ? a
                    : b.nackVersion > a.nackVersion ? b : a;
            boolean keepNack = nack.nackVersion != null && (applied == null || nack.nackVersion > applied);
            return new Status(newer.service != null ? newer.service : older.service,
                    newer.service != null ? newer.address : older.address, newer.lastSeen, applied,
                    keepNack ? nack.nackVersion : null, keepNack ? nack.nackError : null,
                    Plaintext.merge(newer.plaintext, older.plaintext));
        }

        private static Long max(Long a, Long b) {
            return a == null ? b : b == null ? a : Long.valueOf(Math.max(a, b));
        }
    }

    /**
     * The plaintext connections an instance's inbound listener accepted (callers without a sidecar, on a PERMISSIVE
     * port), as it reports them on its snapshot polls.
     *
     * @param connections the count since the sidecar started
     * @param lastGrew    when this control plane last saw the count grow (or restart above zero); null when it never
     *                    has been above zero
     */
    record Plaintext(long connections, Instant lastGrew) {
        static Plaintext reported(Plaintext known, Instant now, long connections) {
            if (known == null) {
                return new Plaintext(connections, connections > 0 ? now : null);
            }
            // a lower count is a restarted sidecar: any connection since then is news
            boolean grew = connections > known.connections || (connections < known.connections && connections > 0);
            return new Plaintext(connections, grew ? now : known.lastGrew);
        }

        /** The count of the status seen last, the latest growth of either. */
        static Plaintext merge(Plaintext newer, Plaintext older) {
            if (newer == null || older == null) {
                return newer == null ? older : newer;
            }
            Instant grew = newer.lastGrew == null ? older.lastGrew : older.lastGrew == null ? newer.lastGrew
                    : newer.lastGrew.isAfter(older.lastGrew) ? newer.lastGrew : older.lastGrew;
            return new Plaintext(newer.connections, grew);
        }
    }

    /**
     * In memory only (one process).
     *
     * @param registrationTtl the current registration TTL (e.g. {@code registry::ttl}); instances are forgotten
     *                        after {@link #FORGET_AFTER_TTLS} of it
     */
    public SidecarStatuses(Clock clock, Supplier<Duration> registrationTtl) {
        this(clock, registrationTtl, MAX_ENTRIES, null);
    }

    /** Kept in {@code store} as well when it {@linkplain Store#isShared is shared}, else in memory only. */
    public SidecarStatuses(Clock clock, Supplier<Duration> registrationTtl, Store store) {
        this(clock, registrationTtl, MAX_ENTRIES, requireNonNull(store, "store").isShared() ? store : null);
    }

    SidecarStatuses(Clock clock, Supplier<Duration> registrationTtl, int maxEntries) {
        this(clock, registrationTtl, maxEntries, null);
    }

    SidecarStatuses(Clock clock, Supplier<Duration> registrationTtl, int maxEntries, Store sharedStore) {
        this.clock = requireNonNull(clock, "clock");
        this.registrationTtl = requireNonNull(registrationTtl, "registrationTtl");
        if (maxEntries < 1) {
            throw new IllegalArgumentException("maxEntries must be positive: " + maxEntries);
        }
        this.maxEntries = maxEntries;
        this.store = sharedStore;
        this.writer = sharedStore == null ? null
                : Executors.newSingleThreadScheduledExecutor(new DefaultThreadFactory("cp-statuses", true));
    }

    /**
     * Records what the caller's sidecar did with a snapshot version.
     *
     * @param version decimal, as in the snapshot
     * @param result  {@code ACK} or {@code NACK}
     * @param error   why a NACK (optional; cut to {@link #MAX_ERROR_LENGTH}); must be absent with ACK
     * @return completes when the report is kept: at once in memory-only mode, once written to the shared store
     *         otherwise (exceptionally with the store's exception when that failed)
     * @throws IllegalArgumentException whose message starts with the field at fault ({@code version: ...})
     */
    public CompletableFuture<Void> report(WorkloadIdentity caller, String instance, String version, String result,
                                          String error) {
        requireNonNull(caller, "caller");
        requireInstance(instance);
        if (version == null || !VERSION.matcher(version).matches()) {
            throw new IllegalArgumentException("version: " + (version == null ? "is required"
                    : shown(version) + " is not a snapshot version (a non-negative decimal number)"));
        }
        long v;
        try {
            v = Long.parseLong(version);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("version: " + shown(version) + " is greater than " + Long.MAX_VALUE);
        }
        boolean ack = SidecarView.ACK.equals(result);
        if (!ack && !SidecarView.NACK.equals(result)) {
            throw new IllegalArgumentException("result: " + (result == null ? "is required"
                    : shown(result) + " is not ACK or NACK"));
        }
        if (ack && error != null && !error.isEmpty()) {
            throw new IllegalArgumentException("error: only a NACK carries an error");
        }
        String kept = ack ? null : cut(error == null ? "" : error);
        return change(new Key(caller, instance), (now, status) -> status.reported(now, v, ack, kept));
    }

    /**
     * Records the ACK a snapshot poll carried ({@code &instance=I&ack=V}). Every poll of a sidecar repeats the version
     * it enforces: only news is recorded (a version above the one known), or one whose write to the store failed.
     * A failure is the writer's to log; the next poll carries the ACK again.
     *
     * @return completes as {@link #report}'s does; at once when the ACK was no news
     * @throws IllegalArgumentException whose message starts with the field at fault
     */
    public CompletableFuture<Void> acknowledged(WorkloadIdentity caller, String instance, long version) {
        return acknowledged(caller, instance, version, -1);
    }

    /**
     * As {@link #acknowledged(WorkloadIdentity, String, long)}, with the count of plaintext connections the
     * sidecar's inbound listener accepted since it started ({@code &plaintext=N}; negative: not reported). A count
     * other than the one known is news too.
     */
    public CompletableFuture<Void> acknowledged(WorkloadIdentity caller, String instance, long version,
                                                long plaintextConnections) {
        requireNonNull(caller, "caller");
        requireInstance(instance);
        if (version < 0) {
            throw new IllegalArgumentException("ack: " + version + " is not a snapshot version");
        }
        boolean reportsPlaintext = plaintextConnections >= 0;
        Key key = new Key(caller, instance);
        synchronized (lock) {
            Status known = entries.get(key);
            if (known != null && known.appliedVersion() != null && known.appliedVersion() >= version
                    && (!reportsPlaintext || (known.plaintext() != null
                    && known.plaintext().connections() == plaintextConnections))
                    && !unwritten.contains(key)) {
                return CompletableFuture.completedFuture(null);
            }
        }
        return change(key, (now, status) -> {
            Status acked = status.reported(now, version, true, null);
            return reportsPlaintext ? acked.plaintextReported(now, plaintextConnections) : acked;
        });
    }

    /**
     * Records a registration (or its refresh) of the caller's instance.
     *
     * @return completes as {@link #report}'s does
     */
    public CompletableFuture<Void> seen(WorkloadIdentity caller, String instance, String service, String address) {
        requireNonNull(caller, "caller");
        requireInstance(instance);
        requireNonNull(service, "service");
        requireNonNull(address, "address");
        return change(new Key(caller, instance), (now, status) -> status.seen(now, service, address));
    }

    private interface Change {
        Status apply(Instant now, Status status);
    }

    private CompletableFuture<Void> change(Key key, Change change) {
        Duration ttl = registrationTtl.get();
        CompletableFuture<Void> kept = store == null ? CompletableFuture.completedFuture(null)
                : new CompletableFuture<>();
        boolean startWriter = false;
        synchronized (lock) {
            Instant now = clock.instant();
            Status status = entries.get(key); // moves it last (access order)
            entries.put(key, change.apply(now, status == null ? new Status(null, null, now, null, null, null) : status));
            forgetOld(now, ttl);
            while (entries.size() > maxEntries) {
                Iterator<Key> eldest = entries.keySet().iterator();
                storedRevisions.remove(eldest.next());
                eldest.remove();
            }
            if (store != null) {
                if (dirty.isEmpty()) {
                    dirtySince = System.nanoTime();
                }
                dirty.computeIfAbsent(key, k -> new ArrayList<>()).add(kept);
                startWriter = !writing;
                writing = true;
            }
        }
        if (startWriter) {
            queueBatch(LINGER_MILLIS);
        }
        return kept;
    }

    private void queueBatch(long delayMillis) {
        try {
            writer.schedule(this::writeBatch, Math.max(0, delayMillis), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) { // closed
            failPending(new IllegalStateException("the sidecar statuses are closed"));
        }
    }

    /** Writer thread: writes every change made so far in one batch, then the next batch if more came meanwhile. */
    private void writeBatch() {
        Map<Key, List<CompletableFuture<Void>>> batch;
        Map<Key, Status> local = new LinkedHashMap<>();
        synchronized (lock) {
            batch = dirty;
            dirty = new LinkedHashMap<>();
            for (Key key : batch.keySet()) {
                Status status = entries.get(key);
                if (status != null) {
                    local.put(key, status);
                }
            }
        }
        RuntimeException failure = null;
        Set<Key> notWritten = Set.of();
        try {
            notWritten = write(local);
            if (!notWritten.isEmpty()) {
                failure = new IllegalStateException(notWritten.size() + " sidecar status(es) kept changing in the"
                        + " store (other replicas writing them) over " + WRITE_ATTEMPTS + " attempts");
                log.warn("{}", failure.getMessage());
            }
        } catch (RuntimeException e) {
            failure = e;
            log.warn("writing {} sidecar status(es) to the store failed: {}", batch.size(), e.toString());
        }
        for (Map.Entry<Key, List<CompletableFuture<Void>>> e : batch.entrySet()) {
            boolean failed = failure != null && (notWritten.isEmpty() || notWritten.contains(e.getKey()));
            for (CompletableFuture<Void> f : e.getValue()) {
                if (failed) {
                    f.completeExceptionally(failure);
                } else {
                    f.complete(null);
                }
            }
        }
        boolean more;
        long waited;
        synchronized (lock) {
            for (Key key : batch.keySet()) {
                if (failure != null && (notWritten.isEmpty() || notWritten.contains(key))) {
                    unwritten.add(key);
                } else {
                    unwritten.remove(key);
                }
            }
            unwritten.retainAll(entries.keySet());
            more = !dirty.isEmpty() && !closed;
            writing = more;
            waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - dirtySince);
        }
        if (more) {
            queueBatch(LINGER_MILLIS - waited);
        } else if (closed) {
            failPending(new IllegalStateException("the sidecar statuses are closed"));
        }
    }

    /**
     * Writer thread: writes {@code local}, each status merged with what the store holds, and returns the keys it
     * could not write. A record this replica wrote or read last is written on condition that it is still at that
     * revision, without reading it first; one it has not seen, or that another replica changed since (the
     * condition failed), is read, merged and written on the same condition, up to {@link #WRITE_ATTEMPTS} times.
     */
    private Set<Key> write(Map<Key, Status> local) {
        Map<String, Key> pending = new LinkedHashMap<>();
        local.keySet().forEach(k -> pending.put(k.recordName(), k));
        for (int attempt = 0; attempt < WRITE_ATTEMPTS && !pending.isEmpty(); attempt++) {
            Map<String, Long> expected = new HashMap<>();
            List<String> unknown = new ArrayList<>();
            synchronized (lock) {
                pending.forEach((name, key) -> {
                    Long revision = storedRevisions.get(key);
                    if (revision == null) {
                        unknown.add(name);
                    } else {
                        expected.put(name, revision);
                    }
                });
            }
            Map<String, Store.Record> stored = unknown.isEmpty() ? Map.of() : store.getRecords(SPACE, unknown);
            Map<String, byte[]> values = new LinkedHashMap<>();
            Map<Key, Status> merged = new HashMap<>();
            for (Map.Entry<String, Key> e : pending.entrySet()) {
                Key key = e.getValue();
                Status status = local.get(key);
                if (!expected.containsKey(e.getKey())) {
                    Store.Record record = stored.get(e.getKey());
                    StatusRecord read = record == null ? null : StatusRecord.read(record.value());
                    status = Status.merge(read == null ? null : read.status(), status);
                    expected.put(e.getKey(), record == null ? 0L : record.revision());
                }
                merged.put(key, status);
                values.put(e.getKey(), StatusRecord.write(key.identity(), key.instance(), status));
            }
            Map<String, Long> written = store.putRecordsIf(SPACE, values, expected);
            synchronized (lock) {
                written.forEach((name, revision) -> {
                    Key key = pending.remove(name);
                    storedRevisions.put(key, revision);
                    // what other replicas knew, for the next change here
                    entries.computeIfPresent(key, (k, now) -> Status.merge(now, merged.get(key)));
                });
                pending.values().forEach(storedRevisions::remove); // changed by another replica: read it again
            }
        }
        return Set.copyOf(pending.values());
    }

    private void failPending(RuntimeException failure) {
        Map<Key, List<CompletableFuture<Void>>> left;
        synchronized (lock) {
            left = dirty;
            dirty = new LinkedHashMap<>();
            writing = false;
        }
        left.values().forEach(futures -> futures.forEach(f -> f.completeExceptionally(failure)));
    }

    /**
     * Every instance remembered, ordered by identity and instance. With a shared store this reads it (blocking:
     * call it off event loops) and adds what this replica knows and has not written yet.
     *
     * @param latestVersion the version the control plane has for a workload (the snapshot hub's
     *                      {@code latestVersion}); called outside the lock
     */
    public List<SidecarView> list(Function<WorkloadIdentity, OptionalLong> latestVersion) {
        requireNonNull(latestVersion, "latestVersion");
        Duration ttl = registrationTtl.get();
        Map<Key, Status> copies = new HashMap<>();
        if (store != null) {
            for (byte[] raw : store.listRecords(SPACE).values()) {
                StatusRecord record = StatusRecord.read(raw);
                if (record != null) {
                    copies.merge(new Key(record.identity(), record.instance()), record.status(), Status::merge);
                }
            }
        }
        Instant cutoff;
        synchronized (lock) {
            Instant now = clock.instant();
            forgetOld(now, ttl);
            cutoff = now.minus(ttl.multipliedBy(FORGET_AFTER_TTLS));
            for (Map.Entry<Key, Status> e : entries.entrySet()) { // iterating does not reorder
                copies.merge(e.getKey(), e.getValue(), Status::merge);
            }
        }
        List<SidecarView> views = new ArrayList<>(copies.size());
        for (Map.Entry<Key, Status> e : copies.entrySet()) {
            Key key = e.getKey();
            Status c = e.getValue();
            if (!c.lastSeen().isAfter(cutoff)) {
                continue; // forgotten here, not yet swept from the store
            }
            OptionalLong latest = latestVersion.apply(key.identity());
            Long latestOrNull = latest.isPresent() ? latest.getAsLong() : null;
            String state;
            String error = null;
            if (c.nackVersion() != null && (latestOrNull == null || c.nackVersion() >= latestOrNull)) {
                state = SidecarView.NACK;
                error = c.nackError();
            } else if (c.appliedVersion() != null && (latestOrNull == null || c.appliedVersion() >= latestOrNull)) {
                state = SidecarView.ACK;
            } else {
                state = SidecarView.PENDING;
            }
            views.add(new SidecarView(key.identity().toString(), key.instance(), c.service(), c.address(),
                    c.lastSeen(), latestOrNull, c.appliedVersion(), state, error,
                    c.plaintext() == null ? null : c.plaintext().connections(),
                    c.plaintext() == null ? null : c.plaintext().lastGrew()));
        }
        views.sort(Comparator.comparing(SidecarView::identity).thenComparing(SidecarView::instance));
        if (views.size() > maxEntries) {
            views.sort(Comparator.comparing(SidecarView::lastSeen).reversed());
            views = new ArrayList<>(views.subList(0, maxEntries));
            views.sort(Comparator.comparing(SidecarView::identity).thenComparing(SidecarView::instance));
        }
        return views;
    }

    /**
     * Deletes from the shared store the instances to forget (not seen for {@link #FORGET_AFTER_TTLS} TTLs, and the
     * ones seen longest ago beyond {@code maxEntries}); nothing in memory-only mode. Blocking; run it on one replica
     * at a time (two at once only delete the same records twice).
     *
     * @return how many were deleted
     */
    public int sweep() {
        if (store == null) {
            return 0;
        }
        Instant cutoff = clock.instant().minus(registrationTtl.get().multipliedBy(FORGET_AFTER_TTLS));
        record Seen(String name, Instant lastSeen) {
        }
        List<Seen> kept = new ArrayList<>();
        List<String> forget = new ArrayList<>();
        for (Map.Entry<String, byte[]> e : store.listRecords(SPACE).entrySet()) {
            StatusRecord record = StatusRecord.read(e.getValue());
            if (record == null || !record.status().lastSeen().isAfter(cutoff)) {
                forget.add(e.getKey()); // unreadable records go too
            } else {
                kept.add(new Seen(e.getKey(), record.status().lastSeen()));
            }
        }
        if (kept.size() > maxEntries) {
            kept.sort(Comparator.comparing(Seen::lastSeen));
            kept.subList(0, kept.size() - maxEntries).forEach(s -> forget.add(s.name()));
        }
        if (!forget.isEmpty()) {
            store.deleteRecords(SPACE, forget);
        }
        return forget.size();
    }

    /** Stops the writer; reports not yet written fail. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (writer != null) {
            writer.shutdown();
            try {
                if (!writer.awaitTermination(5, TimeUnit.SECONDS)) {
                    writer.shutdownNow();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                writer.shutdownNow();
            }
            failPending(new IllegalStateException("the sidecar statuses are closed"));
        }
    }

    /** Under the lock: forgets instances not seen for {@link #FORGET_AFTER_TTLS} TTLs, eldest first. */
    private void forgetOld(Instant now, Duration ttl) {
        Instant cutoff = now.minus(ttl.multipliedBy(FORGET_AFTER_TTLS));
        for (Iterator<Map.Entry<Key, Status>> it = entries.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Key, Status> eldest = it.next();
            if (eldest.getValue().lastSeen().isAfter(cutoff)) {
                break; // access order: every later entry was seen after this one
            }
            storedRevisions.remove(eldest.getKey());
            it.remove();
        }
    }

    private static void requireInstance(String instance) {
        if (!DnsLabel.isValid(instance)) {
            throw new IllegalArgumentException("instance: " + (instance == null ? "is required"
                    : shown(instance) + " is not an RFC 1123 label"));
        }
    }

    private static String cut(String error) {
        if (error.length() <= MAX_ERROR_LENGTH) {
            return error;
        }
        int end = MAX_ERROR_LENGTH - CUT.length();
        if (Character.isHighSurrogate(error.charAt(end - 1))) {
            end--; // never half a character
        }
        return error.substring(0, end) + CUT;
    }

    /** A value in a message: quoted, at most 40 characters, control characters replaced. */
    private static String shown(String value) {
        String v = value.length() > 40 ? value.substring(0, 40) + "..." : value;
        StringBuilder sb = new StringBuilder("'");
        v.chars().forEach(c -> sb.append(c < 0x20 || c == 0x7f ? '?' : (char) c));
        return sb.append('\'').toString();
    }
}
