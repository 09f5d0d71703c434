package dev.outrider.core.identity;

import dev.outrider.core.client.TestPki;
import dev.outrider.core.pem.Pem;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.sec.ECPrivateKey;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The sidecar's key and CSR paths load no BouncyCastle class (its signed jar costs ~115 classes and their
 * signature checks at start, and cannot go into an AOT cache): {@link SidecarKeyPaths} runs in a fresh JVM with
 * {@code -Xlog:class+load} and the log is read. The second case shows the log would show BouncyCastle: a SEC1 or
 * PKCS#1 key is read through it, and only then.
 */
class SidecarClassLoadingTest {
    private static final String ORDERS = "spiffe://cluster.local/ns/shop/sa/orders";

    @TempDir
    Path dir;

    @Test
    void pkcs8KeysCertificatesAndTheCsrLoadNoBouncyCastleClass() throws Exception {
        KeyPair ec = TestPki.ecKey();
        Path cert = Files.writeString(dir.resolve("cert.pem"), Pem.write(TestPki.Ca.create("root").issue(ec.getPublic(), ORDERS)));
        List<String> loaded = run(cert, pkcs8("ec.pem", ec), pkcs8("rsa.pem", keys("RSA")),
                pkcs8("ed25519.pem", keys("Ed25519")));

        assertThat(loaded).anyMatch(c -> c.equals("dev.outrider.core.pem.Pem"))
                .anyMatch(c -> c.equals("dev.outrider.core.identity.CertificateRequests"));
        assertThat(loaded.stream().filter(c -> c.startsWith("org.bouncycastle.")).toList()).isEmpty();
    }

    @Test
    void sec1AndPkcs1KeysLoadBouncyCastleOnlyForThemselves() throws Exception {
        KeyPair ec = TestPki.ecKey();
        Path cert = Files.writeString(dir.resolve("cert.pem"), Pem.write(TestPki.Ca.create("root").issue(ec.getPublic(), ORDERS)));
        // SEC1 (RFC 5915) with its named curve, as openssl writes it.
        PrivateKeyInfo info = PrivateKeyInfo.getInstance(ec.getPrivate().getEncoded());
        var d = ECPrivateKey.getInstance(info.parsePrivateKey()).getKey();
        var sec1Key = new ECPrivateKey(256, d, info.getPrivateKeyAlgorithm().getParameters());
        Path sec1 = Files.writeString(dir.resolve("sec1.pem"), pem("EC PRIVATE KEY", sec1Key.getEncoded()));
        PrivateKeyInfo rsa = PrivateKeyInfo.getInstance(keys("RSA").getPrivate().getEncoded());
        Path pkcs1 = Files.writeString(dir.resolve("pkcs1.pem"), pem("RSA PRIVATE KEY", rsa.parsePrivateKey().toASN1Primitive().getEncoded()));

        assertThat(run(cert, sec1, pkcs1)).anyMatch(c -> c.startsWith("org.bouncycastle.openssl."));
    }

    /** The classes {@link SidecarKeyPaths} loads in a fresh JVM with this test's class path; asserts it succeeds. */
    private List<String> run(Path cert, Path... keys) throws IOException, InterruptedException {
        Path log = dir.resolve("classes.log");
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xlog:class+load=info:file=" + log, "-cp", System.getProperty("java.class.path"),
                SidecarKeyPaths.class.getName(), cert.toString()));
        for (Path key : keys) {
            command.add(key.toString());
        }
        Path out = dir.resolve("out.txt");
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("child JVM finished").isTrue();
        String output = Files.readString(out);
        assertThat(process.exitValue()).as(output).isZero();
        // Each run reads the EC key of the certificate (PKCS#8 or SEC1) and makes a CSR.
        assertThat(output).contains("key EC matches certificate: true", "csr ");
        List<String> classes = new ArrayList<>();
        for (String line : Files.readAllLines(log)) {
            // [0.123s][info][class,load] java.lang.Object source: shared objects file
            int start = line.indexOf("] ", line.indexOf("class,load")) + 2;
            int end = line.indexOf(' ', start);
            if (start > 1 && end > start) {
                classes.add(line.substring(start, end));
            }
        }
        return classes;
    }

    private Path pkcs8(String name, KeyPair keys) throws IOException {
        return Files.writeString(dir.resolve(name), Pem.pkcs8(keys.getPrivate()));
    }

    private static KeyPair keys(String algorithm) throws Exception {
        return KeyPairGenerator.getInstance(algorithm).generateKeyPair();
    }

    private static String pem(String label, byte[] der) throws IOException {
        StringWriter out = new StringWriter();
        try (PemWriter writer = new PemWriter(out)) {
            writer.writeObject(new PemObject(label, der));
        }
        return out.toString();
    }
}
