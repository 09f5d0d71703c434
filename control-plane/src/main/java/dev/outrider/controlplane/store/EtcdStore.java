package dev.outrider.controlplane.store;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.regex.Pattern;

import static java.util.Objects.requireNonNull;

/**
 * The {@link Store} contract kept in an etcd cluster (etcd v3 API through jetcd), shared by every control-plane
 * replica (docs/control-plane.md, "Running several replicas").
 *
 * <p>Layout under the configured prefix (default {@code /outrider/}): {@code resources/KIND/NAMESPACE/NAME} holds a
 * resource's document bytes as given; {@code revision} is written by {@link #advance()} only; {@code audit/...} holds
 * the audit trail ({@link EtcdAudit}), {@code records/...} the records ({@link EtcdRecords}). A resource's
 * {@code resourceVersion} is its etcd {@code mod_revision}, and {@link #revision()} is etcd's cluster revision, so
 * versions are unique, ordered by time and never reused, as the contract asks, with every replica agreeing on them.
 *
 * <p>Optimistic concurrency is an etcd transaction per write: {@code If(mod_revision == expected)} (or
 * {@code version == 0} for "must not exist") {@code Then(put) Else(get)}, so a stale version changes nothing and
 * the conflict names the version actually stored. A write etcd acknowledged is committed by a quorum of its
 * members (etcd fsyncs its log before it answers): that is this store's durability.
 *
 * <p>Failures: every call waits at most {@code timeout} for etcd; no answer (no quorum, no reachable member) or
 * an etcd error surfaces as {@link UncheckedIOException} naming the operation, never a partial change. A write
 * that timed out is a {@link StoreTimeoutException}: etcd may already hold it as a proposal and commit it once its
 * quorum is back, so its outcome is unknown (as with any consensus store); a caller retrying with an expected
 * version sees that as a conflict, never as a lost or doubled write.
 *
 * <p>Thread-safe: the jetcd client is; this class's other mutable state is {@code closed} and the version base
 * (leases: {@link EtcdLeases}).
 */
public final class EtcdStore implements Store {
    /** How long one call waits for etcd before it reports the store unavailable. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);
    /** Keys per page when listing, so one answer stays far below gRPC's message limit. */
    private static final int PAGE = 500;
    /** Record spaces and election names. */
    static final Pattern SIMPLE_NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
    private static final Comparator<StoredResource> BY_KEY = Comparator.comparing(StoredResource::key);

    private final Client client;
    private final KV kv;
    private final String prefix;
    private final ByteSequence revisionKey;
    /** {@code PREFIX/version-base}: added to every etcd revision (see {@link #restore}); 0 unless restored. */
    private final ByteSequence baseKey;
    private volatile long base;
    private final long timeoutMillis;
    private final String description;
    private final EtcdRecords records;
    private final EtcdLeases leases;
    private final EtcdAudit audit;
    private volatile boolean closed;

    private EtcdStore(Client client, String prefix, Duration timeout, String description) {
        this.client = client;
        this.kv = client.getKVClient();
        this.prefix = prefix;
        this.revisionKey = bytes(prefix + "revision");
        this.baseKey = bytes(prefix + "version-base");
        this.timeoutMillis = timeout.toMillis();
        this.description = description;
        this.records = new EtcdRecords(this, kv, prefix);
        this.leases = new EtcdLeases(this, kv, client.getLeaseClient());
        this.audit = new EtcdAudit(this, kv, prefix);
        List<KeyValue> stored = await("read the version base", kv.get(baseKey)).getKvs();
        this.base = stored.isEmpty() ? 0 : parseBase(stored.getFirst());
    }

    private long parseBase(KeyValue stored) {
        String text = stored.getValue().toString(StandardCharsets.UTF_8);
        try {
            long value = Long.parseLong(text);
            if (value < 0) {
                throw new NumberFormatException("negative");
            }
            return value;
        } catch (NumberFormatException e) {
            throw new UncheckedIOException(new IOException("etcd (" + description + ") key " + prefix
                    + "version-base holds '" + text + "', not a version"));
        }
    }

