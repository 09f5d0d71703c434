package dev.outrider.controlplane.signing;

import com.nimbusds.jose.jwk.JWKSet;
import dev.outrider.core.model.SpiffeId;
import dev.outrider.core.snapshot.SnapshotVerifier;
import dev.outrider.core.snapshot.WorkloadSnapshot;
import dev.outrider.controlplane.testing.TestMesh;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.sec.ECPrivateKey;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SigningKeyTest {
    private static final SpiffeId ORDERS = SpiffeId.parse("spiffe://cluster.local/ns/shop/sa/orders");

    @TempDir
    Path dir;

    @Test
    void generatedOnceOwnerOnlyAndLoadedWithTheSameKid() throws Exception {
        Path file = dir.resolve("keys/signing-key.pem");

        SigningKey generated = SigningKey.loadOrGenerate(file);

        assertThat(Files.getPosixFilePermissions(file)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(pkcs8(Files.readString(file))).as("PKCS#8").isNotNull();
        assertThat(dir.resolve("keys")).isDirectoryNotContaining("glob:**.tmp");
        SigningKey loaded = SigningKey.loadOrGenerate(file);
        assertThat(loaded.keyId()).isEqualTo(generated.keyId()).hasSize(43); // base64url SHA-256 thumbprint
        assertThat(loaded.toString()).isEqualTo("SigningKey[kid=" + loaded.keyId() + "]");
    }

    @Test
    void publicKeysVerifyWhatTheSignerSigns() throws Exception {
        SigningKey key = SigningKey.loadOrGenerate(dir.resolve("signing-key.pem"));
        Path keysFile = dir.resolve("snapshot-keys.json");
        key.writePublicKeys(keysFile);

        JWKSet published = JWKSet.parse(Files.readString(keysFile));
        assertThat(published.getKeys()).singleElement().satisfies(k -> {
            assertThat(k.isPrivate()).isFalse();
            assertThat(k.getKeyID()).isEqualTo(key.keyId());
        });
        assertThat(Files.readString(keysFile)).doesNotContain("\"d\"");
        assertThat(Files.getPosixFilePermissions(keysFile)).isEqualTo(PosixFilePermissions.fromString("rw-r--r--"));

        String jws = key.signer().sign(new WorkloadSnapshot("7", ORDERS, Instant.parse("2026-01-01T00:00:00Z"), "",
                List.of()));
        assertThat(new SnapshotVerifier(published, ORDERS).verify(jws).version()).isEqualTo("7");
    }

    @Test
    void boringSslSignsWhereItsLibraryLoadsAndTheJdkVerifies() throws Exception {
        String arch = System.getProperty("os.arch");
        org.junit.jupiter.api.Assumptions.assumeTrue(System.getProperty("os.name").equals("Linux")
                && (arch.equals("amd64") || arch.equals("aarch64")), "Conscrypt ships Linux x86-64 and AArch64 libraries");
        assertThat(EcdsaProvider.name()).isEqualTo("Conscrypt");
        SigningKey key = SigningKey.loadOrGenerate(dir.resolve("signing-key.pem"));
        Path keysFile = dir.resolve("snapshot-keys.json");
        key.writePublicKeys(keysFile);
        SnapshotVerifier verifier = new SnapshotVerifier(JWKSet.parse(Files.readString(keysFile)), ORDERS);
        for (int i = 0; i < 20; i++) { // ECDSA's random k: a different signature each time, each valid
            String jws = key.signer().sign(new WorkloadSnapshot(Integer.toString(i), ORDERS,
                    Instant.parse("2026-01-01T00:00:00Z"), "", List.of()));
            assertThat(verifier.verify(jws).versionNumber()).isEqualTo(i);
        }
    }

    @Test
    void loadsSec1KeysWithoutTheOptionalPublicPart() throws Exception {
        var keys = TestMesh.ec();
        PrivateKeyInfo info = PrivateKeyInfo.getInstance(keys.getPrivate().getEncoded());
        var d = ECPrivateKey.getInstance(info.parsePrivateKey()).getKey();
        var sec1 = new ECPrivateKey(256, d, info.getPrivateKeyAlgorithm().getParameters());
        Path file = Files.writeString(dir.resolve("sec1.pem"), pem("EC PRIVATE KEY", sec1.getEncoded()));

        SigningKey fromSec1 = SigningKey.load(file);
        SigningKey fromPkcs8 = SigningKey.load(Files.writeString(dir.resolve("p8.pem"), TestMesh.pkcs8(keys.getPrivate())));

        assertThat(fromSec1.keyId()).isEqualTo(fromPkcs8.keyId());
        assertThat(fromSec1.publicKeys().getKeys().getFirst().toECKey().toECPublicKey()).isEqualTo(keys.getPublic());
    }

    @Test
    void refusesOtherCurvesAndNonKeys() throws Exception {
        KeyPairGenerator p384 = KeyPairGenerator.getInstance("EC");
        p384.initialize(new ECGenParameterSpec("secp384r1"));
        Path wrongCurve = Files.writeString(dir.resolve("p384.pem"), TestMesh.pkcs8(p384.generateKeyPair().getPrivate()));
        Path notAKey = Files.writeString(dir.resolve("cert.pem"), "not pem at all\n");

        assertThatThrownBy(() -> SigningKey.load(wrongCurve)).isInstanceOf(IOException.class)
                .hasMessage("signing key " + wrongCurve + " must be an EC P-256 key (ES256), not EC");
        assertThatThrownBy(() -> SigningKey.load(notAKey)).isInstanceOf(IOException.class)
                .hasMessage("signing key " + notAKey + ": no PEM private key found");
    }

    private static String pem(String type, byte[] der) throws IOException {
        StringWriter out = new StringWriter();
        try (PemWriter writer = new PemWriter(out)) {
            writer.writeObject(new PemObject(type, der));
        }
        return out.toString();
    }

    /** The key in a PEM file, decoded as PKCS#8 by the JDK (a SEC1 or PKCS#1 body would not decode). */
    private static java.security.PrivateKey pkcs8(String pem) throws Exception {
        byte[] der = java.util.Base64.getMimeDecoder().decode(pem.replaceAll("-----[A-Z ]+-----", ""));
        return java.security.KeyFactory.getInstance("EC").generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(der));
    }
}
