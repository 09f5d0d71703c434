package dev.outrider.core.snapshot;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;

import java.security.Provider;
import java.security.interfaces.ECPrivateKey;

import static java.util.Objects.requireNonNull;

/**
 * Signs {@link WorkloadSnapshot}s for the control plane: JWS compact serialization (RFC 7515 §7.1), header
 * {@code {"alg":"ES256","kid":<key id>,"typ":"outrider-snapshot+jws"}}, payload the snapshot's JSON
 * ({@link SnapshotJson}, fields in a fixed order). ES256 is ECDSA on P-256 with SHA-256 (RFC 7518 §3.4).
 *
 * <p>Thread-safe: Nimbus's {@link ECDSASigner} keeps no state between signatures. The private key is never
 * logged, nor part of any message.
 */
public final class SnapshotSigner {
    /** The {@code typ} header of a snapshot JWS: a snapshot is not a JWT and no JWT verifier should take it. */
    public static final JOSEObjectType TYPE = new JOSEObjectType("outrider-snapshot+jws");

    private final ECDSASigner signer;
    private final JWSHeader header;

    /**
     * @param privateKey an EC private key on P-256
     * @param keyId      the {@code kid} sidecars find the public key by in their trusted JWK Set
     * @throws IllegalArgumentException when the key is not on P-256 or the key id is blank
     */
    public SnapshotSigner(ECPrivateKey privateKey, String keyId) {
        this(privateKey, keyId, null);
    }

    /**
     * As above, with ECDSA computed by {@code provider} (e.g. the control plane's BoringSSL-backed one), or by the
     * JDK's when null.
     */
    public SnapshotSigner(ECPrivateKey privateKey, String keyId, Provider provider) {
        requireNonNull(privateKey, "privateKey");
        requireNonNull(keyId, "keyId");
        if (!Curve.P_256.equals(Curve.forECParameterSpec(privateKey.getParams()))) {
            throw new IllegalArgumentException("snapshot signing key must be on curve P-256 (ES256)");
        }
        if (keyId.isBlank()) {
            throw new IllegalArgumentException("snapshot signing key id must not be blank");
        }
        try {
            this.signer = new ECDSASigner(privateKey);
            if (provider != null) {
                this.signer.getJCAContext().setProvider(provider);
            }
        } catch (JOSEException e) {
            throw new IllegalArgumentException("unusable snapshot signing key: " + e.getMessage(), e);
        }
        this.header = new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(keyId).type(TYPE).build();
    }

    /** A signer for a Nimbus {@link ECKey} with its private part and its {@code kid}. */
    public static SnapshotSigner of(ECKey key) {
        return of(key, null);
    }

    /** As {@link #of(ECKey)}, with ECDSA computed by {@code provider} (the JDK's when null). */
    public static SnapshotSigner of(ECKey key, Provider provider) {
        requireNonNull(key, "key");
        if (!key.isPrivate()) {
            throw new IllegalArgumentException("snapshot signing JWK has no private part");
        }
        if (key.getKeyID() == null) {
            throw new IllegalArgumentException("snapshot signing JWK has no kid");
        }
        try {
            return new SnapshotSigner(key.toECPrivateKey(), key.getKeyID(), provider);
        } catch (JOSEException e) {
            throw new IllegalArgumentException("unusable snapshot signing JWK: " + e.getMessage(), e);
        }
    }

    /** The key id this signer writes into every header. */
    public String keyId() {
        return header.getKeyID();
    }

    /** Signs {@code snapshot}; returns {@code header.payload.signature} in base64url. */
    public String sign(WorkloadSnapshot snapshot) {
        requireNonNull(snapshot, "snapshot");
        JWSObject jws = new JWSObject(header, new Payload(SnapshotJson.write(snapshot)));
        try {
            jws.sign(signer);
        } catch (JOSEException e) {
            throw new IllegalStateException("signing snapshot " + snapshot.version() + " failed", e);
        }
        return jws.serialize();
    }
}