    /**
     * Connects to the cluster of {@code config} and checks that it answers within the timeout.
     *
     * @throws UncheckedIOException when no member answers (the message names the endpoints)
     */
    public static EtcdStore open(EtcdStoreConfig config) {
        Client client = requireNonNull(config, "config").newClient();
        try {
            return new EtcdStore(client, config.prefix(), config.timeout(), config.describe()); // reads etcd once
        } catch (RuntimeException e) {
            client.close();
            throw e;
        }
    }

    @Override
    public StoredResource put(ResourceKey key, byte[] document, long expectedVersion) {
        return put(key, document, expectedVersion, PutOption.DEFAULT);
    }

    private StoredResource put(ResourceKey key, byte[] document, long expectedVersion, PutOption putOption) {
        requireNonNull(key, "key");
        requireNonNull(document, "document");
        Store.requireExpectedVersion(expectedVersion);
        requireOpen();
        ByteSequence k = key(key);
        ByteSequence value = ByteSequence.from(document);
        if (expectedVersion == ANY_VERSION) {
            long revision = awaitWrite("put " + key, kv.put(k, value, putOption)).getHeader().getRevision() + base;
            return new StoredResource(key, revision, document);
        }
        Cmp condition = expectedVersion == MUST_NOT_EXIST
                ? new Cmp(k, Cmp.Op.EQUAL, CmpTarget.version(0))
                : new Cmp(k, Cmp.Op.EQUAL, CmpTarget.modRevision(modRevision(expectedVersion)));
        TxnResponse answer = awaitWrite("put " + key, kv.txn()
                .If(condition)
                .Then(Op.put(k, value, putOption))
                .Else(Op.get(k, GetOption.DEFAULT))
                .commit());
        if (!answer.isSucceeded()) {
            throw ConflictException.of(key, expectedVersion, storedVersion(answer));
        }
        return new StoredResource(key, answer.getHeader().getRevision() + base, document);
    }

    /** Every leased resource holds its own etcd lease (granted with the write); etcd deletes it when that expires. */
    @Override
    public boolean expiresLeases() {
        return true;
    }

    @Override
    public StoredResource putLeased(ResourceKey key, byte[] document, long expectedVersion, Duration ttl) {
        requireNonNull(ttl, "ttl");
        requireOpen();
        long lease = leases.grant(key, ttl);
        StoredResource written = put(key, document, expectedVersion, PutOption.builder().withLeaseId(lease).build());
        leases.written(key, lease);
        return written;
    }

    /** One call to etcd when the key's lease is known ({@link EtcdLeases}), else a read of the key first. */
    @Override
    public boolean keepAlive(ResourceKey key) {
        requireNonNull(key, "key");
        requireOpen();
        return leases.keepAlive(key);
    }

    /** The leases of leased resources, which the resource watch keeps current ({@link EtcdResourceWatch}). */
    EtcdLeases leases() {
        return leases;
    }

    @Override
    public Optional<StoredResource> get(ResourceKey key) {
        return get(key, 0);
    }

    /** {@code atRevision} 0: now; otherwise the etcd revision to read at. */
    private Optional<StoredResource> get(ResourceKey key, long atRevision) {
        requireNonNull(key, "key");
        requireOpen();
        GetOption option = atRevision == 0 ? GetOption.DEFAULT : GetOption.builder().withRevision(atRevision).build();
        List<KeyValue> kvs = await("get " + key, kv.get(key(key), option)).getKvs();
        return kvs.isEmpty() ? Optional.empty() : Optional.of(stored(key, kvs.getFirst()));
    }

    /**
     * The resources as they were at {@code version} (a store revision this store gave, at least its version base):
     * every read of the returned reader sees the same state, whatever was written since. Reads fail (an
     * {@link UncheckedIOException}) once etcd has compacted that revision away.
     */
    @Override
    public StoreReader at(long version) {
        long atRevision = modRevision(version);
        if (atRevision < 1) {
            throw new IllegalArgumentException("version " + version + " is not one of this store's revisions");
        }
        return new StoreReader() {
            @Override
            public Optional<StoredResource> get(ResourceKey key) {
                return EtcdStore.this.get(key, atRevision);
            }

            @Override
            public List<StoredResource> list(String kind, String namespaceOrNull) {
                return EtcdStore.this.list(kind, namespaceOrNull, atRevision);
            }
        };
    }

