package dev.outrider.controlplane.cli;

import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import dev.outrider.controlplane.signing.SigningKey;
import dev.outrider.controlplane.testing.ApiClient;
import dev.outrider.controlplane.testing.ControlPlaneProcess;
import dev.outrider.controlplane.testing.TestMesh;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code outrider control-plane snapshot-keys}: the public JWK Set of a signing key, without a server. */
class SnapshotKeysCommandTest {
    @TempDir
    Path dir;

    private record Run(int exit, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = ControlPlaneMain.commandLine(args).setOut(new PrintWriter(out)).setErr(new PrintWriter(err))
                .execute(ControlPlaneMain.tail(args));
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void generatesTheKeyOwnerOnlyAndPrintsOnlyItsPublicPart() throws Exception {
        Path key = dir.resolve("signing-key.pem");

        Run r = run("snapshot-keys", "--signing-key", key.toString(), "--generate");

        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(Files.getPosixFilePermissions(key)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        JWKSet set = JWKSet.parse(r.out());
        assertThat(set.getKeys()).hasSize(1);
        ECKey jwk = (ECKey) set.getKeys().getFirst();
        assertThat(jwk.isPrivate()).isFalse();
        assertThat(r.out()).doesNotContain("\"d\"");
        assertThat(jwk.getKeyID()).isEqualTo(SigningKey.load(key).keyId());
        // Run again: the same key, the same set.
        assertThat(run("snapshot-keys", "--signing-key", key.toString(), "--generate").out()).isEqualTo(r.out());
    }

    @Test
    void theRotationSetHoldsTheNewKeyAndTheOldOnes() throws Exception {
        Path oldKey = dir.resolve("old.pem");
        Path newKey = dir.resolve("new.pem");
        Path oldSet = dir.resolve("old-keys.json");
        assertThat(run("snapshot-keys", "--signing-key", oldKey.toString(), "--generate", "--out", oldSet.toString())
                .exit()).isZero();

        Run both = run("snapshot-keys", "--signing-key", newKey.toString(), "--generate", "--also", oldSet.toString(),
                "--also", oldSet.toString());

        assertThat(both.exit()).as(both.err()).isZero();
        assertThat(JWKSet.parse(both.out()).getKeys()).extracting(k -> k.getKeyID()).as("each kid once")
                .containsExactly(SigningKey.load(newKey).keyId(), SigningKey.load(oldKey).keyId());
        assertThat(both.out()).doesNotContain("\"d\"");

        Path privateSet = Files.writeString(dir.resolve("private.json"),
                SigningKey.load(oldKey).publicKeys().toString(true).replace("\"kty\"", "\"d\":\"AAAA\",\"kty\""));
        Run refused = run("snapshot-keys", "--signing-key", newKey.toString(), "--also", privateSet.toString());
        assertThat(refused.exit()).isEqualTo(2);
        Run missing = run("snapshot-keys", "--signing-key", newKey.toString(), "--also", dir.resolve("none").toString());
        assertThat(missing.exit()).isEqualTo(2);
        assertThat(missing.err()).contains("--also " + dir.resolve("none") + ": not a readable JWK Set");
    }

    @Test
    void writesTheSetToAFile() throws Exception {
        Path key = dir.resolve("signing-key.pem");
        SigningKey.loadOrGenerate(key);
        Path out = dir.resolve("mesh/snapshot-keys.json");

        Run r = run("snapshot-keys", "--signing-key", key.toString(), "--out", out.toString());

        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).isEmpty();
        assertThat(Files.readAllBytes(out)).isEqualTo(SigningKey.load(key).publicKeysJson());
        assertThat(Files.getPosixFilePermissions(out)).isEqualTo(PosixFilePermissions.fromString("rw-r--r--"));
    }

    @Test
    void aMissingOrUnusableKeyIsAUsageError() throws Exception {
        Path missing = dir.resolve("nope.pem");
        Run r = run("snapshot-keys", "--signing-key", missing.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--signing-key " + missing + ": no such file (--generate creates it)");
        assertThat(missing).doesNotExist();

        Path garbage = Files.writeString(dir.resolve("garbage.pem"), "not a key\n");
        Run bad = run("snapshot-keys", "--signing-key", garbage.toString());
        assertThat(bad.exit()).isEqualTo(2);
        assertThat(bad.err()).contains("signing key " + garbage);

        Run noOption = run("snapshot-keys");
        assertThat(noOption.exit()).isEqualTo(2);
        assertThat(noOption.err()).contains("Missing required option: '--signing-key=FILE'");
    }

    @Test
    void theServerKeepsItsRequiredOptions() {
        Run r = run("--listen", "127.0.0.1:0");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("Missing required options");
    }

    /** A control plane given the same key serves the same set: what installers put in place matches. */
    @Test
    void aControlPlaneWithTheKeyServesTheSameSet() throws Exception {
        TestMesh mesh = TestMesh.create(dir.resolve("ca"));
        Path key = dir.resolve("signing-key.pem");
        Run printed = run("snapshot-keys", "--signing-key", key.toString(), "--generate");
        assertThat(printed.exit()).as(printed.err()).isZero();

        try (ControlPlaneProcess cp = ControlPlaneProcess.start(dir.resolve("cp.log"), List.of("--listen",
                "127.0.0.1:0", "--data-dir", dir.resolve("data").toString(), "--ca-cert", mesh.caCertFile().toString(),
                "--ca-key", mesh.caKeyFile().toString(), "--signing-key", key.toString()))) {
            String served = ApiClient.of(mesh.trusting(), cp.address()).get("/v1/snapshot-keys").body();
            assertThat(JWKSet.parse(served).toString()).isEqualTo(JWKSet.parse(printed.out()).toString());
            assertThat(Files.readString(dir.resolve("data/snapshot-keys.json")).strip()).isEqualTo(printed.out().strip());
        }
    }
}
