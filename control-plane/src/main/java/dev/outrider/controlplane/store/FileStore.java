package dev.outrider.controlplane.store;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.outrider.core.files.AtomicFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantLock;

import static java.util.Objects.requireNonNull;

/**
 * The embedded {@link Store}: one directory on a local (POSIX) file system, no other server.
 * <pre>
 *   root/
 *     .lock                          held (OS file lock) while a FileStore has the directory open
 *     revision.json                  revision as of the last delete or advance (see RevisionFile)
 *     audit.jsonl                    the audit trail (see FileAuditLog)
 *     &lt;kind&gt;/&lt;namespace&gt;/&lt;name&gt;.json   one resource (see ResourceFile)
 *     ... .&lt;file&gt;.NNN.tmp             leftover of a crash between temp write and rename; deleted on open
 * </pre>
 * Every change is written with {@link AtomicFiles} (temp file, fsync, atomic rename, fsync directory) before
 * the method returns, so a kill at any moment loses nothing acknowledged. The revision survives restart as the
 * maximum of all resource versions and {@code revision.json}.
 *
 * <p>All resources are also held in memory; reads never touch the disk. Threading: one lock guards the
 * in-memory state and serializes writes, including their fsyncs (control-plane writes are rare; a read waits
 * behind at most one write). After a write fails where the disk state is uncertain (rename or directory fsync),
 * the store refuses further writes until it is reopened, which reloads the truth from disk.
 */
public final class FileStore implements Store {
    private static final String SUFFIX = ".json";
    private static final String REVISION_FILE = "revision.json";
    private static final String LOCK_FILE = ".lock";

    private final Path root;
    private final ObjectMapper json;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final ReentrantLock mutex = new ReentrantLock();
    private final FileAuditLog audit;

    // All fields below are guarded by mutex.
    /** The stored resources, equal to the files on disk whenever mutex is free and failure is null. */
    private final TreeMap<ResourceKey, StoredResource> resources;
    /** Namespace directories known to exist durably (their entries in kind directory and root are fsynced). */
    private final Set<Path> durableDirectories;
    private long revision;
    private IOException failure;
    private boolean closed;

    private FileStore(Path root, ObjectMapper json, FileChannel lockChannel, FileLock lock,
                      FileStoreLoader.Loaded loaded, FileAuditLog audit) {
        this.root = root;
        this.audit = audit;
        this.json = json;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.resources = new TreeMap<>(loaded.resources());
        this.durableDirectories = new HashSet<>(loaded.directories());
        this.revision = loaded.revision();
    }