    @Override
    public List<StoredResource> list(String kind, String namespaceOrNull) {
        return list(kind, namespaceOrNull, 0);
    }

    private List<StoredResource> list(String kind, String namespaceOrNull, long atRevision) {
        ResourceKey.requireKind(kind);
        if (namespaceOrNull != null) {
            ResourceKey.requireNamespace(namespaceOrNull);
        }
        requireOpen();
        return listUnder(prefix + "resources/" + kind + "/" + (namespaceOrNull == null ? "" : namespaceOrNull + "/"),
                atRevision);
    }

    @Override
    public List<StoredResource> listAll() {
        requireOpen();
        return listUnder(resourcePrefix());
    }

    /**
     * Into an empty prefix: {@code PREFIX/version-base} is set so that etcd's next revision plus the base exceeds
     * {@code revision} (written only if absent, so two restores cannot both succeed), then every resource is put.
     * Replicas must be started after the restore: each reads the base once, when it opens the store.
     */
    @Override
    public void restore(List<StoredResource> exported, long exportedRevision) {
        requireNonNull(exported, "exported");
        requireOpen();
        ByteSequence all = bytes(prefix);
        long keys = await("count the keys under " + prefix, kv.get(all, GetOption.builder()
                .withRange(prefixEnd(prefix)).withCountOnly(true).build())).getCount();
        if (keys > 0) {
            throw new IllegalStateException("etcd prefix " + prefix + " of " + description + " holds " + keys
                    + " keys: restore into an empty prefix");
        }
        long current = await("read the revision", kv.get(revisionKey, GetOption.builder().withCountOnly(true).build()))
                .getHeader().getRevision();
        long newBase = Math.max(0, exportedRevision - current);
        TxnResponse set = awaitWrite("set the version base", kv.txn()
                .If(new Cmp(baseKey, Cmp.Op.EQUAL, CmpTarget.version(0)))
                .Then(Op.put(baseKey, bytes(Long.toString(newBase)), PutOption.DEFAULT))
                .commit());
        if (!set.isSucceeded()) {
            throw new IllegalStateException("etcd prefix " + prefix + " was restored meanwhile");
        }
        base = newBase;
        for (StoredResource r : exported) {
            put(r.key(), r.document(), MUST_NOT_EXIST);
        }
    }

    private List<StoredResource> listUnder(String listed) {
        return listUnder(listed, 0);
    }

    private List<StoredResource> listUnder(String listed, long atRevision) {
        List<StoredResource> out = new ArrayList<>();
        forEachUnder(listed, atRevision, entry -> out.add(stored(resourceKey(entry.getKey()), entry)));
        out.sort(BY_KEY);
        return out;
    }

    void forEachUnder(String listed, Consumer<KeyValue> action) {
        forEachUnder(listed, 0, action);
    }

    /**
     * Every key under {@code listed}, page by page, all pages read at {@code revision} (0: at the first page's
     * revision, so every page reads the same point in time).
     */
    private void forEachUnder(String listed, long revision, Consumer<KeyValue> action) {
        forEachBetween(bytes(listed), prefixEnd(listed), revision, action);
    }

    /** Every key in [{@code from}, {@code end}), page by page, all pages read at the first page's revision. */
    void forEachBetween(ByteSequence from, ByteSequence end, Consumer<KeyValue> action) {
        forEachBetween(from, end, 0, action);
    }

    private void forEachBetween(ByteSequence start, ByteSequence end, long revision, Consumer<KeyValue> action) {
        ByteSequence from = start;
        String listed = start.toString(StandardCharsets.UTF_8);
        long atRevision = revision;
        while (true) {
            GetOption.Builder option = GetOption.builder().withRange(end).withLimit(PAGE);
            if (atRevision > 0) {
                option.withRevision(atRevision);
            }
            GetResponse page = await("list " + listed, kv.get(from, option.build()));
            if (atRevision == 0) {
                atRevision = page.getHeader().getRevision();
            }
            page.getKvs().forEach(action);
            if (!page.isMore() || page.getKvs().isEmpty()) {
                break;
            }
            from = afterKey(page.getKvs().getLast().getKey());
        }
    }

