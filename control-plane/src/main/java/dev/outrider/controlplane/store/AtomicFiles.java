package dev.outrider.controlplane.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Crash-safe file replacement in two steps (POSIX file systems):
 * <pre>
 *   writeTemp:  create temp file in the target's directory → write → fsync file     (nothing visible yet)
 *   commit:     rename(temp, target) atomically → fsync directory                   (durable when it returns)
 * </pre>
 * A failure in {@link #writeTemp} leaves the target untouched. A failure in {@link #commit} leaves it
 * uncertain (old or new content, possibly not durable), which the caller must treat as such. A crash at
 * any moment leaves the target with its old or its new content, never a mix, plus perhaps a temp file,
 * recognised by {@link #isTemp}.
 */
final class AtomicFiles {
    private static final String TEMP_SUFFIX = ".tmp";

    private AtomicFiles() {
    }

    /** True for a temp file this class creates: its name starts with '.' and ends with ".tmp". */
    static boolean isTemp(Path file) {
        String name = file.getFileName().toString();
        return name.startsWith(".") && name.endsWith(TEMP_SUFFIX);
    }

    /** Writes {@code content} to a new, fsynced temp file next to {@code target}; deletes it on failure. */
    static Path writeTemp(Path target, byte[] content) throws IOException {
        Path temp = Files.createTempFile(target.getParent(), "." + target.getFileName() + ".", TEMP_SUFFIX);
        try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
            ByteBuffer buffer = ByteBuffer.wrap(content);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            channel.force(true);
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
    static void commit(Path temp, Path target) throws IOException {
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        fsyncDirectory(target.getParent());
    }

    /** Deletes {@code file} and fsyncs its directory, so the deletion survives a crash. */
    static void deleteDurably(Path file) throws IOException {
        Files.delete(file);
        fsyncDirectory(file.getParent());
    }

    /** Makes the directory's entries (creations, renames, deletions) durable. */
    static void fsyncDirectory(Path directory) throws IOException {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }
}
