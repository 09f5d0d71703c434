package dev.outrider.control.snapshot;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * The last snapshot the sidecar applied, kept on disk as its JWS text so that after a restart the sidecar
 * enforces it until the control plane answers (fail static rather than fail closed on every restart).
 * The file is no more trusted than the network: {@link #load()} verifies it again, so a tampered, truncated
 * or foreign file is refused, never applied.
 *
 * <p>{@link #store} replaces the file atomically (write a temporary file in the same directory, fsync it,
 * rename it over the file, fsync the directory): a crash leaves the old file or the new one, never a mix;
 * the temporary file is removed when writing fails. POSIX file systems only (the directory fsync).
 *
 * <p>Blocking I/O: call from the control-client thread, never from an event loop. Calls for one file must not
 * overlap (one writer, the thread that applies snapshots); a concurrent {@link #load()} sees the old or the
 * new file. The payload and keys are never logged; a refused file is logged at WARN with its reason only.
 */
public final class LastKnownGood {
    private static final Logger log = LoggerFactory.getLogger(LastKnownGood.class);

    private final Path file;
    private final SnapshotVerifier verifier;

    /**
     * @param file     where the snapshot lives, e.g. {@code /var/lib/outrider/snapshot.jws}; its directory must exist
     * @param verifier the verifier the sidecar checks live snapshots with
     */
    public LastKnownGood(Path file, SnapshotVerifier verifier) {
        this.file = requireNonNull(file, "file").toAbsolutePath();
        this.verifier = requireNonNull(verifier, "verifier");
        if (this.file.getParent() == null) {
            throw new IllegalArgumentException("last-known-good file " + file + " has no directory");
        }
    }

    public Path file() {
        return file;
    }

    /**
     * Replaces the stored snapshot with {@code jws}, the text of a snapshot just verified and applied.
     *
     * @throws UncheckedIOException when the file cannot be written; the previous file is then unchanged
     */
    public void store(String jws) {
        requireNonNull(jws, "jws");
        Path dir = file.getParent();
        Path temp = null;
        try {
            temp = Files.createTempFile(dir, "." + file.getFileName() + ".", ".tmp"); // owner-only on POSIX
            try (FileChannel out = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                ByteBuffer bytes = ByteBuffer.wrap(jws.getBytes(StandardCharsets.US_ASCII));
                while (bytes.hasRemaining()) {
                    out.write(bytes);
                }
                out.force(true);
            }
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            temp = null;
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true); // makes the rename itself durable
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write last-known-good snapshot " + file, e);
        } finally {
            if (temp != null) {
                try {
                    Files.deleteIfExists(temp);
                } catch (IOException e) {
                    log.warn("cannot remove temporary file {}: {}", temp, e.toString());
                }
            }
        }
    }

    /**
     * Reads and verifies the stored snapshot (no version floor).
     *
     * @return empty when there is no file (never stored)
     * @throws SnapshotException when the file is refused (too large, not text, or any verifier refusal)
     * @throws UncheckedIOException when the file exists but cannot be read
     */
    public Optional<WorkloadSnapshot> load() {
        String jws;
        try {
            jws = read();
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (SnapshotException e) {
            throw refused(e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read last-known-good snapshot " + file, e);
        }
        try {
            WorkloadSnapshot snapshot = verifier.verify(jws);
            log.info("last-known-good snapshot {} for {} loaded from {}", snapshot.version(), snapshot.workload(), file);
            return Optional.of(snapshot);
        } catch (SnapshotException e) {
            throw refused(e);
        }
    }

    private String read() throws IOException {
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = in.size();
            if (size > SnapshotVerifier.MAX_LENGTH) {
                throw new SnapshotException(SnapshotException.Reason.BAD_FORMAT,
                        "file is " + size + " bytes, more than " + SnapshotVerifier.MAX_LENGTH);
            }
            ByteBuffer bytes = ByteBuffer.allocate((int) size);
            while (bytes.hasRemaining() && in.read(bytes) >= 0) {
                // reads until the size seen above, or end of file if it shrank meanwhile
            }
            bytes.flip();
            try {
                return StandardCharsets.US_ASCII.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(bytes).toString();
            } catch (CharacterCodingException e) {
                throw new SnapshotException(SnapshotException.Reason.BAD_FORMAT, "file is not ASCII text");
            }
        }
    }

    private SnapshotException refused(SnapshotException e) {
        log.warn("last-known-good snapshot {} refused, not applied: {}", file, e.getMessage());
        return new SnapshotException(e.reason(), "last-known-good file " + file + ": " + e.detail(), e);
    }
}
