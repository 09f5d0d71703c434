package dev.outrider.core.identity;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsExchange;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import dev.outrider.core.client.BootstrapToken;
import dev.outrider.core.client.ControlPlaneClient;
import dev.outrider.core.client.ControlPlaneClientConfig;
import dev.outrider.core.client.TestPki;
import dev.outrider.core.identity.CertificateBootstrapException.Reason;
import dev.outrider.core.model.SpiffeId;
import dev.outrider.core.pem.Pem;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLPeerUnverifiedException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.StringReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * The bootstrap with a Kubernetes service-account token, against a real HTTPS server on loopback playing the
 * control plane's {@code POST /v1/certificates}: what goes on the wire, the token read afresh at each attempt, and
 * a refusal named by kind without the token.
 */
class ServiceAccountBootstrapTest {
    private static final SpiffeId ORDERS = CertificateStatusTest.ORDERS;
    private static final SpiffeId CONTROL_PLANE = ControlPlaneClientConfig.defaultServerIdentity("cluster.local");
    private static final TestPki.Ca MESH = TestPki.Ca.create("mesh");
    /** Shaped like a JWT (the control plane would verify it; this server only records it). */
    private static final String TOKEN_1 = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJvcmRlcnMifQ.c2lnbmF0dXJlLTE";
    private static final String TOKEN_2 = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJvcmRlcnMifQ.c2lnbmF0dXJlLTI";

    @TempDir
    Path dir;
    private HttpsServer server;
    private CertificateFiles files;
    /** What the server saw per request: the Authorization header and whether a client certificate came with it. */
    private final List<String> seen = new CopyOnWriteArrayList<>();
    /** The status the server answers with: 401 (refusal) or 200 (a certificate for the CSR's key). */
    private volatile int answer = 401;