    /** Records live under {@code PREFIX/records/SPACE/NAME}, outside the watched resource keys. */
    @Override
    public boolean isShared() {
        return true;
    }

    @Override
    public Map<String, Record> getRecords(String space, Collection<String> names) {
        requireOpen();
        return records.get(space, names);
    }

    @Override
    public Map<String, byte[]> listRecords(String space) {
        requireOpen();
        return records.list(space);
    }

    @Override
    public void putRecords(String space, Map<String, byte[]> records) {
        requireOpen();
        this.records.put(space, records);
    }

    @Override
    public Map<String, Long> putRecordsIf(String space, Map<String, byte[]> records, Map<String, Long> expected) {
        requireOpen();
        return this.records.putIf(space, records, expected);
    }

    @Override
    public void deleteRecords(String space, Collection<String> names) {
        requireOpen();
        records.delete(space, names);
    }

    /** Under {@code PREFIX/audit/}, shared by every replica ({@link EtcdAudit}). */
    @Override
    public void appendAudit(java.time.Instant time, byte[] record, AuditRetention retention) {
        requireNonNull(time, "time");
        requireNonNull(record, "record");
        requireNonNull(retention, "retention");
        requireOpen();
        audit.append(time, record, retention);
    }

    @Override
    public void trimAudit(java.time.Instant now, AuditRetention retention) {
        requireNonNull(now, "now");
        requireNonNull(retention, "retention");
        requireOpen();
        audit.trim(now, retention);
    }

    @Override
    public List<byte[]> listAudit(java.time.Instant sinceOrNull) {
        requireOpen();
        return audit.list(sinceOrNull);
    }

    /** An {@link EtcdLeadership} campaigning under {@code PREFIX/elections/NAME}. */
    @Override
    public Leadership campaign(String name) {
        if (name == null || !SIMPLE_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("election name must be a simple name: " + name);
        }
        requireOpen();
        EtcdLeadership leadership = new EtcdLeadership(client, bytes(prefix + "elections/" + name), name,
                EtcdLeadership.DEFAULT_TTL);
        leadership.start();
        return leadership;
    }

    @Override
    public boolean delete(ResourceKey key, long expectedVersion) {
        requireNonNull(key, "key");
        Store.requireExpectedVersion(expectedVersion);
        requireOpen();
        ByteSequence k = key(key);
        if (expectedVersion == MUST_NOT_EXIST) {
            Optional<StoredResource> stored = get(key);
            if (stored.isPresent()) {
                throw ConflictException.of(key, MUST_NOT_EXIST, stored.get().resourceVersion());
            }
            return false;
        }
        Cmp condition = expectedVersion == ANY_VERSION
                ? new Cmp(k, Cmp.Op.GREATER, CmpTarget.version(0))
                : new Cmp(k, Cmp.Op.EQUAL, CmpTarget.modRevision(modRevision(expectedVersion)));
        TxnResponse answer = awaitWrite("delete " + key, kv.txn()
                .If(condition)
                .Then(Op.delete(k, DeleteOption.DEFAULT))
                .Else(Op.get(k, GetOption.DEFAULT))
                .commit());
        if (answer.isSucceeded()) {
            leases.deleted(key);
            return true;
        }
        long actual = storedVersion(answer);
        if (actual == 0) {
            return false; // nothing to delete, whatever was expected
        }
        throw ConflictException.of(key, expectedVersion, actual);
    }

    @Override
    public long revision() {
        return etcdRevision() + base;
    }

    /** etcd's own current revision (without the version base): what etcd's watch and reads at a revision take. */
    long etcdRevision() {
        requireOpen();
        return await("read the revision", kv.get(revisionKey, GetOption.builder().withCountOnly(true).build()))
                .getHeader().getRevision();
    }

    @Override
    public long advance() {
        requireOpen();
        return awaitWrite("advance the revision", kv.put(revisionKey, ByteSequence.EMPTY)).getHeader().getRevision()
                + base;
    }

