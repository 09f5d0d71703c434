package dev.outrider.controlplane.signing;

import org.conscrypt.Conscrypt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Provider;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;

/**
 * Who computes the control plane's ES256 snapshot signatures: Conscrypt (BoringSSL) when its native library loads
 * and passes a sign-and-verify check, else the JDK. A write that reaches 100 workloads is signed 100 times on every
 * replica; Conscrypt's ECDSA is about 9x the JDK's pure-Java P-256 (bench/RESULTS.md "JWT verification"). The
 * signatures are the same standard ES256 either way: sidecars verify them with the JDK. (The sidecar itself does
 * not carry Conscrypt: it costs every pod classes, memory and start-up, and a sidecar verifies one snapshot per
 * change; the control plane runs a few replicas and signs for all.)
 */
public final class EcdsaProvider {
    private static final Logger log = LoggerFactory.getLogger(EcdsaProvider.class);
    private static final Provider PROVIDER = load();

    private EcdsaProvider() {
    }

    /** Conscrypt's provider, or null for the JDK's. */
    public static Provider get() {
        return PROVIDER;
    }

    /** Conscrypt's name, or "JDK": for logs and {@code /config}-style reports. */
    public static String name() {
        return PROVIDER == null ? "JDK" : PROVIDER.getName();
    }

    private static Provider load() {
        try {
            if (!Conscrypt.isAvailable()) {
                log.info("snapshot signatures: Conscrypt's native library is not available here; the JDK signs");
                return null;
            }
            Provider provider = Conscrypt.newProvider();
            check(provider);
            log.info("snapshot signatures: ECDSA by Conscrypt (BoringSSL)");
            return provider;
        } catch (GeneralSecurityException | RuntimeException | LinkageError e) {
            log.warn("snapshot signatures: Conscrypt unusable ({}); the JDK signs", e.toString());
            return null;
        }
    }

    /** Signs with {@code provider} and verifies with the JDK, on a throwaway key. */
    private static void check(Provider provider) throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair pair = generator.generateKeyPair();
        byte[] data = "outrider snapshot signature check".getBytes(StandardCharsets.US_ASCII);
        Signature sign = Signature.getInstance("SHA256withECDSA", provider);
        sign.initSign(pair.getPrivate());
        sign.update(data);
        byte[] signature = sign.sign();
        Signature verify = Signature.getInstance("SHA256withECDSA");
        verify.initVerify(pair.getPublic());
        verify.update(data);
        if (!verify.verify(signature)) {
            throw new GeneralSecurityException("a Conscrypt signature did not verify with the JDK");
        }
    }
}
