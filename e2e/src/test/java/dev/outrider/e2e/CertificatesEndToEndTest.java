package dev.outrider.e2e;

import dev.outrider.core.client.ControlPlaneClient;
import dev.outrider.core.client.ControlPlaneClientConfig;
import dev.outrider.core.client.ControlPlaneException;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Workload certificates from the control plane's CA, with real processes: a CSR naming another identity than
 * the join token's is refused; refused CSRs leave the single-use join token for the corrected one; certificates renewed at half-life while requests flow fail none of them.
 */
class CertificatesEndToEndTest {
    private static final Pattern NOT_AFTER = Pattern.compile("\"certificateNotAfter\"\\s*:\\s*\"([^\"]+)\"");
    /** How long requests keep flowing once both sidecars use renewed certificates. */
    private static final Duration AFTER_RENEWAL = Duration.ofSeconds(3);

    @TempDir
    Path dir;
    private final Started started = new Started();

    @AfterEach
    void stop() throws Exception {
        started.closeAndCheckLeaks();
    }

    @Test
    void aCsrForAnotherIdentityThanTheJoinTokensIsRefused() throws Exception {
        TestCa ca = TestCa.create(dir.resolve("ca"));
        ControlPlaneProcess cp = started.keep(ControlPlaneProcess.start(dir.resolve("cp"), MeshProcess.freePort(), ca));
        String token;
        try (ControlPlaneClient admin = cp.admin()) {
            token = admin.createJoinToken("shop", "orders", Duration.ofMinutes(5)).token();
        }
        try (ControlPlaneClient anonymous = ControlPlaneClient.open(new ControlPlaneClientConfig(URI.create(cp.url()),
                ControlPlaneClientConfig.defaultServerIdentity("cluster.local"), ca.certificate(), null, null, null,
                Duration.ofSeconds(2), Duration.ofSeconds(10)))) {
            String admin = csr("spiffe://cluster.local/ns/outrider-system/sa/admin");
            assertThatThrownBy(() -> anonymous.requestCertificate(admin, token))
                    .isInstanceOfSatisfying(ControlPlaneException.class, e -> assertThat(e.status()).isEqualTo(403));
            assertThatThrownBy(() -> anonymous.requestCertificate(csr("spiffe://cluster.local/ns/shop/sa/orders"),
                    "not-a-token-0123456789abcdef0123456789abcdef"))
                    .isInstanceOfSatisfying(ControlPlaneException.class, e -> assertThat(e.status()).isEqualTo(401));
        }
        assertThat(cp.logText()).doesNotContain(token);
    }

    @Test
    void refusedCsrsLeaveTheJoinTokenForTheCorrectedOne() throws Exception {
        TestCa ca = TestCa.create(dir.resolve("ca"));
        ControlPlaneProcess cp = started.keep(ControlPlaneProcess.start(dir.resolve("cp"), MeshProcess.freePort(), ca));
        String token;
        try (ControlPlaneClient admin = cp.admin()) {
            token = admin.createJoinToken("shop", "orders", Duration.ofMinutes(5)).token();
        }
        try (ControlPlaneClient anonymous = ControlPlaneClient.open(new ControlPlaneClientConfig(URI.create(cp.url()),
                ControlPlaneClientConfig.defaultServerIdentity("cluster.local"), ca.certificate(), null, null, null,
                Duration.ofSeconds(2), Duration.ofSeconds(10)))) {
            String unreadable = "-----BEGIN CERTIFICATE REQUEST-----\nbm90IGEgQ1NS\n-----END CERTIFICATE REQUEST-----\n";
            assertThatThrownBy(() -> anonymous.requestCertificate(unreadable, token))
                    .isInstanceOfSatisfying(ControlPlaneException.class, e -> assertThat(e.status()).isEqualTo(400));
            String another = csr("spiffe://cluster.local/ns/shop/sa/payments");
            assertThatThrownBy(() -> anonymous.requestCertificate(another, token))
                    .isInstanceOfSatisfying(ControlPlaneException.class, e -> assertThat(e.status()).isEqualTo(403));

            assertThat(anonymous.requestCertificate(csr("spiffe://cluster.local/ns/shop/sa/orders"), token).identity())
                    .hasToString("spiffe://cluster.local/ns/shop/sa/orders");
            String again = csr("spiffe://cluster.local/ns/shop/sa/orders");
            assertThatThrownBy(() -> anonymous.requestCertificate(again, token))
                    .isInstanceOfSatisfying(ControlPlaneException.class, e -> assertThat(e.status()).isEqualTo(401));
        }
        assertThat(cp.logText()).doesNotContain(token);
    }