    @BeforeEach
    void startServer() throws Exception {
        KeyPair serverKeys = TestPki.ecKey();
        X509Certificate serverCert = MESH.issue(serverKeys.getPublic(), CONTROL_PLANE.toString(), "localhost", "127.0.0.1");
        SSLContext tls = SSLContext.getInstance("TLSv1.3");
        tls.init(TestPki.keyManagers(List.of(serverCert), serverKeys.getPrivate()), null, null);
        server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(tls) {
            @Override
            public void configure(HttpsParameters params) {
                var p = tls.getDefaultSSLParameters();
                p.setWantClientAuth(true);
                params.setSSLParameters(p);
            }
        });
        server.createContext("/v1/certificates", ex -> {
            String csr = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            String clientCert;
            try {
                ((HttpsExchange) ex).getSSLSession().getPeerCertificates();
                clientCert = "with client certificate";
            } catch (SSLPeerUnverifiedException e) {
                clientCert = "no client certificate";
            }
            seen.add(ex.getRequestHeaders().getFirst("Authorization") + " / " + clientCert);
            byte[] body = answer == 200 ? issue(csr) : ("{\"status\": 401, \"reason\": \"Unauthenticated\","
                    + " \"message\": \"service-account token refused: expired (expired at 2026-05-01T11:00:00Z)\"}")
                    .getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(answer, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        files = new CertificateFiles(dir.resolve("cert.pem"), dir.resolve("key.pem"), dir.resolve("bundle.pem"));
        Files.writeString(files.trustBundle(), MESH.pem());
    }

    @AfterEach
    void stopServer() {
        server.stop(0);
    }

    /** A certificate for the CSR's key and ORDERS, as the control plane would issue it. */
    private static byte[] issue(String body) throws IOException {
        try {
            String pem = new com.fasterxml.jackson.databind.ObjectMapper().readTree(body).get("csr").asText();
            PKCS10CertificationRequest csr = (PKCS10CertificationRequest) new PEMParser(new StringReader(pem)).readObject();
            X509Certificate cert = MESH.issue(new JcaPKCS10CertificationRequest(csr).getPublicKey(), ORDERS.toString());
            return new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsBytes(Map.of("identity", ORDERS.toString(),
                    "certificateChain", Pem.write(cert), "trustBundle", MESH.pem(),
                    "notAfter", cert.getNotAfter().toInstant().toString()));
        } catch (java.security.GeneralSecurityException e) {
            throw new IOException(e);
        }
    }

    private WorkloadCertificates start(Supplier<Optional<BootstrapToken>> token) throws Exception {
        ControlPlaneClient client = ControlPlaneClient.open(files.clientConfig(
                URI.create("https://127.0.0.1:" + server.getAddress().getPort()), CONTROL_PLANE));
        try {
            return WorkloadCertificates.start(client, files, ORDERS, token, Clock.systemUTC(), () -> { },
                    Duration.ofSeconds(5));
        } finally {
            client.close();
        }
    }

    @Test
    void theTokenGoesAsBearerWithoutClientCertificateAndTheCertificateIsInstalled() throws Exception {
        answer = 200;

        try (WorkloadCertificates certificates = start(() -> Optional.of(BootstrapToken.serviceAccountToken(TOKEN_1)))) {
            assertThat(certificates.notAfter()).isAfter(Instant.now());
        }

        assertThat(seen).containsExactly("Bearer " + TOKEN_1 + " / no client certificate");
        assertThat(CertificateStatus.of(files, ORDERS, Instant.now()).state()).isEqualTo(CertificateStatus.State.FRESH);
    }

    @Test
    void aRefusalNamesTheServiceAccountTokenAndNeverShowsIt() {
        CertificateBootstrapException e = catchThrowableOfType(CertificateBootstrapException.class,
                () -> start(() -> Optional.of(BootstrapToken.serviceAccountToken(TOKEN_1))));

        assertThat(e.reason()).isEqualTo(Reason.TOKEN_REFUSED);
        assertThat(e.getMessage()).startsWith("service-account token refused: POST /v1/certificates: 401 Unauthenticated:"
                + " service-account token refused: expired").doesNotContain(TOKEN_1);
    }

    @Test
    void theTokenIsAskedForAfreshAtEachAttempt() throws Exception {
        // The control plane is unreachable at first (5xx is retried), and the projected token rotates meanwhile.
        answer = 503;
        AtomicInteger reads = new AtomicInteger();

        try (WorkloadCertificates certificates = start(() -> {
            int read = reads.incrementAndGet();
            if (read == 2) {
                answer = 200; // the control plane is back by the second attempt
            }
            return Optional.of(BootstrapToken.serviceAccountToken(read == 1 ? TOKEN_1 : TOKEN_2));
        })) {
            assertThat(certificates.notAfter()).isAfter(Instant.now());
        }

        assertThat(seen.getFirst()).isEqualTo("Bearer " + TOKEN_1 + " / no client certificate");
        assertThat(seen.getLast()).isEqualTo("Bearer " + TOKEN_2 + " / no client certificate");
        assertThat(reads.get()).isEqualTo(seen.size());
    }

    @Test
    void tokensOfTheWrongShapeAreRefusedBeforeTheyAreSent() {
        assertThatThrownBy(() -> BootstrapToken.serviceAccountToken("k7F0c9k2mJ1q8XvQ_9pZ-3m1hTq0aW5rYb7sU4eLd2o"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("service-account token is not a JWT (three base64url parts separated by '.')");
        assertThatThrownBy(() -> BootstrapToken.joinToken(TOKEN_1))
                .hasMessage("join token holds a '.'; join tokens never do (is it a service-account token?)");
        assertThatThrownBy(() -> BootstrapToken.serviceAccountToken(TOKEN_1 + "\n"))
                .hasMessage("service-account token is empty or has surrounding white space");
        assertThatThrownBy(() -> BootstrapToken.serviceAccountToken("a.b c.d"))
                .hasMessage("service-account token holds a character that cannot go into an HTTP header (position 3)");
        assertThat(BootstrapToken.serviceAccountToken(TOKEN_1).toString())
                .isEqualTo("BootstrapToken[service-account token, <redacted>]");
    }
}
