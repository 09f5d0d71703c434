package dev.outrider.core.client;

import dev.outrider.core.pem.Pem;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A throw-away mesh PKI for the client tests, made in memory with the JDK and BouncyCastle (its provider never
 * registered); no key material is kept in the repository.
 */
public final class TestPki {
    private static final AtomicLong SERIAL = new AtomicLong(System.nanoTime());

    private TestPki() {
    }

    public static KeyPair ecKey() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"));
            return g.generateKeyPair();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A CA: its key and self-signed certificate. */
    /** Key managers serving {@code chain} with {@code key}, as the client builds them. */
    public static javax.net.ssl.KeyManager[] keyManagers(java.util.List<X509Certificate> chain, java.security.PrivateKey key)
            throws java.security.GeneralSecurityException {
        return ClientTls.keyManagers(chain, key);
    }

    public record Ca(KeyPair keys, X509Certificate certificate) {
        public static Ca create(String name) {
            KeyPair keys = ecKey();
            Instant now = Instant.now();
            X500Name subject = new X500Name("O=Outrider test,CN=" + name);
            try {
                var builder = new JcaX509v3CertificateBuilder(subject, serial(), Date.from(now.minus(Duration.ofDays(1))),
                        Date.from(now.plus(Duration.ofDays(30))), subject, keys.getPublic())
                        .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
                        .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                        .addExtension(Extension.subjectKeyIdentifier, false,
                                new JcaX509ExtensionUtils().createSubjectKeyIdentifier(keys.getPublic()));
                return new Ca(keys, sign(builder, keys));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        /** A workload certificate for {@code publicKey}: one URI SAN {@code spiffeId} (none when null) plus {@code dnsOrIp}. */
        public X509Certificate issue(PublicKey publicKey, String spiffeId, Instant notBefore, Instant notAfter,
                              String... dnsOrIp) {
            try {
                List<GeneralName> names = new ArrayList<>();
                if (spiffeId != null) {
                    names.add(new GeneralName(GeneralName.uniformResourceIdentifier, spiffeId));
                }
                for (String n : dnsOrIp) {
                    names.add(new GeneralName(Character.isDigit(n.charAt(0)) || n.contains(":")
                            ? GeneralName.iPAddress : GeneralName.dNSName, n));
                }
                JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
                var builder = new JcaX509v3CertificateBuilder(certificate, serial(), Date.from(notBefore),
                        Date.from(notAfter), new X500Name("O=Outrider test"), publicKey)
                        .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                        .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                        .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(
                                new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}))
                        .addExtension(Extension.subjectAlternativeName, false,
                                new GeneralNames(names.toArray(new GeneralName[0])))
                        .addExtension(Extension.authorityKeyIdentifier, false,
                                utils.createAuthorityKeyIdentifier(certificate.getPublicKey()));
                return sign(builder, keys);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        public X509Certificate issue(PublicKey publicKey, String spiffeId, String... dnsOrIp) {
            Instant now = Instant.now();
            return issue(publicKey, spiffeId, now.minus(Duration.ofHours(1)), now.plus(Duration.ofHours(23)), dnsOrIp);
        }

        public String pem() {
            return Pem.write(certificate);
        }
    }

    private static BigInteger serial() {
        return BigInteger.valueOf(SERIAL.incrementAndGet());
    }

    private static X509Certificate sign(org.bouncycastle.cert.X509v3CertificateBuilder builder, KeyPair issuer) throws Exception {
        return new JcaX509CertificateConverter().getCertificate(
                builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuer.getPrivate())));
    }

    /** A clock tests move by hand. */
    public static final class MutableClock extends Clock {
        private volatile Instant now;

        public MutableClock(Instant now) {
            this.now = now;
        }

        public void set(Instant instant) {
            now = instant;
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    }
}
