package dev.outrider.core.files;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * A file written only at its end, each {@link #append} durable when it returns (write, then fsync of the data), for
 * JSON-lines logs that must survive a crash (the control plane's audit trail). A crash during an append leaves the
 * bytes before it intact and perhaps part of the appended ones after them; a reader treats a last line without its
 * newline as never written ({@link #completeLength}).
 *
 * <p>An append that fails part-way is cut off again (the file is truncated to its length before the append), so
 * the next append does not follow a fragment. When even that fails, every later append is refused: the file must
 * be opened again, which reads its real state.
 *
 * <p>The file is opened with {@code O_APPEND}, so a log rotation that copies and truncates it ({@code logrotate
 * copytruncate}) keeps working. Created with owner-only permissions. Blocking I/O on the calling thread (never an
 * event loop). Thread-safe: appends are serialized.
 */
public final class AppendOnlyFile implements AutoCloseable {
    private final Path path;
    private final FileChannel channel;
    /** Guarded by this. */
    private IOException failure;
    /** Guarded by this. */
    private boolean closed;

    private AppendOnlyFile(Path path, FileChannel channel) {
        this.path = path;
        this.channel = channel;
    }

    /**
     * Opens {@code path} for appending, creating it (mode 0600, and its entry in the directory made durable) when
     * missing. The directory must exist.
     */
    public static AppendOnlyFile open(Path path) throws IOException {
        requireNonNull(path, "path");
        Path file = path.toAbsolutePath();
        boolean created = false;
        if (!Files.exists(file)) {
            boolean posix = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
            Set<PosixFilePermission> mode = AtomicFiles.OWNER_ONLY;
            FileAttribute<?>[] attributes = posix
                    ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(mode)} : new FileAttribute<?>[0];
            try {
                Files.createFile(file, attributes);
                created = true;
            } catch (java.nio.file.FileAlreadyExistsException raced) {
                created = false;
            }
        }
        FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        if (created) {
            try {
                AtomicFiles.fsyncDirectory(file.getParent());
            } catch (IOException e) {
                channel.close();
                throw e;
            }
        }
        return new AppendOnlyFile(file, channel);
    }

    /**
     * The length of {@code content} up to and including its last {@code '\n'}: what a crash during an append left
     * complete. 0 when it has no newline.
     */
    public static int completeLength(byte[] content) {
        for (int i = content.length - 1; i >= 0; i--) {
            if (content[i] == '\n') {
                return i + 1;
            }
        }
        return 0;
    }

    /** Cuts {@code path} to {@code length} bytes, durably (what an interrupted append left after it goes). */
    public static void truncate(Path path, long length) throws IOException {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.WRITE)) {
            channel.truncate(length);
            channel.force(false);
        }
    }

    /** Appends {@code bytes} and fsyncs them. */
    public synchronized void append(byte[] bytes) throws IOException {
        requireNonNull(bytes, "bytes");
        if (closed) {
            throw new IllegalStateException(path + " is closed");
        }
        if (failure != null) {
            throw new IOException(path + ": appends are refused after an append that could not be undone; open"
                    + " the file again", failure);
        }
        long before = channel.size();
        try {
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            channel.force(false);
        } catch (IOException e) {
            try {
                channel.truncate(before);
                channel.force(false);
            } catch (IOException undo) {
                failure = undo;
                e.addSuppressed(undo);
            }
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    @Override
    public synchronized void close() throws IOException {
        if (!closed) {
            closed = true;
            channel.close();
        }
    }

    @Override
    public String toString() {
        return "AppendOnlyFile[" + path + "]";
    }
}
