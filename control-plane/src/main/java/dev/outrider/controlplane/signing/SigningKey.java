package dev.outrider.controlplane.signing;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import dev.outrider.core.files.AtomicFiles;
import dev.outrider.core.pem.Pem;
import dev.outrider.core.snapshot.SnapshotSigner;
import org.bouncycastle.asn1.x9.ECNamedCurveTable;
import org.bouncycastle.asn1.x9.X9ECParameters;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * The key that signs workload snapshots (ES256): an EC P-256 private key in a PEM file (PKCS#8
 * {@code PRIVATE KEY} as generated here, or SEC1 {@code EC PRIVATE KEY}), generated on first start when the
 * file does not exist (mode 0600). Its {@code kid} is the RFC 7638 thumbprint of the public key, so the same
 * key always has the same id and sidecars find it in {@code snapshot-keys.json}, the public JWK Set.
 *
 * <p>The public key is derived from the private scalar (Q = d·G, with BouncyCastle's curve arithmetic), so a
 * PKCS#8 file without the optional public part loads too. Immutable; never shows key material in
 * {@code toString} or messages.
 */
public final class SigningKey {
    private final ECKey jwk;

    private SigningKey(ECKey jwk) {
        this.jwk = jwk;
    }

    /** Loads {@code file}, or generates a new key into it (0600) when it does not exist. */
    public static SigningKey loadOrGenerate(Path file) throws IOException {
        requireNonNull(file, "file");
        if (Files.exists(file)) {
            return load(file);
        }
        ECPrivateKey key = generate();
        // PKCS#8 as the JDK encodes it (curve in the algorithm identifier).
        writeAtomically(file, Pem.pkcs8(key).getBytes(StandardCharsets.US_ASCII), AtomicFiles.OWNER_ONLY);
        return of(key);
    }

    public static SigningKey load(Path file) throws IOException {
        requireNonNull(file, "file");
        byte[] pem = Files.readAllBytes(file);
        PrivateKey key;
        try {
            key = Pem.privateKey(pem);
        } catch (IOException e) {
            throw new IOException("signing key " + file + ": " + e.getMessage(), e);
        }
        if (!(key instanceof ECPrivateKey ec) || !Curve.P_256.equals(Curve.forECParameterSpec(ec.getParams()))) {
            throw new IOException("signing key " + file + " must be an EC P-256 key (ES256), not "
                    + key.getAlgorithm());
        }
        return of(ec);
    }

    static SigningKey of(ECPrivateKey key) throws IOException {
        try {
            ECKey jwk = new ECKey.Builder(Curve.P_256, publicKey(key))
                    .privateKey(key)
                    .keyUse(KeyUse.SIGNATURE)
                    .algorithm(JWSAlgorithm.ES256)
                    .keyIDFromThumbprint()
                    .build();
            return new SigningKey(jwk);
        } catch (JOSEException | GeneralSecurityException e) {
            throw new IOException("unusable snapshot signing key: " + e.getMessage(), e);
        }
    }

    /** The signer for snapshots, with this key's {@code kid}; ECDSA by {@link EcdsaProvider}. */
    public SnapshotSigner signer() {
        return SnapshotSigner.of(jwk, EcdsaProvider.get());
    }

    public String keyId() {
        return jwk.getKeyID();
    }

    /** The public JWK Set sidecars trust ({@code controlPlane.snapshotKeys}); no private part. */
    public JWKSet publicKeys() {
        return new JWKSet(jwk.toPublicJWK());
    }

    /** {@link #publicKeys()} as JSON bytes. */
    public byte[] publicKeysJson() {
        return publicKeys().toString(true).getBytes(StandardCharsets.UTF_8);
    }

    /** Writes {@link #publicKeysJson()} to {@code file} atomically (0644: public keys). */
    public void writePublicKeys(Path file) throws IOException {
        writeAtomically(requireNonNull(file, "file"), publicKeysJson(), AtomicFiles.WORLD_READABLE);
    }

    private static void writeAtomically(Path file, byte[] content, Set<PosixFilePermission> permissions)
            throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        AtomicFiles.write(file, content, permissions);
    }

    private static ECPrivateKey generate() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            return (ECPrivateKey) generator.generateKeyPair().getPrivate();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every JDK generates P-256 keys", e);
        }
    }

    private static ECPublicKey publicKey(ECPrivateKey key) throws GeneralSecurityException {
        X9ECParameters curve = ECNamedCurveTable.getByName("P-256");
        var q = curve.getG().multiply(key.getS()).normalize();
        ECPoint w = new ECPoint(q.getAffineXCoord().toBigInteger(), q.getAffineYCoord().toBigInteger());
        return (ECPublicKey) KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(w, key.getParams()));
    }

    @Override
    public String toString() {
        return "SigningKey[kid=" + keyId() + "]";
    }
}
