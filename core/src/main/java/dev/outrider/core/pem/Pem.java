package dev.outrider.core.pem;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * PEM in and out (RFC 7468), the one home of every module (sidecar TLS files, the control-plane client, the CA,
 * the snapshot signing key). Everything a sidecar reads and writes goes through the JDK alone: certificates with
 * its X.509 factory, PKCS#8 {@code PRIVATE KEY}s (EC, RSA, Ed25519/Ed448) with its key factories, CSRs as their
 * DER, and PEM text with {@link Base64}. The other key forms issuers write, SEC1 {@code EC PRIVATE KEY} and PKCS#1
 * {@code RSA PRIVATE KEY} (and anything else BouncyCastle reads), go to {@link BouncyCastleKeys}, which is loaded
 * only when such a file is read: this class names no BouncyCastle type, so loading it loads none (BouncyCastle's
 * signed jar costs a sidecar ~115 classes and their signature checks at start, and cannot go into an AOT cache).
 * Encrypted keys are refused: neither a sidecar nor the control plane has anywhere safe to keep a passphrase. No
 * method puts key material in an exception message; callers add the file or field name. Pure functions.
 */
public final class Pem {
    private static final byte[] PROBE = "outrider key/certificate match".getBytes(StandardCharsets.US_ASCII);
    /** A BEGIN line (RFC 7468 §2: the label is printable ASCII without '-'); group 1 is the label. */
    private static final Pattern BEGIN = Pattern.compile("^[ \\t]*-----BEGIN ([\\x21-\\x2C\\x2E-\\x7E ]*)-----[ \\t]*\\r?$",
            Pattern.MULTILINE);
    private static final String PRIVATE_KEY = "PRIVATE KEY";
    /** The JDK's key factories a PKCS#8 key may be for, most likely first (EdDSA reads Ed25519 and Ed448). */
    private static final List<String> KEY_ALGORITHMS = List.of("EC", "RSA", "EdDSA");
    private static final Base64.Encoder BODY = Base64.getMimeEncoder(64, new byte[] {'\n'});

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
     * The first PEM object of {@code pem} as an unencrypted private key: PKCS#8 with the JDK, any other form through
     * {@link BouncyCastleKeys}. Messages: "no PEM private key found", "unsupported PEM object X; expected ...",
     * "not a readable PEM private key".
     */
    public static PrivateKey privateKey(byte[] pem) throws IOException {
        String text = new String(pem, StandardCharsets.US_ASCII);
        Matcher begin = BEGIN.matcher(text);
        if (!begin.find()) {
            throw new IOException("no PEM private key found");
        }
        if (begin.group(1).equals(PRIVATE_KEY)) {
            PrivateKey key = pkcs8(body(text, begin, "not a readable PEM private key"));
            if (key != null) {
                return key;
            }
        }
        // SEC1, PKCS#1, a PKCS#8 key of an algorithm the JDK's factories here do not read, and the refusals of
        // everything else (encrypted keys, certificates) with the messages BouncyCastle's reader gives them.
        return BouncyCastleKeys.privateKey(text);
    }

    /** The key in a PKCS#8 PrivateKeyInfo by the first JDK factory that reads it; null when none does. */
    private static PrivateKey pkcs8(byte[] der) {
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
        for (String algorithm : KEY_ALGORITHMS) {
            try {
                // Each factory checks the AlgorithmIdentifier's OID and refuses a key of another algorithm.
                return KeyFactory.getInstance(algorithm).generatePrivate(spec);
            } catch (GeneralSecurityException e) {
                // not this algorithm (or malformed): try the next factory
            }
        }
        return null;
    }

    /**
     * The DER of the one CSR in {@code pem} (label {@code CERTIFICATE REQUEST} or {@code NEW CERTIFICATE REQUEST}),
     * not parsed: the CA parses and checks it. Messages: "no PEM CERTIFICATE REQUEST found", "expected a PEM
     * CERTIFICATE REQUEST, found X", "CSR is not readable PEM: ...".
     */
    public static byte[] csr(String pem) throws IOException {
        Matcher begin = BEGIN.matcher(pem);
        if (!begin.find()) {
            throw new IOException("no PEM CERTIFICATE REQUEST found");
        }
        String label = begin.group(1);
        if (!label.equals("CERTIFICATE REQUEST") && !label.equals("NEW CERTIFICATE REQUEST")) {
            throw new IOException("expected a PEM CERTIFICATE REQUEST, found " + label);
        }
        return body(pem, begin, "CSR is not readable PEM");
    }

    /**
     * The decoded body of the block whose BEGIN line {@code begin} found: up to its END line with the same label,
     * strict base64 with any line breaks. A block with headers (RFC 1421 {@code Proc-Type: 4,ENCRYPTED}) has none
     * of the forms read here and fails.
     */
    private static byte[] body(String text, Matcher begin, String unreadable) throws IOException {
        int end = text.indexOf("-----END " + begin.group(1) + "-----", begin.end());
        if (end < 0) {
            throw new IOException(unreadable + ": no END line for its " + begin.group(1));
        }
        StringBuilder base64 = new StringBuilder(end - begin.end());
        for (int i = begin.end(); i < end; i++) {
            char c = text.charAt(i);
            if (!Character.isWhitespace(c)) {
                base64.append(c);
            }
        }
        try {
            return Base64.getDecoder().decode(base64.toString());
        } catch (IllegalArgumentException e) {
            throw new IOException(unreadable + ": its body is not base64");
        }
    }

    /**
     * {@code key} as PKCS#8 {@code PRIVATE KEY} PEM (what the JDK encodes a private key as): the one form every
     * reader here takes back without BouncyCastle.
     */
    public static String pkcs8(PrivateKey key) {
        if (!"PKCS#8".equals(key.getFormat())) {
            throw new IllegalArgumentException("key format " + key.getFormat() + " is not PKCS#8");
        }
        return encode(PRIVATE_KEY, key.getEncoded());
    }

    /** {@code certificate} as a PEM {@code CERTIFICATE}. */
    public static String write(X509Certificate certificate) {
        try {
            return encode("CERTIFICATE", certificate.getEncoded());
        } catch (CertificateEncodingException e) {
            throw new IllegalArgumentException("certificate cannot be DER encoded: " + e.getMessage(), e);
        }
    }

    /**
     * {@code der} framed as PEM with {@code label} (RFC 7468 §2): BEGIN line, base64 at 64 columns, END line, each
     * ended by a line feed; the form OpenSSL and BouncyCastle write.
     */
    public static String encode(String label, byte[] der) {
        return "-----BEGIN " + label + "-----\n" + BODY.encodeToString(der) + "\n-----END " + label + "-----\n";
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
