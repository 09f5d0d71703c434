package dev.outrider.core.pem;

import dev.outrider.core.client.TestPki;
import org.bouncycastle.asn1.DERBitString;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.sec.ECPrivateKey;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.util.io.pem.PemObject;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** PEM reading and writing; which forms load BouncyCastle is SidecarClassLoadingTest's. */
class PemTest {
    @Test
    void pkcs8KeysOfEveryAlgorithmReadBackAsTheSameKey() throws Exception {
        KeyPairGenerator p384 = KeyPairGenerator.getInstance("EC");
        p384.initialize(new ECGenParameterSpec("secp384r1"));
        for (KeyPair keys : List.of(TestPki.ecKey(), p384.generateKeyPair(), keys("RSA"), keys("Ed25519"), keys("Ed448"))) {
            String pem = Pem.pkcs8(keys.getPrivate());
            assertThat(pem).startsWith("-----BEGIN PRIVATE KEY-----\n").endsWith("\n-----END PRIVATE KEY-----\n");
            PrivateKey read = Pem.privateKey(pem.getBytes(StandardCharsets.US_ASCII));
            assertThat(read.getEncoded()).as(keys.getPrivate().getAlgorithm()).isEqualTo(keys.getPrivate().getEncoded());
            assertThat(read.getAlgorithm()).isEqualTo(keys.getPrivate().getAlgorithm());
        }
    }

    @Test
    void readsPkcs8EcKeysWithTheirPublicKeyAsOpensslWritesThem() throws Exception {
        KeyPair keys = TestPki.ecKey();
        PrivateKeyInfo jdk = PrivateKeyInfo.getInstance(keys.getPrivate().getEncoded());
        var d = ECPrivateKey.getInstance(jdk.parsePrivateKey()).getKey();
        var point = SubjectPublicKeyInfo.getInstance(keys.getPublic().getEncoded()).getPublicKeyData();
        var openssl = new PrivateKeyInfo(jdk.getPrivateKeyAlgorithm(),
                new ECPrivateKey(256, d, new DERBitString(point.getBytes()), null));
        String pem = Pem.encode("PRIVATE KEY", openssl.getEncoded());

        PrivateKey read = Pem.privateKey(pem.getBytes(StandardCharsets.US_ASCII));
        assertThat(read.getAlgorithm()).isEqualTo("EC");
        assertThat(Pem.matches(read, keys.getPublic())).isTrue();
    }

    @Test
    void sec1AndPkcs1KeysStillRead() throws Exception {
        KeyPair ec = TestPki.ecKey();
        PrivateKeyInfo info = PrivateKeyInfo.getInstance(ec.getPrivate().getEncoded());
        var d = ECPrivateKey.getInstance(info.parsePrivateKey()).getKey();
        String sec1 = Pem.encode("EC PRIVATE KEY",
                new ECPrivateKey(256, d, info.getPrivateKeyAlgorithm().getParameters()).getEncoded());
        assertThat(Pem.matches(Pem.privateKey(sec1.getBytes(StandardCharsets.US_ASCII)), ec.getPublic())).isTrue();

        KeyPair rsa = keys("RSA");
        String pkcs1 = Pem.encode("RSA PRIVATE KEY", PrivateKeyInfo.getInstance(rsa.getPrivate().getEncoded())
                .parsePrivateKey().toASN1Primitive().getEncoded());
        assertThat(Pem.privateKey(pkcs1.getBytes(StandardCharsets.US_ASCII)).getEncoded())
                .isEqualTo(rsa.getPrivate().getEncoded());
    }

    @Test
    void unreadableKeysAreRefusedNamingTheProblemNotTheKey() throws Exception {
        String body = Base64.getEncoder().encodeToString(TestPki.ecKey().getPrivate().getEncoded());
        String notBase64 = "-----BEGIN PRIVATE KEY-----\n" + body.substring(0, 20) + "*\n-----END PRIVATE KEY-----\n";
        String noEnd = "-----BEGIN PRIVATE KEY-----\n" + body + "\n";
        String certificate = TestPki.Ca.create("root").pem();

        assertRefused("not pem at all\n", "no PEM private key found");
        assertRefused(notBase64, "not a readable PEM private key: its body is not base64");
        assertRefused(noEnd, "not a readable PEM private key: no END line for its PRIVATE KEY");
        assertRefused(certificate, "unsupported PEM object X509CertificateHolder; expected an unencrypted PRIVATE KEY, "
                + "EC PRIVATE KEY or RSA PRIVATE KEY");
        assertThatThrownBy(() -> Pem.privateKey(("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n"
                + "-----END ENCRYPTED PRIVATE KEY-----\n").getBytes(StandardCharsets.US_ASCII)))
                .isInstanceOf(IOException.class);
        assertThatThrownBy(() -> Pem.privateKey(notBase64.getBytes(StandardCharsets.US_ASCII)))
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain(body.substring(0, 20)));
    }

    @Test
    void writesPemAsBouncyCastleAndOpensslDo() throws Exception {
        var ca = TestPki.Ca.create("root");
        assertThat(Pem.write(ca.certificate())).isEqualTo(bouncyCastle(ca.certificate()));
        assertThat(Pem.pkcs8(ca.keys().getPrivate()))
                .isEqualTo(bouncyCastle(new JcaPKCS8Generator(ca.keys().getPrivate(), null)));
        PrivateKey rsa = keys("RSA").getPrivate(); // many 64-column lines and a short last one
        assertThat(Pem.pkcs8(rsa)).isEqualTo(bouncyCastle(new JcaPKCS8Generator(rsa, null)));
        byte[] exact = new byte[96]; // 128 base64 characters: two full lines
        assertThat(Pem.encode("X", exact)).isEqualTo(bouncyCastle(new PemObject("X", exact)));
        assertThat(Pem.certificates(Pem.write(ca.certificate()))).containsExactly(ca.certificate());
    }

    @Test
    void csrIsTheDerOfItsOneBlockOrANamedRefusal() throws Exception {
        byte[] der = {0x30, 0x03, 0x02, 0x01, 0x00};
        assertThat(Pem.csr(Pem.encode("CERTIFICATE REQUEST", der))).isEqualTo(der);
        assertThat(Pem.csr("text before\n" + Pem.encode("NEW CERTIFICATE REQUEST", der))).isEqualTo(der);

        assertThatThrownBy(() -> Pem.csr("garbage")).isInstanceOf(IOException.class)
                .hasMessage("no PEM CERTIFICATE REQUEST found");
        assertThatThrownBy(() -> Pem.csr(TestPki.Ca.create("root").pem())).isInstanceOf(IOException.class)
                .hasMessage("expected a PEM CERTIFICATE REQUEST, found CERTIFICATE");
        assertThatThrownBy(() -> Pem.csr("-----BEGIN CERTIFICATE REQUEST-----\nnot base64!\n-----END CERTIFICATE REQUEST-----\n"))
                .isInstanceOf(IOException.class).hasMessage("CSR is not readable PEM: its body is not base64");
    }

    private static void assertRefused(String pem, String message) {
        assertThatThrownBy(() -> Pem.privateKey(pem.getBytes(StandardCharsets.US_ASCII)))
                .isInstanceOf(IOException.class).hasMessage(message);
    }

    private static KeyPair keys(String algorithm) throws Exception {
        return KeyPairGenerator.getInstance(algorithm).generateKeyPair();
    }

    private static String bouncyCastle(Object object) throws IOException {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            writer.writeObject(object);
        }
        return out.toString();
    }
}
