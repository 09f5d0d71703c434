package dev.outrider.controlplane.testing;

import dev.outrider.controlplane.ca.SignedCertificate;
import dev.outrider.controlplane.ca.WorkloadCa;
import dev.outrider.controlplane.ca.WorkloadIdentity;
import dev.outrider.controlplane.server.ServerTls;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemWriter;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;

/**
 * A throw-away mesh CA for control-plane tests, made in the test (no key material in the repository): an EC
 * P-256 root written as {@code ca.pem} / {@code ca-key.pem} (PKCS#8) into a temp directory for
 * {@code --ca-cert}/{@code --ca-key}, workload client certificates it signs, and JDK {@link SSLContext}s that
 * trust it (and present a client certificate when given one).
 */
public final class TestMesh {
    public static final String TD = "cluster.local";

    private final KeyPair caKeys;
    private final X509Certificate caCertificate;
    private final Path caCertFile;
    private final Path caKeyFile;
    private final WorkloadCa ca;

    private TestMesh(KeyPair caKeys, X509Certificate caCertificate, Path caCertFile, Path caKeyFile, WorkloadCa ca) {
        this.caKeys = caKeys;
        this.caCertificate = caCertificate;
        this.caCertFile = caCertFile;
        this.caKeyFile = caKeyFile;
        this.ca = ca;
    }

    /** A new CA valid from a day ago for a year, written into {@code dir}. */
    public static TestMesh create(Path dir) throws Exception {
        return create(dir, "test mesh CA");
    }

    /** A new CA named {@code O=Outrider test,CN=<commonName>}, valid from a day ago for a year, in {@code dir}. */
    public static TestMesh create(Path dir, String commonName) throws Exception {
        KeyPair keys = ec();
        Instant now = Instant.now();
        X500Name name = new X500Name("O=Outrider test,CN=" + commonName);
        var holder = new JcaX509v3CertificateBuilder(name, BigInteger.valueOf(now.toEpochMilli()),
                Date.from(now.minus(Duration.ofDays(1))), Date.from(now.plus(Duration.ofDays(365))), name, keys.getPublic())
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
                .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                .addExtension(Extension.subjectKeyIdentifier, false,
                        new JcaX509ExtensionUtils().createSubjectKeyIdentifier(keys.getPublic()))
                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate()));
        X509Certificate cert = new JcaX509CertificateConverter().getCertificate(holder);
        Files.createDirectories(dir);
        Path certFile = Files.writeString(dir.resolve("ca.pem"), pem(cert));
        Path keyFile = Files.writeString(dir.resolve("ca-key.pem"), pkcs8(keys.getPrivate()));
        return new TestMesh(keys, cert, certFile, keyFile, WorkloadCa.of(List.of(cert), keys.getPrivate(), TD,
                Clock.systemUTC()));
    }

    /** The TLS provider the control plane under test uses: {@code -Doutrider.test.tlsProvider}, default auto. */
    public static ServerTls.Provider tlsProvider() {
        return ServerTls.Provider.parse(System.getProperty("outrider.test.tlsProvider", "auto"));
    }

    public Path caCertFile() {
        return caCertFile;
    }

    public Path caKeyFile() {
        return caKeyFile;
    }

    public X509Certificate caCertificate() {
        return caCertificate;
    }

    public KeyPair caKeys() {
        return caKeys;
    }

    /** A client certificate for {@code spiffe://cluster.local/ns/<ns>/sa/<sa>}, with its key. */
    public Client workload(String namespace, String serviceAccount) throws Exception {
        KeyPair keys = ec();
        SignedCertificate issued = ca.sign(csrPem(keys, null), new WorkloadIdentity(TD, namespace, serviceAccount),
                Duration.ofHours(1));
        return new Client(keys, issued.chain());
    }

    /** A key and the chain that goes with it. */
    public record Client(KeyPair keys, List<X509Certificate> chain) {
    }

    /** Trusts the CA; presents no client certificate. */
    public SSLContext trusting() throws Exception {
        return sslContext(null);
    }

    /** Trusts the CA; presents {@code client}'s certificate when it is not null. */
    public SSLContext sslContext(Client client) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", caCertificate);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        KeyManagerFactory kmf = null;
        if (client != null) {
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            keys.setKeyEntry("client", client.keys().getPrivate(), new char[0],
                    client.chain().toArray(new Certificate[0]));
            kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, new char[0]);
        }
        SSLContext context = SSLContext.getInstance("TLSv1.3");
        context.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return context;
    }

    public static KeyPair ec() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    /** A PEM CSR signed with {@code keys}; with a URI SAN request when {@code uriSan} is not null. */
    public static String csrPem(KeyPair keys, String uriSan) throws Exception {
        var builder = new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=test"), keys.getPublic());
        if (uriSan != null) {
            ExtensionsGenerator g = new ExtensionsGenerator();
            g.addExtension(Extension.subjectAlternativeName, false,
                    new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, uriSan)));
            builder.addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, g.generate());
        }
        return pem(builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
    }

    /** PKCS#8 {@code PRIVATE KEY} PEM, as certs/mesh-ca.sh writes CA keys. */
    public static String pkcs8(PrivateKey key) throws IOException {
        StringWriter out = new StringWriter();
        try (PemWriter writer = new PemWriter(out)) {
            writer.writeObject(new PemObject("PRIVATE KEY", key.getEncoded()));
        }
        return out.toString();
    }

    public static String pem(Object object) throws IOException {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            writer.writeObject(object);
        }
        return out.toString();
    }
}
