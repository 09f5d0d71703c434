package dev.outrider.controlplane.ca;

import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemWriter;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/**
 * PEM in and out for the CA: certificates with the JDK's X.509 factory, private keys and CSRs with
 * BouncyCastle's {@link PEMParser}, which reads the key forms issuers write (PKCS#8 {@code PRIVATE KEY} as
 * certs/mesh-ca.sh does, SEC1 {@code EC PRIVATE KEY}, PKCS#1 {@code RSA PRIVATE KEY}). Encrypted keys are
 * refused: the CA key is file-mounted and there is nowhere safer to keep a passphrase. Messages name the
 * file, never key material.
 */
final class CaPem {
    private CaPem() {
    }

    static List<X509Certificate> certificates(Path file) throws CaException {
        byte[] pem = read(file);
        List<X509Certificate> out = new ArrayList<>();
        try {
            for (var c : CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(pem))) {
                out.add((X509Certificate) c);
            }
        } catch (CertificateException e) {
            throw CaException.caUnusable("CA certificate " + file + " is not readable PEM X.509: " + e.getMessage(), e);
        }
        if (out.isEmpty()) {
            throw CaException.caUnusable("CA certificate " + file + " holds no PEM certificate");
        }
        return out;
    }

    static PrivateKey privateKey(Path file) throws CaException {
        String pem = new String(read(file), StandardCharsets.US_ASCII);
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            Object o = parser.readObject();
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            if (o instanceof PEMKeyPair pair) {
                // Only the private part: a SEC1 key may leave out its (optional) public key.
                return converter.getPrivateKey(pair.getPrivateKeyInfo());
            }
            if (o instanceof PrivateKeyInfo info) {
                return converter.getPrivateKey(info);
            }
            throw CaException.caUnusable("CA key " + file + ": " + (o == null ? "no PEM private key found"
                    : "unsupported PEM object " + o.getClass().getSimpleName()
                    + "; expected an unencrypted PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY"));
        } catch (IOException e) {
            throw CaException.caUnusable("CA key " + file + " is not a readable PEM private key", e);
        }
    }

    /** The one CSR in {@code pem} (label {@code CERTIFICATE REQUEST} or {@code NEW CERTIFICATE REQUEST}). */
    static PKCS10CertificationRequest csr(String pem) throws CaException {
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            Object o = parser.readObject();
            if (o instanceof PKCS10CertificationRequest csr) {
                return csr;
            }
            throw CaException.invalidRequest(o == null ? "no PEM CERTIFICATE REQUEST found"
                    : "expected a PEM CERTIFICATE REQUEST, found " + o.getClass().getSimpleName());
        } catch (IOException e) {
            throw CaException.invalidRequest("CSR is not readable PEM: " + e.getMessage(), e);
        }
    }

    static String pem(X509Certificate cert) {
        StringWriter out = new StringWriter();
        try (PemWriter writer = new PemWriter(out)) {
            writer.writeObject(new PemObject("CERTIFICATE", cert.getEncoded()));
        } catch (IOException e) {
            throw new UncheckedIOException("writing to a string", e);
        } catch (CertificateEncodingException e) {
            throw new IllegalStateException("a parsed certificate always encodes", e);
        }
        return out.toString();
    }

    private static byte[] read(Path file) throws CaException {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw CaException.caUnusable("cannot read " + file + ": " + e, e);
        }
    }
}