    /**
     * Opens (creating it when missing) the store in {@code root}: takes the directory lock, deletes leftover
     * temp files and loads every resource.
     *
     * @throws IOException when the directory is in use by another store, or a file is corrupt or out of place
     *                     (the message names its path; nothing is skipped silently)
     */
    public static FileStore open(Path root) throws IOException {
        requireNonNull(root, "root");
        Path dir = root.toAbsolutePath().normalize();
        Files.createDirectories(dir);
        FileChannel channel = FileChannel.open(dir.resolve(LOCK_FILE), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE);
        try {
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                throw new IOException("store directory " + dir + " is in use by another store");
            }
            ObjectMapper json = JsonMapper.builder()
                    .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
                    .enable(DeserializationFeature.FAIL_ON_NULL_CREATOR_PROPERTIES)
                    .build();
            FileStoreLoader.Loaded loaded = new FileStoreLoader(dir, json,
                    Set.of(LOCK_FILE, REVISION_FILE, FileAuditLog.FILE)).load(REVISION_FILE);
            return new FileStore(dir, json, channel, lock, loaded, FileAuditLog.open(dir, json));
        } catch (IOException | RuntimeException e) {
            channel.close(); // releases the lock too
            throw e;
        }
    }

    /** The store's directory (absolute). */
    public Path root() {
        return root;
    }

    @Override
    public StoredResource put(ResourceKey key, byte[] document, long expectedVersion) {
        requireNonNull(key, "key");
        requireNonNull(document, "document");
        Store.requireExpectedVersion(expectedVersion);
        mutex.lock();
        try {
            requireWritable();
            StoredResource current = resources.get(key);
            long actual = current == null ? 0 : current.resourceVersion();
            if (expectedVersion != ANY_VERSION && expectedVersion != actual) {
                throw ConflictException.of(key, expectedVersion, actual);
            }
            StoredResource stored = new StoredResource(key, revision + 1, document);
            Path file = fileOf(key);
            ensureDirectory(file.getParent());
            Path temp = writeTemp(file, ResourceFile.of(stored));
            commit(temp, file);
            resources.put(key, stored);
            revision = stored.resourceVersion();
            return stored;
        } finally {
            mutex.unlock();
        }
    }

    @Override
    public Optional<StoredResource> get(ResourceKey key) {
        requireNonNull(key, "key");
        mutex.lock();
        try {
            requireOpen();
            return Optional.ofNullable(resources.get(key));
        } finally {
            mutex.unlock();
        }
    }

    @Override
    public List<StoredResource> list(String kind, String namespaceOrNull) {
        requireNonNull(kind, "kind");
        ResourceKey.requireKind(kind);
        if (namespaceOrNull != null) {
            ResourceKey.requireNamespace(namespaceOrNull);
        }
        mutex.lock();
        try {
            requireOpen();
            return resources.values().stream()
                    .filter(r -> r.key().kind().equals(kind))
                    .filter(r -> namespaceOrNull == null || r.key().namespace().equals(namespaceOrNull))
                    .toList();
        } finally {
            mutex.unlock();
        }
    }

    @Override
    public boolean delete(ResourceKey key, long expectedVersion) {
        requireNonNull(key, "key");
        Store.requireExpectedVersion(expectedVersion);
        mutex.lock();
        try {
            requireWritable();
            StoredResource current = resources.get(key);
            if (current == null) {
                return false;
            }
            if (expectedVersion != ANY_VERSION && expectedVersion != current.resourceVersion()) {
                throw ConflictException.of(key, expectedVersion, current.resourceVersion());
            }
            long next = revision + 1;
            // Record the new revision before the file holding a high version disappears (see RevisionFile).
            Path revisionFile = root.resolve(REVISION_FILE);
            commit(writeTemp(revisionFile, new RevisionFile(RevisionFile.FORMAT, next)), revisionFile);
            try {
                AtomicFiles.deleteDurably(fileOf(key));
            } catch (IOException e) {
                throw fail(e, "delete " + key);
            }
            resources.remove(key);
            revision = next;
            return true;
        } finally {
            mutex.unlock();
        }
    }

    @Override
    public long advance() {
        mutex.lock();
        try {
            requireWritable();
            long next = revision + 1;
            Path revisionFile = root.resolve(REVISION_FILE);
            commit(writeTemp(revisionFile, new RevisionFile(RevisionFile.FORMAT, next)), revisionFile);
            revision = next;
            return next;
        } finally {
            mutex.unlock();
        }
    }

    @Override
    public List<StoredResource> listAll() {
        mutex.lock();
        try {
            requireOpen();
            return List.copyOf(resources.values());
        } finally {
            mutex.unlock();
        }
    }

    @Override
    public void restore(List<StoredResource> exported, long exportedRevision) {
        requireNonNull(exported, "exported");
        mutex.lock();
        try {
            requireWritable();
            if (!resources.isEmpty()) {
                throw new IllegalStateException("store " + root + " is not empty: restore into an empty one");
            }
            if (exportedRevision > revision) {
                Path revisionFile = root.resolve(REVISION_FILE);
                commit(writeTemp(revisionFile, new RevisionFile(RevisionFile.FORMAT, exportedRevision)), revisionFile);
                revision = exportedRevision;
            }
        } finally {
            mutex.unlock();
        }
        for (StoredResource r : exported) {
            put(r.key(), r.document(), MUST_NOT_EXIST);
        }
    }

    @Override
    public long revision() {
        mutex.lock();
        try {
            requireOpen();
            return revision;
        } finally {
            mutex.unlock();
        }
    }

    @Override
    public void appendAudit(Instant time, byte[] record, AuditRetention retention) {
        mutex.lock();
        try {
            requireOpen();
        } finally {
            mutex.unlock();
        }
        audit.append(time, record, retention);
    }

    @Override
    public void trimAudit(Instant now, AuditRetention retention) {
        mutex.lock();
        try {
            requireOpen();
        } finally {
            mutex.unlock();
        }
        audit.trim(now, retention);
    }

    @Override
    public List<byte[]> listAudit(Instant sinceOrNull) {
        mutex.lock();
        try {
            requireOpen();
        } finally {
            mutex.unlock();
        }
        return audit.list(sinceOrNull);
    }

    /** Releases the directory lock; later calls throw {@link IllegalStateException}. Idempotent. */
    @Override
    public void close() {
        mutex.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            try {
                audit.close();
                lock.release();
                lockChannel.close();
            } catch (IOException e) {
                throw new UncheckedIOException("closing store " + root, e);
            }
        } finally {
            mutex.unlock();
        }
    }

    private Path fileOf(ResourceKey key) {
        // Safe: ResourceKey components are letters or DNS labels, never '.', '..' or a separator.
        return root.resolve(key.kind()).resolve(key.namespace()).resolve(key.name() + SUFFIX);
    }

    /** Creates {@code namespaceDir} if needed and makes its entry (and its kind directory's) durable. */
    private void ensureDirectory(Path namespaceDir) {
        if (durableDirectories.contains(namespaceDir)) {
            return;
        }
        try {
            Files.createDirectories(namespaceDir);
            AtomicFiles.fsyncDirectory(namespaceDir.getParent());
            AtomicFiles.fsyncDirectory(root);
        } catch (IOException e) {
            // Nothing acknowledged depends on these directories yet; the next put retries.
            throw new UncheckedIOException("creating store directory " + namespaceDir, e);
        }
        durableDirectories.add(namespaceDir);
    }

    private Path writeTemp(Path target, Object content) {
        try {
            return AtomicFiles.writeTemp(target, json.writeValueAsBytes(content));
        } catch (IOException e) {
            // The target is untouched: the store stays usable.
            throw new UncheckedIOException("writing " + target, e);
        }
    }

    private void commit(Path temp, Path target) {
        try {
            AtomicFiles.commit(temp, target);
        } catch (IOException e) {
            throw fail(e, "replace " + target);
        }
    }

    /** Marks the store failed: the disk may now differ from memory, so writes stop until reopen. */
    private UncheckedIOException fail(IOException e, String what) {
        failure = e;
        return new UncheckedIOException("store " + root + " could not " + what
                + "; the outcome on disk is uncertain, writes are refused until the store is reopened", e);
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("store " + root + " is closed");
        }
    }

    private void requireWritable() {
        requireOpen();
        if (failure != null) {
            throw new IllegalStateException("store " + root + " refuses writes after an uncertain disk write;"
                    + " reopen it", failure);
        }
    }
}
