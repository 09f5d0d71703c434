package dev.outrider.bench.tls;

import dev.outrider.core.pem.Pem;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;

import static java.util.Objects.requireNonNull;

/**
 * A throw-away mesh PKI for the TLS benchmarks, made in-process with BouncyCastle: one ECDSA P-256 root and
 * P-256 leaves shaped like {@code certs/mesh-ca.sh}'s (CA:FALSE, digitalSignature, serverAuth + clientAuth,
 * exactly one SPIFFE URI SAN). Each leaf is written as {@code cert.pem}, {@code key.pem} (PKCS#8) and
 * {@code ca-bundle.pem} under a directory, so the proxy's own loader reads it as a sidecar would.
 *
 * <p>Benchmark set-up only: keys are written unencrypted to a temporary directory the caller removes.
 */
final class BenchPki {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final KeyPair rootKey;
    private final X509Certificate root;

    BenchPki() throws GeneralSecurityException, IOException {
        rootKey = newKey();
        X500Name name = new X500Name("O=Outrider bench,CN=Outrider bench root CA");
        JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
        X509v3CertificateBuilder b = builder(name, name, rootKey, Duration.ofDays(1))
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
                .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(rootKey.getPublic()));
        root = sign(b, rootKey);
    }

    /** This PKI's root as PEM (to build a bundle of several roots). */
    String rootPem() {
        return Pem.write(root);
    }

    /** Issues a leaf for {@code spiffeId} and writes its three files to {@code dir}; returns the leaf. */
    X509Certificate issue(String spiffeId, Path dir) throws GeneralSecurityException, IOException {
        requireNonNull(spiffeId, "spiffeId");
        KeyPair key = newKey();
        JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
        X509v3CertificateBuilder b = builder(X500Name.getInstance(root.getSubjectX500Principal().getEncoded()),
                new X500Name("CN=" + spiffeId.substring(spiffeId.lastIndexOf('/') + 1)), key, Duration.ofDays(1))
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                .addExtension(Extension.extendedKeyUsage, false,
                        new ExtendedKeyUsage(new KeyPurposeId[]{KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}))
                .addExtension(Extension.subjectAlternativeName, false,
                        new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, spiffeId)))
                .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(key.getPublic()))
                .addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(root));
        X509Certificate leaf = sign(b, rootKey);
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("cert.pem"), Pem.write(leaf), StandardCharsets.US_ASCII);
        Files.writeString(dir.resolve("key.pem"), Pem.pkcs8(key.getPrivate()),
                StandardCharsets.US_ASCII);
        Files.writeString(dir.resolve("ca-bundle.pem"), Pem.write(root), StandardCharsets.US_ASCII);
        return leaf;
    }

    private static KeyPair newKey() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
        return g.generateKeyPair();
    }

    private static X509v3CertificateBuilder builder(X500Name issuer, X500Name subject, KeyPair subjectKey,
                                                    Duration validity) {
        Instant now = Instant.now();
        return new JcaX509v3CertificateBuilder(issuer, new BigInteger(127, RANDOM).add(BigInteger.ONE),
                Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(validity)), subject,
                subjectKey.getPublic());
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, KeyPair signer) throws GeneralSecurityException {
        try {
            ContentSigner cs = new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate());
            return new JcaX509CertificateConverter().getCertificate(b.build(cs));
        } catch (org.bouncycastle.operator.OperatorCreationException e) {
            throw new GeneralSecurityException(e);
        }
    }
}
