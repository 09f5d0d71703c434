package dev.outrider.core.snapshot;

import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static dev.outrider.core.snapshot.Snapshots.ORDERS;
import static dev.outrider.core.snapshot.Snapshots.snapshot;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * Rotating the control plane's snapshot-signing key without restarting sidecars: the trusted keys are a JWK Set
 * file the verifier reads again when it changes. Publish the new key first, then sign with it, then retire the
 * old one (docs/control-plane.md, "Rotating the snapshot-signing key").
 */
class SnapshotKeyRotationTest {
    private static final ECKey OLD = Snapshots.newKey("cp-old");
    private static final ECKey NEW = Snapshots.newKey("cp-new");

    @TempDir
    Path dir;

    private Path keys(ECKey... keys) throws Exception {
        Path file = dir.resolve("snapshot-keys.json");
        Files.writeString(file, new JWKSet(List.of(keys)).toPublicJWKSet().toString());
        return file;
    }

    private static String signedBy(ECKey key, String version) {
        return SnapshotSigner.of(key).sign(snapshot(version));
    }

    @Test
    void publishThenSignThenRetireWithoutARestart() throws Exception {
        Path file = keys(OLD);
        SnapshotVerifier verifier = SnapshotVerifier.fromFile(file, ORDERS);
        assertThat(verifier.verify(signedBy(OLD, "1")).version()).isEqualTo("1");
        assertThat(catchThrowableOfType(SnapshotException.class, () -> verifier.verify(signedBy(NEW, "2"))))
                .as("not yet published").isNotNull();

        keys(OLD, NEW); // 1. publish the new key next to the old
        assertThat(verifier.verify(signedBy(OLD, "2")).version()).isEqualTo("2");
        assertThat(verifier.verify(signedBy(NEW, "3")).version()).as("2. the control plane signs with the new key")
                .isEqualTo("3");

        String oldFive = signedBy(OLD, "5");
        assertThat(verifier.verify(oldFive).version()).isEqualTo("5");
        keys(NEW); // 3. retire the old key
        SnapshotException again = catchThrowableOfType(SnapshotException.class, () -> verifier.verify(oldFive));
        assertThat(again).as("the text accepted last, signed with the key now retired").isNotNull();
        assertThat(again.getMessage()).contains("cp-old");
        assertThat(verifier.verify(signedBy(NEW, "6")).version()).isEqualTo("6");
        SnapshotException retired = catchThrowableOfType(SnapshotException.class,
                () -> verifier.verify(signedBy(OLD, "7")));
        assertThat(retired).as("a snapshot signed with the retired key").isNotNull();
        assertThat(retired.getMessage()).contains("cp-old");
    }

    @Test
    void aKeyFileThatCannotBeUsedLeavesTheKeysInUse() throws Exception {
        Path file = keys(OLD);
        SnapshotVerifier verifier = SnapshotVerifier.fromFile(file, ORDERS);

        Files.writeString(file, "{\"keys\": [");                             // half-written
        assertThat(verifier.verify(signedBy(OLD, "1")).version()).isEqualTo("1");
        Files.writeString(file, new JWKSet(List.of(NEW)).toString(false));    // a private key: refused
        assertThat(verifier.verify(signedBy(OLD, "2")).version()).isEqualTo("2");
        Files.delete(file);                                                   // gone
        assertThat(verifier.verify(signedBy(OLD, "3")).version()).isEqualTo("3");

        keys(NEW);
        assertThat(verifier.verify(signedBy(NEW, "4")).version()).isEqualTo("4");
    }

    @Test
    void aKeyFileUnusableAtStartIsRefusedNamingIt() throws Exception {
        Path file = Files.writeString(dir.resolve("bad.json"), "not json");
        assertThatThrownBy(() -> SnapshotVerifier.fromFile(file, ORDERS))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(file + " is not a JWK Set");
    }
}
