package dev.outrider.proxy.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import dev.outrider.proxy.Sidecar;
import dev.outrider.proxy.config.BootstrapLoader;
import dev.outrider.proxy.tls.TestPki;
import io.netty.handler.codec.http.HttpResponseStatus;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * PeerAuthentication at B's inbound listener, with real callers on one port: the meshed caller is sidecar A
 * (frontend's certificate, mTLS h2), the unmeshed ones are the JDK HttpClient (HTTP/1.1 plaintext) and a Netty h2c
 * client with prior knowledge. The documents come from the directory B watches; each test writes the mode it needs
 * and waits until B's /config shows it in force.
 */
class PermissiveModePairTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static TestBackend backend;
    private static SidecarPair pair;
    private static Path policies;
    private static String jwks;
    private static HttpClient plain;

    @BeforeAll
    static void start() throws Exception {
        ECKey key = new ECKeyGenerator(Curve.P_256).keyID("k1").generate();
        jwks = new JWKSet(key.toPublicJWK()).toString().replace("'", "''");
        policies = Files.createTempDirectory("outrider-permissive");
        backend = TestBackend.start();
        Files.writeString(policies.resolve("orders.yaml"), documents("PERMISSIVE"));
        pair = SidecarPair.start(backend.port(), "http1",
                "policies: {directory: '" + policies + "', reloadInterval: 100ms}", "");
        plain = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5))
                .build();
    }

    @AfterAll
    static void stop() {
        if (plain != null) {
            plain.close();
        }
        if (pair != null) {
            pair.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    @BeforeEach
    void clear() {
        backend.clear();
    }

    /**
     * {@code mode} for orders' inbound port; anyone may call /open/*, only frontend (a principal) /meshed/*; JWTs of
     * the test issuer are checked when present.
     */
    private static String documents(String mode) {
        return """
                apiVersion: security.istio.io/v1
                kind: PeerAuthentication
                metadata: {name: orders-migration, namespace: shop}
                spec:
                  selector: {matchLabels: {app: orders}}
                  mtls: {mode: %s}
                ---
                apiVersion: outrider.dev/v1
                kind: RequestAuthentication
                metadata: {name: idp, namespace: shop}
                spec:
                  jwtRules: [{issuer: "https://idp.test", jwks: '%s'}]
                ---
                apiVersion: outrider.dev/v1
                kind: AuthorizationPolicy
                metadata: {name: orders, namespace: shop}
                spec:
                  selector: {matchLabels: {app: orders}}
                  action: ALLOW
                  rules:
                    - from: [{source: {principals: ["cluster.local/ns/shop/sa/frontend"]}}]
                      to: [{operation: {paths: ["/meshed/*"]}}]
                    - to: [{operation: {paths: ["/open/*"]}}]
                """.formatted(mode, jwks);
    }

    /** Writes the documents with {@code mode} (or {@code yaml}) and waits until B enforces that mode. */
    private static void inForce(String mode, String yaml) throws Exception {
        Path next = policies.resolve(".orders.yaml.next");
        Files.writeString(next, yaml);
        Files.move(next, policies.resolve("orders.yaml"), StandardCopyOption.ATOMIC_MOVE);
        await().atMost(Duration.ofSeconds(10)).until(() -> mode.equals(config().path("inboundMtlsMode").asText()));
    }

    private static void inForce(String mode) throws Exception {
        inForce(mode, documents(mode));
    }

    private static JsonNode config() throws Exception {
        HttpResponse<String> r = plain.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + pair.b.adminAddress().getPort() + "/config")).build(), HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(r.body()).path("policySnapshot");
    }

    /** Through sidecar A: mTLS between the sidecars. */
    private static String meshed(String target) throws Exception {
        try (RawHttp raw = new RawHttp(pair.outbound())) {
            raw.send("GET " + target + " HTTP/1.1\r\nHost: orders\r\nConnection: close\r\n\r\n");
            return raw.readToEof();
        }
    }

    /**
     * Straight to B's inbound port in plaintext, as an application without a sidecar calls it, on a new connection
     * (a mode applies to the connections accepted while it is in force).
     */
    private static HttpResponse<String> unmeshed(String path, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + pair.b.inboundAddress().getPort() + path)).timeout(Duration.ofSeconds(5));
        if (headers.length > 0) {
            request.headers(headers);
        }
        try (HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build()) {
            return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
        }
    }

    private static double refused(String reason) {
        return Metrics.sum(pair.b, "outrider_connections_refused_total", "direction", "inbound", "reason", reason);
    }

    private static double plaintextConnections() {
        return Metrics.sum(pair.b, "outrider_inbound_plaintext_connections_total", "destination_workload", "orders",
                "destination_workload_namespace", "shop");
    }

    @Test
    void permissiveTakesMeshedAndUnmeshedCallersOnOnePort() throws Exception {
        inForce("PERMISSIVE");
        double connections = plaintextConnections();
        double requests = Metrics.sum(pair.b, "outrider_inbound_plaintext_requests_total");

        assertThat(meshed("/open/a")).startsWith("HTTP/1.1 200 ");
        TestBackend.Received viaMtls = backend.take();
        assertThat(viaMtls.headers().get("x-forwarded-client-cert")).as("the meshed caller's identity")
                .contains("URI=spiffe://cluster.local/ns/shop/sa/frontend");
        assertThat(viaMtls.headers().get("x-forwarded-proto")).isEqualTo("https");

        HttpResponse<String> h1 = unmeshed("/open/b", "x-forwarded-client-cert",
                "By=spiffe://cluster.local/ns/shop/sa/orders;URI=spiffe://cluster.local/ns/shop/sa/frontend",
                "x-forwarded-proto", "https");
        assertThat(h1.statusCode()).isEqualTo(200);
        TestBackend.Received received = backend.take();
        assertThat(received.uri()).isEqualTo("/open/b");
        assertThat(received.headers().get("x-forwarded-client-cert")).as("a plaintext caller has no identity, and"
                + " the one it claims is stripped").isNull();
        assertThat(received.headers().get("x-forwarded-proto")).as("what the caller sent it on, not what it claims")
                .isEqualTo("http");

        try (H2Client h2c = new H2Client(pair.b.inboundAddress())) {
            H2Client.Response r = h2c.sendRaw(H2Client.get("/open/c", "orders")).get(5, TimeUnit.SECONDS);
            assertThat(r.status()).isEqualTo(HttpResponseStatus.OK);
        }
        assertThat(backend.take().uri()).isEqualTo("/open/c");

        assertThat(plaintextConnections()).isGreaterThanOrEqualTo(connections + 2);
        assertThat(Metrics.sum(pair.b, "outrider_inbound_plaintext_requests_total")).isEqualTo(requests + 2);
    }

    @Test
    void aPolicyRequiringAPrincipalRefusesThePlaintextCallerWith403() throws Exception {
        inForce("PERMISSIVE");
        int before = backend.requestCount();

        HttpResponse<String> refused = unmeshed("/meshed/x", "x-forwarded-client-cert",
                "URI=spiffe://cluster.local/ns/shop/sa/frontend");
        assertThat(refused.statusCode()).isEqualTo(403);
        assertThat(backend.requestCount()).as("never reached the application").isEqualTo(before);

        assertThat(meshed("/meshed/x")).startsWith("HTTP/1.1 200 ");
    }

    @Test
    void requestAuthenticationStillAppliesToPlaintextCallers() throws Exception {
        inForce("PERMISSIVE");

        HttpResponse<String> r = unmeshed("/open/jwt", "Authorization",
                "Bearer eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0.eyJpc3MiOiJodHRwczovL2lkcC50ZXN0In0.c2ln");
        assertThat(r.statusCode()).isEqualTo(401);
    }

    @Test
    void aPlaintextConnectionOpenAtTheSwitchToStrictEndsAtItsNextRequest() throws Exception {
        inForce("PERMISSIVE");
        try (RawHttp raw = new RawHttp(pair.b.inboundAddress())) {
            raw.send("GET /open/before HTTP/1.1\r\nHost: orders\r\n\r\n");
            String head = raw.readHead();
            assertThat(RawHttp.status(head)).isEqualTo(200);
            raw.readBytes(RawHttp.contentLength(head));
            double refusedBefore = refused("mtls_required");
            int before = backend.requestCount();

            inForce("STRICT");
            raw.send("GET /open/after HTTP/1.1\r\nHost: orders\r\n\r\n");
            assertThat(new String(raw.readToEofOrReset(), StandardCharsets.ISO_8859_1)).as("closed, no response")
                    .isEmpty();
            assertThat(backend.requestCount()).isEqualTo(before);
            assertThat(refused("mtls_required")).isEqualTo(refusedBefore + 1);
        }
    }

    @Test
    void strictRefusesPlaintextAtTheConnectionAndMeshedCallersGoOn() throws Exception {
        inForce("STRICT");
        double refusedBefore = refused("mtls_required");
        double connections = plaintextConnections();
        int before = backend.requestCount();

        try (RawHttp raw = new RawHttp(pair.b.inboundAddress())) {
            raw.send("GET /open/strict HTTP/1.1\r\nHost: orders\r\nConnection: close\r\n\r\n");
            byte[] answer = raw.readToEofOrReset();
            assertThat(new String(answer, StandardCharsets.ISO_8859_1)).as("no HTTP response")
                    .doesNotContain("HTTP/1.1");
        }
        assertThatThrownBy(() -> unmeshed("/open/strict")).isInstanceOf(IOException.class);
        assertThat(backend.requestCount()).isEqualTo(before);
        await().atMost(Duration.ofSeconds(5)).until(() -> refused("mtls_required") >= refusedBefore + 2);
        assertThat(Metrics.handshakeFailures(pair.b, "inbound", "plaintext")).isGreaterThanOrEqualTo(2);
        assertThat(plaintextConnections()).isEqualTo(connections);

        assertThat(meshed("/open/strict")).startsWith("HTTP/1.1 200 ");
        assertThat(meshed("/meshed/strict")).startsWith("HTTP/1.1 200 ");
    }

    @Test
    void disableRefusesTlsAndTakesPlaintext() throws Exception {
        inForce("DISABLE");
        double refusedBefore = refused("plaintext_required");
        TestPki.Leaf frontend = pair.ca.leaf().spiffe(TestPki.spiffe("cluster.local", "shop", "frontend")).issue();

        // a meshed caller's new connection (sidecar A keeps the ones it opened before: a mode applies to new ones)
        assertThatThrownBy(() -> RawHttp.mtls(pair.b.inboundAddress(), frontend, "h2").close())
                .isInstanceOf(IOException.class);
        await().atMost(Duration.ofSeconds(5)).until(() -> refused("plaintext_required") >= refusedBefore + 1);

        assertThat(unmeshed("/open/d").statusCode()).isEqualTo(200);
        assertThat(unmeshed("/meshed/d").statusCode()).as("plaintext has no principal").isEqualTo(403);
    }

    @Test
    void withoutCertificatesTheBootstrapWinsOverAStrictModeWithOneWarning() throws Exception {
        Path dir = Files.createTempDirectory("outrider-no-certs");
        Files.writeString(dir.resolve("orders.yaml"), documents("STRICT"));
        try (LogCapture logs = LogCapture.start();
             Sidecar sidecar = Sidecar.start(BootstrapLoader.parse("""
                             node: {service: orders, namespace: shop}
                             inbound: {listen: 127.0.0.1:0, application: 127.0.0.1:%d}
                             outbound: {listen: 127.0.0.1:0}
                             health: {listen: 127.0.0.1:0}
                             admin: {listen: 127.0.0.1:0}
                             accessLog: {enabled: false}
                             tls: {mode: disabled}
                             policies: {directory: '%s'}
                             """.formatted(backend.port(), dir), "no-certs"))) {
            for (int i = 0; i < 2; i++) {
                try (HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
                    HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                            + sidecar.inboundAddress().getPort() + "/open/no-certs")).build(),
                            HttpResponse.BodyHandlers.ofString());
                    assertThat(r.statusCode()).isEqualTo(200);
                }
            }
            assertThat(logs.events()).filteredOn(e -> e.getFormattedMessage().contains("but tls.mode is disabled"))
                    .singleElement().satisfies(e -> assertThat(e.getFormattedMessage()).startsWith(
                            "PeerAuthentication shop/orders-migration sets mTLS mode STRICT for the inbound port"));
            assertThat(Metrics.sum(sidecar, "outrider_inbound_plaintext_connections_total")).isEqualTo(2);
        }
    }

    @Test
    void portLevelMtlsAppliesToTheApplicationPortOnly() throws Exception {
        String workloadStrict = documents("STRICT").replace("  mtls: {mode: STRICT}\n", """
                  mtls: {mode: STRICT}
                  portLevelMtls:
                    %d: {mode: PERMISSIVE}
                """.formatted(backend.port()));
        inForce("PERMISSIVE", workloadStrict);
        assertThat(config().path("inboundMtlsModeFrom").asText()).isEqualTo("PeerAuthentication shop/orders-migration");
        assertThat(unmeshed("/open/port").statusCode()).isEqualTo(200);

        inForce("STRICT", workloadStrict.replace(backend.port() + ": {mode: PERMISSIVE}",
                (backend.port() == 1 ? 2 : 1) + ": {mode: PERMISSIVE}"));
        assertThatThrownBy(() -> unmeshed("/open/port")).isInstanceOf(IOException.class);
    }
}
