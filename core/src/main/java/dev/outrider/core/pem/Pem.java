package dev.outrider.core.pem;

import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMException;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
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
 * PEM in and out, the one home of every module (sidecar TLS files, the control-plane client, the CA, the snapshot
 * signing key): certificates with the JDK's X.509 factory, keys and CSRs with BouncyCastle's {@link PEMParser}
 * (which reads the forms issuers write: PKCS#8 {@code PRIVATE KEY}, SEC1 {@code EC PRIVATE KEY}, PKCS#1
 * {@code RSA PRIVATE KEY}). Encrypted keys are refused: neither a sidecar nor the control plane has anywhere safe
 * to keep a passphrase. No method puts key material in an exception message; callers add the file or field name.
 * Pure functions.
 */
public final class Pem {
    private static final byte[] PROBE = "outrider key/certificate match".getBytes(StandardCharsets.US_ASCII);

    private Pem() {
    }

    /** Every certificate of {@code pem}, in order; at least one, else "no PEM certificate found". */
    public static List<X509Certificate> certificates(byte[] pem) throws CertificateException {
        List<X509Certificate> out = new ArrayList<>();
        for (var c : CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(pem))) {
            out.add((X509Certificate) c);
        }
        if (out.isEmpty()) {
            throw new CertificateException("no PEM certificate found");
        }
        return out;
    }

    public static List<X509Certificate> certificates(String pem) throws CertificateException {
        return certificates(pem.getBytes(StandardCharsets.US_ASCII));
    }

    /**
     * The first PEM object of {@code pem} as an unencrypted private key. Messages: "no PEM private key found",
     * "unsupported PEM object X; expected ...", "not a readable PEM private key".
     */
    public static PrivateKey privateKey(byte[] pem) throws IOException {
        Object o = readObject(new String(pem, StandardCharsets.US_ASCII), "not a readable PEM private key");
        if (o == null) {
            throw new IOException("no PEM private key found");
        }
        JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
        try {
            if (o instanceof PEMKeyPair pair) {
                // Only the private part: a SEC1 key may leave out its (optional) public key.
                return converter.getPrivateKey(pair.getPrivateKeyInfo());
            }
            if (o instanceof PrivateKeyInfo info) {
                return converter.getPrivateKey(info);
            }
        } catch (PEMException e) {
            throw new IOException("not a readable PEM private key", e);
        }
        throw new IOException("unsupported PEM object " + o.getClass().getSimpleName()
                + "; expected an unencrypted PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY");
    }

    /**
     * The one CSR in {@code pem} (label {@code CERTIFICATE REQUEST} or {@code NEW CERTIFICATE REQUEST}). Messages:
     * "no PEM CERTIFICATE REQUEST found", "expected a PEM CERTIFICATE REQUEST, found X", "CSR is not readable PEM: ...".
     */
    public static PKCS10CertificationRequest csr(String pem) throws IOException {
        Object o;
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            o = parser.readObject();
        } catch (IOException e) {
            throw new IOException("CSR is not readable PEM: " + e.getMessage(), e);
        }
        if (o instanceof PKCS10CertificationRequest csr) {
            return csr;
        }
        throw new IOException(o == null ? "no PEM CERTIFICATE REQUEST found"
                : "expected a PEM CERTIFICATE REQUEST, found " + o.getClass().getSimpleName());
    }

    /**
     * {@code key} as PKCS#8 {@code PRIVATE KEY} PEM (what the JDK encodes a private key as). Not the BouncyCastle
     * writer's own form: it would write a JDK EC key as SEC1 without the curve, which nothing reads back.
     */
    public static String pkcs8(PrivateKey key) {
        if (!"PKCS#8".equals(key.getFormat())) {
            throw new IllegalArgumentException("key format " + key.getFormat() + " is not PKCS#8");
        }
        return write(new PemObject("PRIVATE KEY", key.getEncoded()));
    }

    /** Any object BouncyCastle's PEM writer knows (certificates, CSRs, {@link PemObject}s). */
    public static String write(Object object) {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            writer.writeObject(object);
        } catch (IOException e) {
            throw new UncheckedIOException("PEM encoding to memory failed", e);
        }
        return out.toString();
    }

    /** The first PEM object of {@code text}, null when there is none; parser failures as {@code unreadable}. */
    private static Object readObject(String text, String unreadable) throws IOException {
        try (PEMParser parser = new PEMParser(new StringReader(text))) {
            return parser.readObject();
        } catch (IOException e) {
            throw new IOException(unreadable, e);
        }
    }

    /**
     * The signature algorithm that proves {@code key} matches a certificate ({@link #signsFor}): SHA-256 with
     * ECDSA or RSA, or Ed25519; {@code null} for a key of another algorithm.
     */
    public static String probeAlgorithm(PrivateKey key) {
        return switch (key.getAlgorithm()) {
            case "EC" -> "SHA256withECDSA";
            case "RSA" -> "SHA256withRSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            default -> null;
        };
    }

    /**
     * Whether {@code key} is the private half of {@code publicKey}: a probe signed with {@code key} under
     * {@code algorithm} verifies with {@code publicKey}.
     *
     * @throws GeneralSecurityException when {@code key} cannot sign or {@code publicKey} cannot verify under
     *                                  {@code algorithm} (a key of another algorithm than the certificate's)
     */
    public static boolean signsFor(PrivateKey key, PublicKey publicKey, String algorithm)
            throws GeneralSecurityException {
        Signature signer = Signature.getInstance(algorithm);
        signer.initSign(key);
        signer.update(PROBE);
        byte[] signature = signer.sign();
        Signature verifier = Signature.getInstance(algorithm);
        verifier.initVerify(publicKey);
        verifier.update(PROBE);
        return verifier.verify(signature);
    }

    /** Whether {@code key} is the private half of {@code publicKey} ({@link #signsFor} with {@link #probeAlgorithm}). */
    public static boolean matches(PrivateKey key, PublicKey publicKey) {
        String algorithm = probeAlgorithm(key);
        if (algorithm == null) {
            return false;
        }
        try {
            return signsFor(key, publicKey, algorithm);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }
}
