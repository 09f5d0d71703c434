package dev.outrider.bench.controlplane;

import dev.outrider.core.pem.Pem;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;

/**
 * A throw-away mesh CA for the control-plane benchmarks (EC P-256, BouncyCastle's builders through the JDK's
 * providers; BouncyCastle's own provider is never registered): {@code ca.pem} and {@code ca.key} (PKCS#8,
 * owner-only), shaped like {@code certs/mesh-ca.sh init}'s, in a directory the benchmark deletes. Nothing is
 * committed.
 *
 * @param certificate the CA certificate (PEM): the control plane's {@code --ca-cert} and the sidecars' trust bundle
 * @param privateKey  the CA key (PEM, PKCS#8): the control plane's {@code --ca-key}
 */
record BenchMeshCa(Path certificate, Path privateKey) {

    static BenchMeshCa create(Path dir) throws Exception {
        Files.createDirectories(dir);
        KeyPair keys = p256();
        Instant now = Instant.now();
        X500Name name = new X500Name("O=Outrider bench,CN=Outrider bench mesh CA");
        var builder = new JcaX509v3CertificateBuilder(name, new BigInteger(64, new SecureRandom()),
                Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(2))), name,
                keys.getPublic())
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
                .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                .addExtension(Extension.subjectKeyIdentifier, false,
                        new JcaX509ExtensionUtils().createSubjectKeyIdentifier(keys.getPublic()));
        X509Certificate cert = new JcaX509CertificateConverter().getCertificate(
                builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
        Path certFile = dir.resolve("ca.pem");
        Files.writeString(certFile, Pem.write(cert));
        return new BenchMeshCa(certFile, writeKey(dir.resolve("ca.key"), keys));
    }

    /**
     * A new snapshot-signing key (EC P-256, PKCS#8 PEM, owner-only) in {@code file}: the {@code --signing-key}
     * every control-plane replica is given, as a mounted secret would be.
     */
    static Path signingKey(Path file) throws Exception {
        return writeKey(file, p256());
    }

    private static KeyPair p256() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        return generator.generateKeyPair();
    }

    private static Path writeKey(Path file, KeyPair keys) throws Exception {
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(file, Pem.pkcs8(keys.getPrivate()));
        return file;
    }
}
