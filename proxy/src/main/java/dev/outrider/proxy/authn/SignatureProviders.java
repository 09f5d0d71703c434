package dev.outrider.proxy.authn;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Provider;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;

/**
 * Which JCA provider runs ECDSA verification. Measured in bench/RESULTS.md ("JWT verification"): Conscrypt
 * (BoringSSL) verifies ES256 several times faster than BouncyCastle and the JDK. The provider is only
 * handed to Nimbus's {@code ECDSAVerifier}s through their JCA context; it is never installed globally, so
 * TLS and everything else keep their providers.
 *
 * <p>Fallback: if Conscrypt's native library does not load on this platform, or the provider fails a
 * self-test (a JDK-made P-256 signature must verify, and the same signature over other data must not),
 * {@link #ecdsa()} returns null, meaning the JDK's provider.
 */
public final class SignatureProviders {
    private static final Provider ECDSA = selfTested(conscrypt());

    private SignatureProviders() {
    }

    /** The preferred provider for ECDSA, or null for the JDK's. Decided once per JVM. */
    public static Provider ecdsa() {
        return ECDSA;
    }

    private static Provider conscrypt() {
        try {
            if (!org.conscrypt.Conscrypt.isAvailable()) {
                return null;
            }
            return org.conscrypt.Conscrypt.newProvider();
        } catch (Throwable e) { // LinkageError from the native library, or the class missing: JDK it is
            return null;
        }
    }

    static Provider selfTested(Provider candidate) {
        if (candidate == null) {
            return null;
        }
        try {
            KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
            gen.initialize(new ECGenParameterSpec("secp256r1"));
            KeyPair kp = gen.generateKeyPair();
            byte[] data = "outrider ecdsa self-test".getBytes(StandardCharsets.US_ASCII);
            Signature signer = Signature.getInstance("SHA256withECDSA");
            signer.initSign(kp.getPrivate());
            signer.update(data);
            byte[] sig = signer.sign();
            Signature good = Signature.getInstance("SHA256withECDSA", candidate);
            good.initVerify(kp.getPublic());
            good.update(data);
            Signature bad = Signature.getInstance("SHA256withECDSA", candidate);
            bad.initVerify(kp.getPublic());
            bad.update("outrider ecdsa self-tesT".getBytes(StandardCharsets.US_ASCII));
            return good.verify(sig) && !bad.verify(sig) ? candidate : null;
        } catch (Throwable e) {
            return null;
        }
    }
}
