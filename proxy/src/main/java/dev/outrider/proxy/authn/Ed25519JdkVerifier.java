package dev.outrider.proxy.authn;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.impl.CriticalHeaderParamsDeferral;
import com.nimbusds.jose.jca.JCAContext;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.util.Base64URL;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.SignatureException;
import java.security.spec.EdECPoint;
import java.security.spec.EdECPublicKeySpec;
import java.security.spec.NamedParameterSpec;
import java.util.Set;

/**
 * A Nimbus {@link JWSVerifier} for EdDSA over Ed25519 (RFC 8037 §3.1; {@code alg} {@code EdDSA} or the fully
 * specified {@code Ed25519}) that runs the signature check in the JDK's {@code Ed25519} {@link Signature}.
 *
 * <p>Why not Nimbus's own {@code Ed25519Verifier}: in Nimbus 10 it is built on Tink's {@code Ed25519Verify},
 * and Tink is an optional dependency of Nimbus that we do not ship. The JDK has had Ed25519 since 15
 * (JEP 339), so this class only adapts: it turns the JWK's {@code x} into a JDK public key and hands
 * the JWS signing input and signature to the JDK's {@code Signature}. No curve arithmetic happens here.
 *
 * <p>Thread-safe: the key is immutable and every call gets its own {@code Signature}.
 */
final class Ed25519JdkVerifier implements JWSVerifier {
    private static final Set<JWSAlgorithm> ALGORITHMS = Set.of(JWSAlgorithm.EdDSA, JWSAlgorithm.Ed25519);

    private final PublicKey key;
    private final JCAContext jcaContext = new JCAContext();
    // No deferred critical parameters: a token with any "crit" entry fails (RFC 7515 §4.1.11).
    private final CriticalHeaderParamsDeferral critPolicy = new CriticalHeaderParamsDeferral();

    Ed25519JdkVerifier(OctetKeyPair jwk) throws JOSEException {
        if (!Curve.Ed25519.equals(jwk.getCurve())) {
            throw new JOSEException("OKP key is not on Ed25519");
        }
        this.key = toPublicKey(jwk.getDecodedX());
    }

    /**
     * The JWK {@code x} member is the RFC 8032 §5.1.2 encoding of the public point: 32 octets, the
     * y-coordinate little-endian with the x-coordinate's parity in the top bit of the last octet. The JDK's
     * {@link EdECPoint} takes exactly those two pieces; the key factory and {@code Signature} do the rest.
     */
    static PublicKey toPublicKey(byte[] x) throws JOSEException {
        if (x.length != 32) {
            throw new JOSEException("Ed25519 public key must be 32 octets");
        }
        boolean xOdd = (x[31] & 0x80) != 0;
        byte[] yBigEndian = new byte[32];
        for (int i = 0; i < 32; i++) {
            yBigEndian[i] = x[31 - i];
        }
        yBigEndian[0] &= 0x7f;
        try {
            return KeyFactory.getInstance("Ed25519").generatePublic(
                    new EdECPublicKeySpec(NamedParameterSpec.ED25519, new EdECPoint(xOdd, new BigInteger(1, yBigEndian))));
        } catch (GeneralSecurityException e) {
            throw new JOSEException("Ed25519 public key rejected by the JDK", e);
        }
    }

    @Override
    public Set<JWSAlgorithm> supportedJWSAlgorithms() {
        return ALGORITHMS;
    }

    @Override
    public JCAContext getJCAContext() {
        return jcaContext;
    }

    @Override
    public boolean verify(JWSHeader header, byte[] signingInput, Base64URL signature) throws JOSEException {
        if (!ALGORITHMS.contains(header.getAlgorithm())) {
            throw new JOSEException("unsupported algorithm for an Ed25519 key");
        }
        if (!critPolicy.headerPasses(header)) {
            return false;
        }
        try {
            Signature verifier = jcaContext.getProvider() == null
                    ? Signature.getInstance("Ed25519")
                    : Signature.getInstance("Ed25519", jcaContext.getProvider());
            verifier.initVerify(key);
            verifier.update(signingInput);
            return verifier.verify(signature.decode());
        } catch (InvalidKeyException | SignatureException e) {
            return false;
        } catch (GeneralSecurityException e) {
            throw new JOSEException("Ed25519 is not available", e);
        }
    }
}
