package dev.outrider.control.snapshot;

import com.nimbusds.jose.jwk.ECKey;
import dev.outrider.control.snapshot.SnapshotException.Reason;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static dev.outrider.control.snapshot.Snapshots.KID;
import static dev.outrider.control.snapshot.Snapshots.ORDERS;
import static dev.outrider.control.snapshot.Snapshots.PAYMENTS;
import static dev.outrider.control.snapshot.Snapshots.snapshot;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class LastKnownGoodTest {
    private static final ECKey KEY = Snapshots.newKey(KID);
    private static final SnapshotSigner SIGNER = SnapshotSigner.of(KEY);

    @TempDir
    Path dir;

    private LastKnownGood lastKnownGood() {
        return new LastKnownGood(dir.resolve("snapshot.jws"), Snapshots.verifierFor(KEY, ORDERS));
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

        lkg.store(SIGNER.sign(snapshot));

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
            lkg.store(last);
        }

        assertThat(lkg.load()).map(WorkloadSnapshot::version).contains("5");
        assertThat(Files.readString(lkg.file())).isEqualTo(last);
        try (Stream<Path> files = filesInDir()) {
            assertThat(files).containsExactly(lkg.file());
        }
    }

    @Test
    void failedWriteKeepsNoTemporaryFile() throws IOException {
        // The target is a non-empty directory: the rename fails after the temporary file was written.
        Path target = Files.createDirectory(dir.resolve("snapshot.jws"));
        Files.writeString(target.resolve("occupied"), "x");
        LastKnownGood lkg = lastKnownGood();

        assertThatThrownBy(() -> lkg.store(SIGNER.sign(snapshot("1"))))
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
}