    @Test
    void certificatesRenewedWhileRequestsFlowFailNoRequest() throws Exception {
        TestCa ca = TestCa.create(dir.resolve("ca"));
        ControlPlaneProcess cp = started.keep(ControlPlaneProcess.start(dir.resolve("cp"), MeshProcess.freePort(), ca));
        Files.writeString(dir.resolve("mesh.yaml"), MeshEndToEndTest.SERVICES + """
                ---
                apiVersion: outrider.dev/v1
                kind: AuthorizationPolicy
                metadata: {name: orders-allow-frontend, namespace: shop}
                spec:
                  selector: {matchLabels: {app: orders}}
                  action: ALLOW
                  rules: [{from: [{source: {principals: ["cluster.local/ns/shop/sa/frontend"]}}]}]
                """);
        Ctl applied = Ctl.run(dir, cp, "apply", "-f", dir.resolve("mesh.yaml").toString());
        assertThat(applied.exitCode()).as(applied.output()).isZero();
        String tokenA;
        String tokenB;
        try (ControlPlaneClient admin = cp.admin()) {
            // One-minute certificates: renewed after about 30 s.
            admin.putMeshConfig("""
                    apiVersion: outrider.dev/v1
                    kind: MeshConfig
                    metadata: {name: default}
                    spec: {certificateTtl: 1m}
                    """.getBytes(StandardCharsets.UTF_8), "application/yaml");
            tokenB = admin.createJoinToken("shop", "orders", Duration.ofMinutes(5)).token();
            tokenA = admin.createJoinToken("shop", "frontend", Duration.ofMinutes(5)).token();
        }
        Backend backend = started.keep(Backend.start());
        SidecarProcess b = started.keep(SidecarProcess.start(dir.resolve("b"), "orders", backend.port(),
                SidecarProcess.Ports.free(), null, cp, tokenB)).awaitReady(200);
        SidecarProcess a = started.keep(SidecarProcess.start(dir.resolve("a"), "frontend", 1, SidecarProcess.Ports.free(),
                "orders", cp, tokenA)).awaitReady(200);
        String firstA = notAfter(a);
        String firstB = notAfter(b);

        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline && status(http, a) != 200) {
            Thread.sleep(50); // A learns B's endpoint from its next snapshot
        }
        AtomicInteger ok = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        AtomicReference<String> firstFailure = new AtomicReference<>();
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> callers = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            callers.add(Thread.ofPlatform().start(() -> {
                while (!stop.get()) {
                    try {
                        int s = status(http, a);
                        if (s == 200) {
                            ok.incrementAndGet();
                        } else {
                            failed.incrementAndGet();
                            firstFailure.compareAndSet(null, "status " + s);
                        }
                    } catch (Exception e) {
                        failed.incrementAndGet();
                        firstFailure.compareAndSet(null, e.toString());
                    }
                }
            }));
        }
        // The requests flow until both sidecars use renewed certificates (about 30-33 s after they started), then
        // AFTER_RENEWAL more, so that requests cross each switch and run on the new material.
        long renewals = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < renewals && !(renewed(a, firstA) && renewed(b, firstB))) {
            Thread.sleep(200);
        }
        Thread.sleep(AFTER_RENEWAL.toMillis());
        stop.set(true);
        for (Thread t : callers) {
            t.join();
        }
        http.close();
        assertThat(failed.get()).as("failed requests (first: %s) of %d", firstFailure.get(), ok.get() + failed.get())
                .isZero();
        assertThat(ok.get()).isGreaterThan(100);
        assertThat(notAfter(a)).as("A renewed").isNotEqualTo(firstA);
        assertThat(notAfter(b)).as("B renewed").isNotEqualTo(firstB);
        assertThat(a.logText()).contains("new TLS material in use");
        assertThat(b.logText()).contains("new TLS material in use");
    }

    /** The sidecar's certificate is no longer {@code first} and it logged the switch to the new material. */
    private static boolean renewed(SidecarProcess s, String first) {
        return !notAfter(s).equals(first) && s.logText().contains("new TLS material in use");
    }

    private static int status(HttpClient http, SidecarProcess caller) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(caller.upstreamUrl("/hello")))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    private static String notAfter(SidecarProcess s) {
        Matcher m = NOT_AFTER.matcher(s.config());
        assertThat(m.find()).as("/config shows the certificate's expiry:\n" + s.config()).isTrue();
        return m.group(1);
    }

    /** A PKCS#10 request with one SPIFFE URI SAN, from a fresh P-256 key. */
    static String csr(String spiffeId) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair keys = g.generateKeyPair();
        ExtensionsGenerator ext = new ExtensionsGenerator();
        ext.addExtension(Extension.subjectAlternativeName, false,
                new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, spiffeId)));
        var request = new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=e2e"), keys.getPublic())
                .addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, ext.generate())
                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate()));
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            w.writeObject(request);
        }
        return out.toString();
    }
}
