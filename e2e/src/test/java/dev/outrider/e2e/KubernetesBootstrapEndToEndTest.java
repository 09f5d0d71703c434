package dev.outrider.e2e;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Sidecars bootstrapping as on Kubernetes, every part its own process: the control plane trusts the cluster's
 * service-account issuer ({@code --k8s-issuer}, {@code --k8s-jwks}); each sidecar has no join token, only a
 * projected service-account token file ({@code controlPlane.serviceAccountToken}). The test plays the
 * Kubernetes API server: it publishes the issuer's JWK Set and mints the tokens with the claims a projected
 * token carries. The sidecars get their certificates, and a request flows frontend → orders over mTLS.
 */
class KubernetesBootstrapEndToEndTest {
    static final String ISSUER = "https://kubernetes.default.svc.cluster.local";
    private static final String ALLOW_FRONTEND = """
            apiVersion: outrider.dev/v1
            kind: AuthorizationPolicy
            metadata: {name: orders-allow-frontend, namespace: shop}
            spec:
              selector: {matchLabels: {app: orders}}
              action: ALLOW
              rules:
                - from: [{source: {principals: ["cluster.local/ns/shop/sa/frontend"]}}]
                  to: [{operation: {methods: ["GET"], paths: ["/hello"]}}]
            """;

    @TempDir
    Path dir;
    private final Started started = new Started();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @AfterEach
    void stop() throws Exception {
        started.closeAndCheckLeaks();
        http.close();
    }

    /** A projected service-account token as the API server issues it (audience outrider, one hour). */
    static String projectedToken(RSAKey issuerKey, String namespace, String serviceAccount, String pod,
                                         String audience) throws Exception {
        Instant now = Instant.now();
        JWTClaimsSet claims = new JWTClaimsSet.Builder()
                .issuer(ISSUER)
                .audience(audience)
                .subject("system:serviceaccount:" + namespace + ":" + serviceAccount)
                .issueTime(Date.from(now))
                .notBeforeTime(Date.from(now))
                .expirationTime(Date.from(now.plusSeconds(3600)))
                .claim("kubernetes.io", Map.of(
                        "namespace", namespace,
                        "serviceaccount", Map.of("name", serviceAccount, "uid", UUID.randomUUID().toString()),
                        "pod", Map.of("name", pod, "uid", UUID.randomUUID().toString())))
                .build();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(issuerKey.getKeyID()).build(),
                claims);
        jwt.sign(new RSASSASigner(issuerKey));
        return jwt.serialize();
    }

    @Test
    void sidecarsBootstrapWithProjectedServiceAccountTokensAndServe() throws Exception {
        // The cluster's service-account issuer: its signing key stays here, its public JWK Set goes to a file.
        RSAKey issuerKey = new RSAKeyGenerator(2048).keyID(UUID.randomUUID().toString()).keyUse(KeyUse.SIGNATURE)
                .algorithm(JWSAlgorithm.RS256).generate();
        Path jwks = Files.writeString(dir.resolve("jwks.json"), new JWKSet(issuerKey.toPublicJWK()).toString());

        TestCa ca = TestCa.create(dir.resolve("ca"));
        ControlPlaneProcess cp = started.keep(ControlPlaneProcess.start(dir.resolve("cp"), MeshProcess.freePort(), ca,
                List.of("--k8s-issuer", ISSUER, "--k8s-jwks", jwks.toString())));
        Files.writeString(dir.resolve("services.yaml"), MeshEndToEndTest.SERVICES);
        Files.writeString(dir.resolve("allow.yaml"), ALLOW_FRONTEND);
        Ctl applied = Ctl.run(dir, cp, "apply", "-f", dir.resolve("services.yaml").toString(),
                "-f", dir.resolve("allow.yaml").toString());
        assertThat(applied.exitCode()).as(applied.output()).isZero();

        // The kubelet's projected volumes: one token file per pod.
        String ordersToken = projectedToken(issuerKey, "shop", "orders", "orders-7d9f-abcde", "outrider");
        String frontendToken = projectedToken(issuerKey, "shop", "frontend", "frontend-5c4b-xyz12", "outrider");
        Path ordersTokenFile = Files.writeString(dir.resolve("orders-token"), ordersToken);
        Path frontendTokenFile = Files.writeString(dir.resolve("frontend-token"), frontendToken);

        Backend backend = started.keep(Backend.start());
        SidecarProcess b = started.keep(SidecarProcess.startWithServiceAccountToken(dir.resolve("b"), "orders", backend.port(),
                SidecarProcess.Ports.free(), null, cp, ordersTokenFile)).awaitReady(200);
        SidecarProcess a = started.keep(SidecarProcess.startWithServiceAccountToken(dir.resolve("a"), "frontend", 1,
                SidecarProcess.Ports.free(), "orders", cp, frontendTokenFile)).awaitReady(200);

        // frontend → its sidecar → mTLS (each side checks the other's SPIFFE ID) → orders' sidecar → backend.
        HttpResponse<String> hello = awaitStatus(a, "/hello", 200);
        assertThat(hello.body()).isEqualTo("ok /hello\n");
        assertThat(get(a.upstreamUrl("/admin")).statusCode()).isEqualTo(403);

        assertThat(cp.logText())
                .contains("service-account token accepted for spiffe://cluster.local/ns/shop/sa/orders"
                        + " (pod 'orders-7d9f-abcde', key '" + issuerKey.getKeyID() + "')")
                .contains("service-account token accepted for spiffe://cluster.local/ns/shop/sa/frontend"
                        + " (pod 'frontend-5c4b-xyz12'");
        assertThat(b.config()).containsPattern("\"serviceAccountToken\"\\s*:\\s*\""
                + java.util.regex.Pattern.quote(ordersTokenFile.toString()) + "\"");
        for (MeshProcess p : List.of(cp, a, b)) {
            assertThat(p.logText()).doesNotContain(ordersToken).doesNotContain(frontendToken);
        }
        assertThat(b.config()).doesNotContain(ordersToken);

        // A token for another audience (e.g. one meant for the API server) gets no certificate: the sidecar says why.
        Path wrongAudience = Files.writeString(dir.resolve("wrong-token"),
                projectedToken(issuerKey, "shop", "orders", "orders-0", "https://kubernetes.default.svc"));
        SidecarProcess c = started.keep(SidecarProcess.startWithServiceAccountToken(dir.resolve("c"), "orders", backend.port(),
                SidecarProcess.Ports.free(), null, cp, wrongAudience));
        assertThat(c.process.waitFor(60, TimeUnit.SECONDS)).as(c.logText()).isTrue();
        assertThat(c.process.exitValue()).isNotZero();
        assertThat(c.logText()).contains("service-account token refused: wrong audience")
                .doesNotContain(Files.readString(wrongAudience));
    }

    private HttpResponse<String> get(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** Polls until {@code path} through {@code caller} answers {@code expected} (endpoints arrive by snapshot). */
    private HttpResponse<String> awaitStatus(SidecarProcess caller, String path, int expected) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        HttpResponse<String> last = null;
        while (System.nanoTime() < deadline) {
            last = get(caller.upstreamUrl(path));
            if (last.statusCode() == expected) {
                return last;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("GET " + path + " answered " + (last == null ? "nothing" : last.statusCode())
                + ", not " + expected + ", for 30 s\n--- caller:\n" + caller.logText());
    }
}
