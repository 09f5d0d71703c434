package dev.outrider.core.snapshot;

import dev.outrider.core.files.AtomicFiles;
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
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;

import static java.util.Objects.requireNonNull;

/**
 * The last snapshot the sidecar applied, kept on disk as its JWS text so that after a restart the sidecar
 * enforces it until the control plane answers (fail static rather than fail closed on every restart).
 * The file is no more trusted than the network: {@link #load()} verifies it again, so a tampered, truncated
 * or foreign file is refused, never applied.
 *
 * <p>A genuinely signed but older snapshot copied over the file (a rollback) is refused too: beside the file,
 * {@code <file>.floor} holds the version of the last snapshot stored (versions the sidecar applies only grow), and
 * {@link #load()} refuses a cached snapshot below it, one without it, and one issued longer ago than the maximum
 * age ({@link LastKnownGoodCheck}; docs/control-plane.md, "Last-known-good cache", says what each defends against).
 *
 * <p>{@link #store} replaces the snapshot file, then the floor file, each atomically with {@link AtomicFiles}
 * (owner-only): a crash leaves the old file or the new one, never a mix, and at worst a floor below the stored
 * version (accepted), never above it. POSIX file systems only (the directory fsync).
 *
 * <p>Blocking I/O: call from the snapshot-watch thread, never from an event loop. Calls for one file must not
 * overlap (one writer, the thread that applies snapshots); a concurrent {@link #load()} sees the old or the
 * new file. The payload and keys are never logged; a refused file is logged at WARN with its reason only.
 */
public final class LastKnownGood {
    /** The default maximum age of a cached snapshot (by its signed issue time). */
    public static final Duration DEFAULT_MAX_AGE = Duration.ofDays(7);
    /** The longest floor file read: a version has at most 19 digits. */
    private static final int MAX_FLOOR_LENGTH = 64;
    private static final Logger log = LoggerFactory.getLogger(LastKnownGood.class);

    private final Path file;
    private final Path floorFile;
    private final SnapshotVerifier verifier;
    private final Duration maxAge;
    private final Clock clock;

    /** With {@link #DEFAULT_MAX_AGE} and the system clock. */
    public LastKnownGood(Path file, SnapshotVerifier verifier) {
        this(file, verifier, DEFAULT_MAX_AGE, Clock.systemUTC());
    }

    /**
     * @param file     where the snapshot lives, e.g. {@code /var/lib/outrider/snapshot.jws}; its directory must exist
     * @param verifier the verifier the sidecar checks live snapshots with
     * @param maxAge   a cached snapshot issued longer ago than this is refused (positive)
     * @param clock    for the age
     */
    public LastKnownGood(Path file, SnapshotVerifier verifier, Duration maxAge, Clock clock) {
        this.file = requireNonNull(file, "file").toAbsolutePath();
        this.verifier = requireNonNull(verifier, "verifier");
        this.maxAge = requireNonNull(maxAge, "maxAge");
        this.clock = requireNonNull(clock, "clock");
        if (this.file.getParent() == null) {
            throw new IllegalArgumentException("last-known-good file " + file + " has no directory");
        }
        if (maxAge.isNegative() || maxAge.isZero()) {
            throw new IllegalArgumentException("maximum age of a last-known-good snapshot must be positive: " + maxAge);
        }
        this.floorFile = this.file.resolveSibling(this.file.getFileName() + ".floor");
    }

    public Path file() {
        return file;
    }

    /** The version floor's file, beside {@link #file()}. */
    public Path floorFile() {
        return floorFile;
    }

    /**
     * Replaces the stored snapshot with {@code jws}, the text of a snapshot just verified and applied, then the
     * version floor with its {@code version}.
     *
     * @throws UncheckedIOException when a file cannot be written; the snapshot file is then the previous one or
     *                              the new one, and the floor not above the stored version
     */
    public void store(String jws, long version) {
        requireNonNull(jws, "jws");
        if (version < 0) {
            throw new IllegalArgumentException("version must not be negative: " + version);
        }
        try {
            AtomicFiles.write(file, jws.getBytes(StandardCharsets.US_ASCII), AtomicFiles.OWNER_ONLY);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write last-known-good snapshot " + file, e);
        }
        try {
            AtomicFiles.write(floorFile, (version + "\n").getBytes(StandardCharsets.US_ASCII), AtomicFiles.OWNER_ONLY);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the version floor " + floorFile, e);
        }
    }

    /**
     * Reads and verifies the stored snapshot, then checks it against the version floor and the maximum age.
     *
     * @return empty when there is no snapshot file (never stored)
     * @throws SnapshotException when the file is refused (too large, not text, any verifier refusal, below the
     *                           floor or without one, too old)
     * @throws UncheckedIOException when the file exists but cannot be read
     */
    public Optional<WorkloadSnapshot> load() {
        return loadVerified().map(VerifiedSnapshot::snapshot);
    }

    /** {@link #load()} with the policies as the verifier parsed them, for the sidecar to compile. */
    public Optional<VerifiedSnapshot> loadVerified() {
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
        VerifiedSnapshot verified;
        try {
            verified = verifier.verifyAndParse(jws);
        } catch (SnapshotException e) {
            throw refused(e);
        }
        WorkloadSnapshot snapshot = verified.snapshot();
        OptionalLong floor;
        try {
            floor = readFloor();
        } catch (IOException e) {
            throw refused(new SnapshotException(SnapshotException.Reason.NO_FLOOR,
                    "cannot read the version floor " + floorFile + ": " + e));
        }
        Optional<LastKnownGoodCheck.Refusal> refusal = LastKnownGoodCheck.refusal(snapshot.versionNumber(),
                snapshot.issuedAt(), floor, clock.instant(), maxAge);
        if (refusal.isPresent()) {
            throw refused(new SnapshotException(refusal.get().reason(), refusal.get().detail()));
        }
        log.info("last-known-good snapshot {} for {} loaded from {}", snapshot.version(), snapshot.workload(), file);
        return Optional.of(verified);
    }

    /** The floor; empty when the file is missing or does not hold a version (both are refusals). */
    private OptionalLong readFloor() throws IOException {
        byte[] bytes;
        try {
            if (Files.size(floorFile) > MAX_FLOOR_LENGTH) {
                return OptionalLong.empty();
            }
            bytes = Files.readAllBytes(floorFile);
        } catch (NoSuchFileException e) {
            return OptionalLong.empty();
        }
        String text = new String(bytes, StandardCharsets.US_ASCII).strip();
        try {
            return OptionalLong.of(WorkloadSnapshot.parseVersion(text));
        } catch (IllegalArgumentException e) {
            return OptionalLong.empty();
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
