package dev.outrider.core.files;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Durable, atomic file replacement: a reader sees the old bytes or the new ones, never a mix or a prefix, and a
 * crash at any moment leaves the old or the new content (plus perhaps a temp file, recognised by {@link #isTemp}).
 * <pre>
 *   writeTemp:  create temp file in the target's directory, with its final permissions → write → fsync file
 *               (nothing visible yet; a key is never readable by others, not even for a moment)
 *   commit:     rename(temp, target) atomically → fsync directory          (durable when it returns)
 *   write:      writeTemp + commit; the temp file is removed when anything fails
 * </pre>
 * A failure in {@link #writeTemp} leaves the target untouched. A failure in {@link #commit} leaves it uncertain
 * (old or new content, possibly not durable), which a caller that needs to know must treat as such.
 *
 * <p>The one atomic-file writer of every module: the sidecar's certificates, keys, last-known-good snapshot and
 * version floor; the control plane's file store and signing keys. POSIX file systems. Blocking I/O on the
 * calling thread (never an event loop); calls for one target must not overlap. The directory must exist.
 */
public final class AtomicFiles {
    /** {@code rw-------}: private keys, cached snapshots, the store's documents. */
    public static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
    /** {@code rw-r--r--}: certificates, trust bundles, public keys. */
    public static final Set<PosixFilePermission> WORLD_READABLE = PosixFilePermissions.fromString("rw-r--r--");
    private static final String TEMP_SUFFIX = ".tmp";

    private AtomicFiles() {
    }

    /** Replaces {@code target} with {@code content}, the new file having {@code permissions}. */
    public static void write(Path target, byte[] content, Set<PosixFilePermission> permissions) throws IOException {
        Path temp = writeTemp(target, content, permissions);
        try {
            commit(temp, target);
            temp = null;
        } finally {
            if (temp != null) {
                Files.deleteIfExists(temp);
            }
        }
    }

    /** True for a temp file this class creates: its name starts with '.' and ends with ".tmp". */
    public static boolean isTemp(Path file) {
        String name = file.getFileName().toString();
        return name.startsWith(".") && name.endsWith(TEMP_SUFFIX);
    }

    /** {@link #writeTemp(Path, byte[], Set)} with {@link #OWNER_ONLY} permissions. */
    public static Path writeTemp(Path target, byte[] content) throws IOException {
        return writeTemp(target, content, OWNER_ONLY);
    }

    /**
     * Writes {@code content} to a new, fsynced temp file next to {@code target}, with {@code permissions} from the
     * moment it exists; deletes it on failure.
     */
    public static Path writeTemp(Path target, byte[] content, Set<PosixFilePermission> permissions)
            throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        boolean posix = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
        FileAttribute<?>[] attributes = posix
                ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(permissions)}
                : new FileAttribute<?>[0];
        Path temp = Files.createTempFile(dir, "." + target.getFileName() + ".", TEMP_SUFFIX, attributes);
        try {
            try (FileChannel out = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                ByteBuffer bytes = ByteBuffer.wrap(content);
                while (bytes.hasRemaining()) {
                    out.write(bytes);
                }
                out.force(true);
            }
            if (posix) {
                Files.setPosixFilePermissions(temp, permissions); // the umask may have narrowed the creation mode
            }
        } catch (IOException | RuntimeException e) {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        return temp;
    }

    /** Atomically renames {@code temp} over {@code target} and fsyncs the directory holding both. */
    public static void commit(Path temp, Path target) throws IOException {
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        fsyncDirectory(target.toAbsolutePath().getParent());
    }

    /** Deletes {@code file} and fsyncs its directory, so the deletion survives a crash. */
    public static void deleteDurably(Path file) throws IOException {
        Files.delete(file);
        fsyncDirectory(file.toAbsolutePath().getParent());
    }

    /** Makes the directory's entries (creations, renames, deletions) durable. */
    public static void fsyncDirectory(Path directory) throws IOException {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }
}
