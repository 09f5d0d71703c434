package dev.outrider.core.client;

import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMException;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.util.io.pem.PemObject;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/**
 * PEM in and out: certificates with the JDK's X.509 factory, keys and CSRs with BouncyCastle (which reads the
 * forms issuers write: PKCS#8 {@code PRIVATE KEY}, SEC1 {@code EC PRIVATE KEY}, PKCS#1 {@code RSA PRIVATE KEY}).
 * Encrypted keys are refused: a sidecar has nowhere safe to keep a passphrase. No method puts key material in an
 * exception message.
 */
final class Pem {
    private static final byte[] PROBE = "outrider key/certificate match".getBytes(StandardCharsets.US_ASCII);

    private Pem() {
    }

    /** Every certificate of {@code pem}, in order; at least one. */
    static List<X509Certificate> certificates(byte[] pem) throws CertificateException {
        List<X509Certificate> out = new ArrayList<>();
        for (var c : CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(pem))) {
            out.add((X509Certificate) c);
        }
        if (out.isEmpty()) {
            throw new CertificateException("no PEM certificate found");
        }
        return out;
    }

    static List<X509Certificate> certificates(String pem) throws CertificateException {
        return certificates(pem.getBytes(StandardCharsets.US_ASCII));
    }

    static PrivateKey privateKey(byte[] pem) throws IOException {
        try (PEMParser parser = new PEMParser(new StringReader(new String(pem, StandardCharsets.US_ASCII)))) {
            Object o = parser.readObject();
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            if (o instanceof PEMKeyPair pair) {
                return converter.getKeyPair(pair).getPrivate();
            }
            if (o instanceof PrivateKeyInfo info) {
                return converter.getPrivateKey(info);
            }
            if (o == null) {
                throw new IOException("no PEM private key found");
            }
            throw new IOException("unsupported PEM object (" + o.getClass().getSimpleName()
                    + "); expected an unencrypted PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY");
        } catch (PEMException e) {
            throw new IOException("not a readable PEM private key", e);
        }
    }

    /** {@code key} as PKCS#8 {@code PRIVATE KEY} PEM (what the JDK encodes a private key as). */
    static String pkcs8(PrivateKey key) {
        if (!"PKCS#8".equals(key.getFormat())) {
            throw new IllegalArgumentException("key format " + key.getFormat() + " is not PKCS#8");
        }
        return write(new PemObject("PRIVATE KEY", key.getEncoded()));
    }

    /** Any object BouncyCastle's PEM writer knows (certificates, CSRs, {@link PemObject}s). */
    static String write(Object object) {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            writer.writeObject(object);
        } catch (IOException e) {
            throw new UncheckedIOException("PEM encoding to memory failed", e);
        }
        return out.toString();
    }

    /** Whether {@code key} is the private half of {@code publicKey}: a probe signature made with one verifies with the other. */
    static boolean matches(PrivateKey key, PublicKey publicKey) {
        String algorithm = switch (key.getAlgorithm()) {
            case "EC" -> "SHA256withECDSA";
            case "RSA" -> "SHA256withRSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            default -> null;
        };
        if (algorithm == null) {
            return false;
        }
        try {
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(PROBE);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(publicKey);
            verifier.update(PROBE);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }
}
