package dev.outrider.core.snapshot;

import com.nimbusds.jose.jwk.ECKey;
import dev.outrider.core.snapshot.SnapshotException.Reason;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.stream.Stream;

import static dev.outrider.core.snapshot.Snapshots.KID;
import static dev.outrider.core.snapshot.Snapshots.ORDERS;
import static dev.outrider.core.snapshot.Snapshots.PAYMENTS;
import static dev.outrider.core.snapshot.Snapshots.snapshot;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class LastKnownGoodTest {
    private static final ECKey KEY = Snapshots.newKey(KID);
    private static final SnapshotSigner SIGNER = SnapshotSigner.of(KEY);

    @TempDir
    Path dir;

    /** Test snapshots are issued at this time ({@link Snapshots#snapshot}). */
    private static final Instant ISSUED_AT = snapshot("1").issuedAt();

    private LastKnownGood lastKnownGood() {
        return lastKnownGoodAt(ISSUED_AT.plus(Duration.ofHours(1)));
    }

    private LastKnownGood lastKnownGoodAt(Instant now) {
        return new LastKnownGood(dir.resolve("snapshot.jws"), Snapshots.verifierFor(KEY, ORDERS),
                LastKnownGood.DEFAULT_MAX_AGE, Clock.fixed(now, ZoneOffset.UTC));
    }

    private void store(LastKnownGood lkg, String version) {
        lkg.store(SIGNER.sign(snapshot(version)), Long.parseLong(version));
    }

    private SnapshotException refusalAfterWriting(String content) throws IOException {
        LastKnownGood lkg = lastKnownGood();
        Files.writeString(lkg.file(), content, StandardCharsets.ISO_8859_1);
        return catchThrowableOfType(SnapshotException.class, lkg::load);
    }

    private Stream<Path> filesInDir() throws IOException {
        return Files.list(dir);
    }

    @Test
    void missingFileIsNone() {
        assertThat(lastKnownGood().load()).isEmpty();
    }

    @Test
    void storedSnapshotLoadsVerified() {
        WorkloadSnapshot snapshot = snapshot("12");
        LastKnownGood lkg = lastKnownGood();

        lkg.store(SIGNER.sign(snapshot), 12);

        assertThat(lkg.load()).contains(snapshot);
        // A sidecar restarted with a new LastKnownGood (same file) reads the same snapshot.
        assertThat(lastKnownGood().load()).contains(snapshot);
    }

    @Test
    void storeReplacesThePreviousSnapshotAndLeavesNoTemporaryFile() throws IOException {
        LastKnownGood lkg = lastKnownGood();
        String last = null;
        for (int v = 1; v <= 5; v++) {
            last = SIGNER.sign(snapshot(Integer.toString(v)));
            lkg.store(last, v);
        }

        assertThat(lkg.load()).map(WorkloadSnapshot::version).contains("5");
        assertThat(Files.readString(lkg.file())).isEqualTo(last);
        assertThat(Files.readString(lkg.floorFile())).isEqualTo("5\n");
        try (Stream<Path> files = filesInDir()) {
            assertThat(files).containsExactlyInAnyOrder(lkg.file(), lkg.floorFile());
        }
        assertThat(Files.getPosixFilePermissions(lkg.floorFile()))
                .isEqualTo(PosixFilePermissions.fromString("rw-------"));
    }

    @Test
    void failedWriteKeepsNoTemporaryFile() throws IOException {
        // The target is a non-empty directory: the rename fails after the temporary file was written.
        Path target = Files.createDirectory(dir.resolve("snapshot.jws"));
        Files.writeString(target.resolve("occupied"), "x");
        LastKnownGood lkg = lastKnownGood();

        assertThatThrownBy(() -> lkg.store(SIGNER.sign(snapshot("1")), 1))
                .isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining("cannot write last-known-good snapshot");
        try (Stream<Path> files = filesInDir()) {
            assertThat(files).containsExactly(target);
        }
    }

    @Test
    void payloadByteFlippedOnDiskIsRefused() throws IOException {
        String jws = SIGNER.sign(snapshot("3"));
        int index = (jws.indexOf('.') + jws.lastIndexOf('.')) / 2;

        SnapshotException e = refusalAfterWriting(Snapshots.flip(jws, index));
        assertThat(e.reason()).isEqualTo(Reason.BAD_SIGNATURE);
        assertThat(e).hasMessageContaining("last-known-good file " + dir.resolve("snapshot.jws"));
    }

    @Test
    void signatureByteFlippedOnDiskIsRefused() throws IOException {
        String jws = SIGNER.sign(snapshot("3"));

        assertThat(refusalAfterWriting(Snapshots.flip(jws, jws.lastIndexOf('.') + 10)).reason())
                .isEqualTo(Reason.BAD_SIGNATURE);
    }

    @Test
    void truncatedFileIsRefused() throws IOException {
        String jws = SIGNER.sign(snapshot("3"));

        // Cut inside the signature (a crash of a non-atomic writer), and inside the payload.
        assertThat(refusalAfterWriting(jws.substring(0, jws.length() - 20)).reason()).isEqualTo(Reason.BAD_SIGNATURE);
        assertThat(refusalAfterWriting(jws.substring(0, jws.length() / 2)).reason()).isEqualTo(Reason.BAD_FORMAT);
        assertThat(refusalAfterWriting("").reason()).isEqualTo(Reason.BAD_FORMAT);
    }

    @Test
    void nonAsciiFileIsRefused() throws IOException {
        String jws = SIGNER.sign(snapshot("3"));

        SnapshotException e = refusalAfterWriting(jws.substring(0, 10) + "\u00e9" + jws.substring(11));
        assertThat(e.reason()).isEqualTo(Reason.BAD_FORMAT);
        assertThat(e).hasMessageContaining("not ASCII text");
    }

    @Test
    void fileOfAnotherWorkloadIsRefused() throws IOException {
        // Validly signed, but copied from the payments sidecar's volume.
        SnapshotException e = refusalAfterWriting(SIGNER.sign(snapshot("3", PAYMENTS)));

        assertThat(e.reason()).isEqualTo(Reason.WRONG_WORKLOAD);
    }

    @Test
    void fileSignedWithAKeyNoLongerTrustedIsRefused() throws IOException {
        String signedWithOldKey = SnapshotSigner.of(Snapshots.newKey("cp-0")).sign(snapshot("3"));

        assertThat(refusalAfterWriting(signedWithOldKey).reason()).isEqualTo(Reason.UNKNOWN_KEY);
    }

    @Test
    void refusalMessageCarriesNoPayload() throws IOException {
        String jws = SIGNER.sign(snapshot("3"));
        SnapshotException e = refusalAfterWriting(Snapshots.flip(jws, (jws.indexOf('.') + jws.lastIndexOf('.')) / 2));

        assertThat(e.getMessage()).doesNotContain(jws.split("\\.")[1].substring(0, 16)).doesNotContain("AuthorizationPolicy");
    }

    @Test
    void anOlderSignedSnapshotCopiedOverTheFileIsRefused() throws IOException {
        LastKnownGood lkg = lastKnownGood();
        String v3 = SIGNER.sign(snapshot("3"));
        lkg.store(v3, 3);
        store(lkg, "5");

        Files.writeString(lkg.file(), v3); // the attacker keeps a copy of an older, genuinely signed file

        SnapshotException e = catchThrowableOfType(SnapshotException.class, lastKnownGood()::load);
        assertThat(e.reason()).isEqualTo(Reason.BELOW_FLOOR);
        assertThat(e).hasMessageContaining("snapshot 3 is older than the version floor 5")
                .hasMessageContaining("last-known-good file " + lkg.file());
    }

    @Test
    void aFloorBelowTheFileIsAccepted() throws IOException {
        // A crash between writing the snapshot and writing its floor leaves the floor behind: still safe.
        LastKnownGood lkg = lastKnownGood();
        store(lkg, "5");
        Files.writeString(lkg.floorFile(), "4\n");

        assertThat(lastKnownGood().load()).map(WorkloadSnapshot::version).contains("5");
    }

    @Test
    void aFileWithoutItsFloorIsRefused() throws IOException {
        LastKnownGood lkg = lastKnownGood();
        store(lkg, "5");
        Files.delete(lkg.floorFile());

        SnapshotException e = catchThrowableOfType(SnapshotException.class, lastKnownGood()::load);
        assertThat(e.reason()).isEqualTo(Reason.NO_FLOOR);
        assertThat(e).hasMessageContaining("no usable version floor");
    }

    @Test
    void aFloorThatIsNotAVersionIsRefused() throws IOException {
        LastKnownGood lkg = lastKnownGood();
        for (String floor : new String[] {"", "-1\n", "05", "five", "9".repeat(100)}) {
            store(lkg, "5");
            Files.writeString(lkg.floorFile(), floor);

            assertThat(catchThrowableOfType(SnapshotException.class, lastKnownGood()::load).reason())
                    .as("floor '%s'", floor).isEqualTo(Reason.NO_FLOOR);
        }
    }

    @Test
    void aSnapshotIssuedLongerAgoThanTheMaximumAgeIsRefused() {
        store(lastKnownGood(), "5");

        assertThat(lastKnownGoodAt(ISSUED_AT.plus(LastKnownGood.DEFAULT_MAX_AGE)).load()).isPresent();
        SnapshotException e = catchThrowableOfType(SnapshotException.class,
                lastKnownGoodAt(ISSUED_AT.plus(Duration.ofDays(8)))::load);
        assertThat(e.reason()).isEqualTo(Reason.TOO_OLD);
        assertThat(e).hasMessageContaining("192h ago").hasMessageContaining("168h, controlPlane.maxSnapshotAge");
    }

    @Test
    void theMaximumAgeMustBePositive() {
        assertThatThrownBy(() -> new LastKnownGood(dir.resolve("snapshot.jws"), Snapshots.verifierFor(KEY, ORDERS),
                Duration.ZERO, Clock.systemUTC())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("must be positive");
    }
}