    /** An etcd watch on every resource key, from the next revision on ({@link EtcdResourceWatch}). */
    @Override
    public Watch watch(Listener listener) {
        requireNonNull(listener, "listener");
        requireOpen();
        EtcdResourceWatch watch = new EtcdResourceWatch(this, listener);
        watch.start();
        return watch;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            client.close();
        }
    }

    /** The jetcd client, for the replica's watch and leader election on the same connections. */
    public Client client() {
        requireOpen();
        return client;
    }

    /** The etcd key prefix of this store. */
    public String prefix() {
        return prefix;
    }

    /** The etcd key prefix under which resources live; a watch on it sees every resource change. */
    public String resourcePrefix() {
        return prefix + "resources/";
    }

    @Override
    public String toString() {
        return "EtcdStore[" + description + "]";
    }

    /** A write: when etcd does not confirm it in time, its outcome is unknown ({@link StoreTimeoutException}). */
    <T> T awaitWrite(String operation, CompletableFuture<T> call) {
        return await(operation, call, true);
    }

    <T> T await(String operation, CompletableFuture<T> call) {
        return await(operation, call, false);
    }

    private <T> T await(String operation, CompletableFuture<T> call, boolean write) {
        try {
            return call.get(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            call.cancel(true);
            if (write) {
                throw new StoreTimeoutException("etcd (" + description + ") did not confirm " + operation + " within "
                        + timeoutMillis + " ms (no quorum, or no member reachable); etcd may still apply it");
            }
            throw new UncheckedIOException(new IOException("etcd (" + description + ") did not answer " + operation
                    + " within " + timeoutMillis + " ms: no quorum, or no member reachable"));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            call.cancel(true);
            throw new UncheckedIOException(new IOException("interrupted while waiting for etcd to " + operation));
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw new UncheckedIOException(new IOException("etcd (" + description + ") refused " + operation + ": "
                    + cause.getMessage(), cause));
        }
    }

    private long storedVersion(TxnResponse failed) {
        List<GetResponse> gets = failed.getGetResponses();
        if (gets.isEmpty() || gets.getFirst().getKvs().isEmpty()) {
            return 0;
        }
        return gets.getFirst().getKvs().getFirst().getModRevision() + base;
    }

    /** The resource of an etcd key-value under {@code key}, its version the key-value's mod_revision. */
    StoredResource stored(ResourceKey key, KeyValue entry) {
        return new StoredResource(key, entry.getModRevision() + base, entry.getValue().getBytes());
    }

    /** The version (store revision) of an etcd revision. */
    long version(long etcdRevision) {
        return etcdRevision + base;
    }

    /** The etcd mod_revision of a version; -1 (matches no key) for a version from before the base. */
    private long modRevision(long version) {
        return version > base ? version - base : -1;
    }

    ByteSequence key(ResourceKey key) {
        return bytes(prefix + "resources/" + key.kind() + "/" + key.namespace() + "/" + key.name());
    }

    /** The resource key of an etcd key under {@link #resourcePrefix()}; a stray key is an {@link UncheckedIOException}. */
    ResourceKey resourceKey(ByteSequence raw) {
        String text = raw.toString(StandardCharsets.UTF_8);
        String rest = text.substring(resourcePrefix().length());
        String[] parts = rest.split("/", -1);
        try {
            if (parts.length != 3) {
                throw new IllegalArgumentException("not KIND/NAMESPACE/NAME");
            }
            return new ResourceKey(parts[0], parts[1], parts[2]);
        } catch (IllegalArgumentException e) {
            throw new UncheckedIOException(new IOException("etcd (" + description + ") holds a key this store did"
                    + " not write: '" + text + "' (" + e.getMessage() + ")"));
        }
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("store " + description + " is closed");
        }
    }

    private static ByteSequence bytes(String text) {
        return ByteSequence.from(text, StandardCharsets.UTF_8);
    }

    /** The smallest key greater than every key starting with {@code prefix} (etcd's "prefix end"). */
    private static ByteSequence prefixEnd(String prefix) {
        byte[] end = prefix.getBytes(StandardCharsets.UTF_8);
        end[end.length - 1]++; // every prefix here ends in '/', never 0xff
        return ByteSequence.from(end);
    }

    /** The smallest key after {@code key}: the key with a zero byte appended. */
    private static ByteSequence afterKey(ByteSequence key) {
        byte[] raw = key.getBytes();
        return ByteSequence.from(Arrays.copyOf(raw, raw.length + 1));
    }
}
