package dev.outrider.controlplane.ca;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.outrider.controlplane.ca.WorkloadCaTest.ORDERS;
import static dev.outrider.controlplane.ca.WorkloadCaTest.ORDERS_ID;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The workload CA with the development CA that certs/mesh-ca.sh makes (EC P-256, key in PKCS#8), and its
 * certificates checked by openssl as well as the JDK. The script writes next to itself (certs/out/), so it
 * runs from a copy in a temporary directory and never touches the repository's certs/out/.
 */
class MeshCaScriptTest {
    @TempDir
    Path dir;

    private Path caDir;

    @BeforeEach
    void makeDevCa() throws Exception {
        assumeTrue(onPath("openssl"), "openssl is not on PATH: certs/mesh-ca.sh cannot make a CA here");
        Path script = Path.of(System.getProperty("outrider.meshCaScript", "../certs/mesh-ca.sh"));
        Path copy = Files.createDirectories(dir.resolve("certs")).resolve("mesh-ca.sh");
        Files.copy(script, copy);
        run(dir, "bash", copy.toString(), "init", "--trust-domain", "cluster.local");
        caDir = dir.resolve("certs/out/ca");
        assertThat(pkcs8Ec(caDir.resolve("ca.key")).getAlgorithm()).as("the script writes a PKCS#8 EC key").isEqualTo("EC");
    }

    @Test
    void signsWithTheDevelopmentCaAndOpensslAcceptsTheResult() throws Exception {
        WorkloadCa ca = WorkloadCa.load(caDir.resolve("ca.pem"), caDir.resolve("ca.key"), "cluster.local",
                Clock.systemUTC());

        SignedCertificate issued = ca.sign(TestPki.csr(TestPki.ec("secp256r1"), null).getEncoded(), ORDERS,
                WorkloadCa.DEFAULT_TTL);

        List<X509Certificate> chain = WorkloadCaTest.parse(issued.pemChain());
        assertThat(chain).hasSize(2);
        WorkloadCaTest.validate(chain.getFirst(), chain.get(1));
        WorkloadCaTest.assertSvid(chain.getFirst(), ORDERS_ID);
        Path leaf = Files.writeString(dir.resolve("cert.pem"), issued.pemChain());
        for (String purpose : List.of("sslclient", "sslserver")) {
            assertThat(run(dir, "openssl", "verify", "-CAfile", caDir.resolve("ca.pem").toString(),
                    "-purpose", purpose, leaf.toString())).contains(": OK");
        }
    }

    @Test
    void signsAnOpensslCsrAskingForCaTrueAsALeaf() throws Exception {
        WorkloadCa ca = WorkloadCa.load(caDir.resolve("ca.pem"), caDir.resolve("ca.key"), "cluster.local",
                Clock.systemUTC());
        Path key = dir.resolve("key.pem");
        Path csr = dir.resolve("req.pem");
        run(dir, "openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key.toString());
        run(dir, "openssl", "req", "-new", "-key", key.toString(), "-subj", "/CN=orders.shop",
                "-addext", "subjectAltName=URI:" + ORDERS_ID, "-addext", "basicConstraints=critical,CA:TRUE",
                "-out", csr.toString());

        SignedCertificate issued = ca.sign(Files.readString(csr), ORDERS, WorkloadCa.DEFAULT_TTL);

        WorkloadCaTest.assertSvid(issued.certificate(), ORDERS_ID);
        WorkloadCaTest.validate(issued.certificate(), ca.certificate());
    }

    private static boolean onPath(String command) {
        try {
            return new ProcessBuilder(command, "version").redirectErrorStream(true).start().waitFor() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /** Runs a command in {@code cwd}; returns its output, failing the test on a non-zero exit. */
    private static String run(Path cwd, String... command) throws Exception {
        Process p = new ProcessBuilder(command).directory(cwd.toFile()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("%s finished", List.of(command)).isTrue();
        assertThat(p.exitValue()).as("%s exit status; output:%n%s", List.of(command), out).isZero();
        return out;
    }

    /** The key file decoded as PKCS#8 by the JDK (fails unless it is an unencrypted PKCS#8 EC key). */
    private static java.security.PrivateKey pkcs8Ec(Path keyFile) throws Exception {
        String base64 = Files.readString(keyFile).lines().filter(l -> !l.startsWith("-----"))
                .collect(java.util.stream.Collectors.joining());
        return java.security.KeyFactory.getInstance("EC")
                .generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(java.util.Base64.getDecoder().decode(base64)));
    }
}
