package dev.outrider.controlplane.store;

import java.io.UncheckedIOException;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * Durable storage of control-plane resources with optimistic concurrency. The embedded default is
 * {@link FileStore} (one process, one directory); {@link EtcdStore} keeps the same contract in an etcd cluster,
 * shared by every control-plane replica.
 *
 * <p>Contract every implementation keeps:
 * <ul>
 *   <li>{@link #revision()} is a store-wide counter that never goes down, also across restarts, and grows
 *       with every change (put, successful delete, or {@link #advance()}).</li>
 *   <li>A put gives the resource {@code resourceVersion} = the revision after that put, so versions of all
 *       keys are unique and ordered by time; a deleted and re-created resource never reuses a version.</li>
 *   <li>A method that returns has made its change durable: a crash afterwards loses nothing it acknowledged.</li>
 *   <li>Expected versions: {@link #MUST_NOT_EXIST} (0), {@link #ANY_VERSION} (-1), or a positive version
 *       that must equal the stored one; a mismatch throws {@link ConflictException} and changes nothing.</li>
 *   <li>Storage failures surface as {@link UncheckedIOException}.</li>
 *   <li>Safe for use from many threads.</li>
 *   <li>Every method of a closed store throws {@link IllegalStateException}.</li>
 * </ul>
 */
public interface Store extends StoreReader, AutoCloseable {
    /** Expected version meaning "the resource must not exist". */
    long MUST_NOT_EXIST = 0;
    /** Expected version meaning "whatever is stored" (an unconditional write). */
    long ANY_VERSION = -1;

    /**
     * Creates or replaces the resource at {@code key}.
     *
     * @return the stored resource with its new version
     * @throws ConflictException when {@code expectedVersion} does not match
     */
    StoredResource put(ResourceKey key, byte[] document, long expectedVersion);

    @Override
    Optional<StoredResource> get(ResourceKey key);

    /** Resources of {@code kind}, in one namespace or in all when {@code namespaceOrNull} is null, ordered by key. */
    @Override
    List<StoredResource> list(String kind, String namespaceOrNull);

    /** Every resource of every kind (an export), ordered by key. */
    List<StoredResource> listAll();

    /**
     * Loads an export of another store into this one, which must hold no resource: every resource is written, and
     * every version this store gives from now on is greater than {@code revision} (the exported store's), so that
     * sidecars holding snapshots of the exported store take the next one. The resources get new versions.
     *
     * @throws IllegalStateException when this store is not empty
     */
    void restore(List<StoredResource> resources, long revision);

    /**
     * Deletes the resource at {@code key}.
     *
     * @return false when there was nothing to delete (whatever {@code expectedVersion} was)
     * @throws ConflictException when it exists and {@code expectedVersion} does not match (0 always conflicts)
     */
    boolean delete(ResourceKey key, long expectedVersion);

    /**
     * The current store-wide revision: 0 for a file store that was never written; etcd's cluster revision (at
     * least 1, and moved by every write to the cluster, also outside this store's keys) for {@link EtcdStore}.
     */
    long revision();

    /**
     * Grows the revision by one without changing any resource, durably like a write: the snapshot hub uses it to
     * re-sign unchanged snapshots under a newer version (a fresh {@code issuedAt}).
     *
     * @return the new revision
     */
    long advance();

    /**
     * True when the store deletes a {@link #putLeased leased} resource by itself once it is not kept alive (etcd
     * leases); false when expiring is left to the caller (the file store: one process keeps the deadlines).
     */
    default boolean expiresLeases() {
        return false;
    }

    /**
     * {@link #put}, for a resource that should live only while its writer keeps it alive: with
     * {@link #expiresLeases()} the store deletes it (for every reader) when {@link #keepAlive} was not called for
     * {@code ttl}; without, exactly {@link #put}.
     */
    default StoredResource putLeased(ResourceKey key, byte[] document, long expectedVersion, java.time.Duration ttl) {
        return put(key, document, expectedVersion);
    }

    /**
     * Renews the lease of a {@link #putLeased leased} resource for another ttl, without changing its version.
     *
     * @return false when the resource is gone (expired or deleted); without {@link #expiresLeases()}, whether it
     *         exists
     */
    default boolean keepAlive(ResourceKey key) {
        return get(key).isPresent();
    }

    /** Told of changes to the store's resources; see {@link #watch}. */
    interface Listener {
        /**
         * {@code key} was written or deleted (by this process or another one).
         *
         * @param nowOrNull the resource as the change left it; null when it was deleted
         */
        void changed(ResourceKey key, StoredResource nowOrNull);

        /** Changes may have been missed (the watch was broken and started again): read everything again. */
        void resync();

        /**
         * Every change to resources up to {@code revision} has been passed to {@link #changed} (or covered by
         * the {@link #resync} before): called after each batch of changes, with the revision of its last change,
         * and after a resync, with the store revision read before it.
         *
         * @param lastDeleted the revision of the last delete up to {@code revision} (a resource's, or a lease's
         *                    expiry); after a resync, whose deletes before it are unknown, its revision
         */
        default void caughtUp(long revision, long lastDeleted) {
        }
    }

    /** A running {@link #watch}; closing it stops the calls. */
    interface Watch extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * Calls {@code listener}, one call at a time and in store order, for changes to resources made from now on by
     * any process sharing this store. The file store has a single writer, this process (its directory is locked),
     * whose parts tell each other of their writes directly, so its watch calls nothing; {@link EtcdStore}'s
     * reports every change, this replica's own included, and starts with one {@link Listener#resync()}, so nothing
     * changed between the listener's own first read and the watch's start is missed.
     */
    default Watch watch(Listener listener) {
        return () -> {
        };
    }

    /**
     * True when several processes share the store (etcd): each sees the others' writes through its {@link #watch},
     * and the store keeps {@linkplain #putRecords records} for all of them (what one replica records, the others
     * read). False for the file store, whose single process keeps its records in its own memory; the record
     * methods then throw {@link UnsupportedOperationException}.
     *
     * <p>Records are small documents beside the resources, grouped in spaces (such as the sidecars' ACK/NACK
     * statuses): written in batches, last writer wins unless the write is conditional ({@link #putRecordsIf}), not
     * watched and not exported. Writing them
     * may move etcd's {@link #revision()}, as any write to the cluster does; a watch's
     * {@link Listener#caughtUp caught-up revision} moves with resource changes only.
     */
    default boolean isShared() {
        return false;
    }

    /**
     * A record as stored: its bytes and the store revision that last wrote it (what {@link #putRecordsIf} compares).
     */
    record Record(byte[] value, long revision) {
        public Record {
            requireNonNull(value, "value");
        }
    }

    /** The records of {@code space} among {@code names} (those missing are left out); see {@link #isShared}. */
    default Map<String, Record> getRecords(String space, Collection<String> names) {
        throw new UnsupportedOperationException(this + " keeps no shared records");
    }

    /** Every record of {@code space}, by name. */
    default Map<String, byte[]> listRecords(String space) {
        throw new UnsupportedOperationException(this + " keeps no shared records");
    }

    /** Writes (creates or replaces) records of {@code space}, durably when it returns. */
    default void putRecords(String space, Map<String, byte[]> records) {
        throw new UnsupportedOperationException(this + " keeps no shared records");
    }

    /**
     * Writes each record of {@code records} if the store still holds it at the revision {@code expected} gives
     * for it ({@link Record#revision()}, or 0: the record does not exist), durably when it returns. Records are
     * written in groups, each group all or none: a group one of whose records was changed since is not written.
     *
     * @param expected a revision for every name of {@code records}
     * @return the revision each written record now has; a record missing from it was not written (read it again,
     *         and retry with what was read)
     */
    default Map<String, Long> putRecordsIf(String space, Map<String, byte[]> records, Map<String, Long> expected) {
        throw new UnsupportedOperationException(this + " keeps no shared records");
    }

    /** Deletes records of {@code space} (a missing one is no error). */
    default void deleteRecords(String space, Collection<String> names) {
        throw new UnsupportedOperationException(this + " keeps no shared records");
    }

    /**
     * Joins the election {@code name} among the processes sharing this store, for work that must run in one of
     * them at a time (expiry sweeps). The file store's single process always leads; {@link EtcdStore} campaigns
     * with etcd's election API on a lease, so a replica that dies or loses etcd stops leading within the lease's
     * TTL and another one takes over.
     */
    default Leadership campaign(String name) {
        return Leadership.ALWAYS;
    }

    /**
     * The resources as they were at {@code version} (a revision of this store): every read sees that one state.
     * {@link EtcdStore} reads etcd at that revision; other stores keep no history and throw
     * {@link UnsupportedOperationException}.
     */
    default StoreReader at(long version) {
        throw new UnsupportedOperationException(this + " keeps no history to read at a revision");
    }

    /**
     * Appends one record to the audit trail, durably when it returns, then drops the oldest records beyond
     * {@code retention}: those recorded more than its maximum age before {@code time}, and the oldest while there are
     * more than its maximum count. Every process sharing the store appends to, and lists, the same trail. Audit
     * records are not resources: not watched, not exported, and they move no resource version (with etcd they move
     * the cluster revision, as every write does).
     *
     * @param time   when the record was made: the trail is ordered by it
     * @param record one JSON object on one line (no {@code '\n'}), opaque to the store
     */
    void appendAudit(java.time.Instant time, byte[] record, AuditRetention retention);

    /**
     * The audit records recorded at or after {@code sinceOrNull} (all when null), oldest first; records of one
     * instant in the order they were appended (with etcd: of one microsecond, in an arbitrary but fixed order).
     */
    List<byte[]> listAudit(java.time.Instant sinceOrNull);

    /**
     * Drops the audit records beyond {@code retention} as {@link #appendAudit} does, without appending: the bounds
     * hold after every append and every trim (the control plane trims at start-up and once a minute, so records
     * also age out while nothing is written).
     */
    void trimAudit(java.time.Instant now, AuditRetention retention);

    /** Throws {@link IllegalArgumentException} unless {@code expectedVersion} is one of the forms above. */
    static void requireExpectedVersion(long expectedVersion) {
        if (expectedVersion < ANY_VERSION) {
            throw new IllegalArgumentException("expectedVersion must be -1 (any), 0 (must not exist) or a"
                    + " positive version: " + expectedVersion);
        }
    }

    /** Releases what the store holds (files, connections); later calls throw {@link IllegalStateException}. */
    @Override
    void close();
}
