package dev.outrider.controlplane.ca;

import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.sec.ECPrivateKey;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemWriter;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Provider;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Date;

/** Keys, CAs and CSRs for the CA tests, made with the JDK and BouncyCastle (its provider never registered). */
final class TestPki {
    /** For curves the JDK no longer offers (P-192); passed explicitly, never installed. */
    static final Provider BC = new BouncyCastleProvider();

    private TestPki() {
    }

    static KeyPair ec(String curve) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec(curve));
        return g.generateKeyPair();
    }

    static KeyPair ecWithBouncyCastle(String curve) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC", BC);
        g.initialize(new ECGenParameterSpec(curve));
        return g.generateKeyPair();
    }

    static KeyPair rsa(int bits) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(bits);
        return g.generateKeyPair();
    }

    static String signatureAlgorithm(KeyPair keys) {
        return keys.getPublic() instanceof RSAKey ? "SHA256withRSA" : "SHA256withECDSA";
    }

    /** A self-signed certificate; a CA (basicConstraints CA:TRUE, keyCertSign) when {@code ca}. */
    static X509Certificate selfSigned(KeyPair keys, String subject, Instant notBefore, Instant notAfter, boolean ca)
            throws Exception {
        X500Name name = new X500Name(subject);
        var builder = new JcaX509v3CertificateBuilder(name, BigInteger.valueOf(notBefore.toEpochMilli()),
                Date.from(notBefore), Date.from(notAfter), name, keys.getPublic())
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(ca))
                .addExtension(Extension.keyUsage, true, new KeyUsage(ca
                        ? KeyUsage.keyCertSign | KeyUsage.cRLSign : KeyUsage.digitalSignature))
                .addExtension(Extension.subjectKeyIdentifier, false,
                        new JcaX509ExtensionUtils().createSubjectKeyIdentifier(keys.getPublic()));
        var holder = builder.build(new JcaContentSignerBuilder(signatureAlgorithm(keys)).build(keys.getPrivate()));
        return new JcaX509CertificateConverter().getCertificate(holder);
    }

    static X509Certificate ca(KeyPair keys, Instant now, Duration lifetime) throws Exception {
        return selfSigned(keys, "O=Outrider test,CN=test mesh CA", now.minus(Duration.ofDays(1)),
                now.plus(lifetime), true);
    }

    /** A CSR signed with {@code keys}, requesting {@code requested} extensions (none when null). */
    static PKCS10CertificationRequest csr(KeyPair keys, Extensions requested) throws Exception {
        return csr(keys, requested, null);
    }

    static PKCS10CertificationRequest csr(KeyPair keys, Extensions requested, Provider provider) throws Exception {
        var builder = new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=orders.shop"), keys.getPublic());
        if (requested != null) {
            builder.addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, requested);
        }
        var signer = new JcaContentSignerBuilder(signatureAlgorithm(keys));
        if (provider != null) {
            signer.setProvider(provider);
        }
        return builder.build(signer.build(keys.getPrivate()));
    }

    /** An extension request with the given SANs (tag, value pairs) and, optionally, CA:TRUE + keyCertSign. */
    static Extensions request(boolean askForCa, GeneralName... sans) throws IOException {
        ExtensionsGenerator g = new ExtensionsGenerator();
        if (sans.length > 0) {
            g.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans));
        }
        if (askForCa) {
            g.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            g.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.digitalSignature));
        }
        return g.generate();
    }

    static GeneralName uri(String value) {
        return new GeneralName(GeneralName.uniformResourceIdentifier, value);
    }

    static GeneralName dns(String value) {
        return new GeneralName(GeneralName.dNSName, value);
    }

    static String pem(Object object) throws IOException {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            writer.writeObject(object);
        }
        return out.toString();
    }

    /**
     * An EC key pair as SEC1 ({@code EC PRIVATE KEY}) with its curve and public key, as openssl writes it.
     * (JcaPEMWriter would take the JDK's encoding, whose inner SEC1 structure leaves the curve out.)
     */
    static String sec1Pem(KeyPair keys) throws IOException {
        PrivateKeyInfo info = PrivateKeyInfo.getInstance(keys.getPrivate().getEncoded());
        BigInteger d = ECPrivateKey.getInstance(info.parsePrivateKey()).getKey();
        var publicKey = SubjectPublicKeyInfo.getInstance(keys.getPublic().getEncoded()).getPublicKeyData();
        var sec1 = new ECPrivateKey(256, d, publicKey, info.getPrivateKeyAlgorithm().getParameters());
        StringWriter out = new StringWriter();
        try (PemWriter writer = new PemWriter(out)) {
            writer.writeObject(new PemObject("EC PRIVATE KEY", sec1.getEncoded()));
        }
        return out.toString();
    }

    /** A clock tests move by hand. */
    static final class MutableClock extends Clock {
        private volatile Instant now;

        MutableClock(Instant now) {
            this.now = now;
        }

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }
    }
}
