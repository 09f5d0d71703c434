package dev.outrider.controlplane.ca;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@link WorkloadCa#issueServing}: SVID content plus DNS/IP SANs that real clients check host names against. */
class WorkloadCaServingTest {
    private static final String TD = "cluster.local";
    private static final WorkloadIdentity CONTROL_PLANE = new WorkloadIdentity(TD, "outrider-system", "control-plane");
    private static final String CONTROL_PLANE_ID = "spiffe://cluster.local/ns/outrider-system/sa/control-plane";

    private static KeyPair caKeys;
    private static X509Certificate caCert;
    private HttpsServer server;

    @BeforeAll
    static void makeCa() throws Exception {
        caKeys = TestPki.ec("secp256r1");
        caCert = TestPki.ca(caKeys, Instant.now(), Duration.ofDays(30));
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop(0);
        }
    }

    private static WorkloadCa ca() throws CaException {
        return WorkloadCa.of(List.of(caCert), caKeys.getPrivate(), TD, Clock.systemUTC());
    }

    @Test
    void servingCertificateHasTheSpiffeIdThenDnsAndIpSans() throws Exception {
        KeyPair keys = TestPki.ec("secp256r1");

        SignedCertificate issued = ca().issueServing(keys.getPublic(), CONTROL_PLANE,
                List.of("localhost", "CP.Example.com", "127.0.0.1", "::1", "[fd00::2]"), WorkloadCa.DEFAULT_TTL);

        X509Certificate leaf = issued.certificate();
        WorkloadCaTest.validate(leaf, caCert);
        assertThat(leaf.getSubjectAlternativeNames()).containsExactly(
                List.of(6, CONTROL_PLANE_ID),
                List.of(2, "localhost"),
                List.of(2, "cp.example.com"),
                List.of(7, "127.0.0.1"),
                List.of(7, "0:0:0:0:0:0:0:1"),
                List.of(7, "fd00:0:0:0:0:0:0:2"));
        assertThat(leaf.getBasicConstraints()).isEqualTo(-1);
        assertThat(leaf.getExtendedKeyUsage()).containsExactlyInAnyOrder("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2");
        assertThat(issued.chain()).containsExactly(leaf, caCert);
    }

    @Test
    void badNamesAndForeignIdentitiesAreRefused() throws Exception {
        KeyPair keys = TestPki.ec("secp256r1");
        for (String bad : List.of("", "*.example.com", "under_score.example", "example.com.", "300.1.1.1", "::g")) {
            assertThatThrownBy(() -> ca().issueServing(keys.getPublic(), CONTROL_PLANE, List.of(bad), WorkloadCa.DEFAULT_TTL))
                    .as(bad)
                    .isInstanceOfSatisfying(CaException.class,
                            e -> assertThat(e.reason()).isEqualTo(CaException.Reason.INVALID_REQUEST))
                    .hasMessageContaining("server name");
        }
        assertThatThrownBy(() -> ca().issueServing(keys.getPublic(), new WorkloadIdentity("other.mesh", "a", "b"),
                List.of("localhost"), WorkloadCa.DEFAULT_TTL))
                .isInstanceOfSatisfying(CaException.class,
                        e -> assertThat(e.reason()).isEqualTo(CaException.Reason.IDENTITY_MISMATCH));
        assertThatThrownBy(() -> ca().issueServing(keys.getPublic(), CONTROL_PLANE, List.of(), Duration.ofSeconds(30)))
                .isInstanceOf(CaException.class).hasMessageStartingWith("ttl PT30S is outside");
    }

    /** The JDK HttpClient verifies host names (RFC 2818 / RFC 6125): DNS and IP SANs both pass, others fail. */
    @Test
    void jdkHttpClientAcceptsTheCertificateForEveryServerName() throws Exception {
        KeyPair keys = TestPki.ec("secp256r1");
        SignedCertificate issued = ca().issueServing(keys.getPublic(), CONTROL_PLANE,
                List.of("localhost", "127.0.0.1", "::1"), WorkloadCa.DEFAULT_TTL);
        int port = start(serverContext(keys, issued));
        HttpClient client = HttpClient.newBuilder().sslContext(trusting(caCert))
                .connectTimeout(Duration.ofSeconds(5)).build();

        for (String host : List.of("localhost", "127.0.0.1", "[::1]")) {
            HttpResponse<String> response = client.send(HttpRequest.newBuilder(
                    URI.create("https://" + host + ":" + port + "/")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(response.body()).as(host).isEqualTo("ok");
        }
    }

    @Test
    void jdkHttpClientRefusesAHostNameTheCertificateDoesNotCarry() throws Exception {
        KeyPair keys = TestPki.ec("secp256r1");
        SignedCertificate onlyDns = ca().issueServing(keys.getPublic(), CONTROL_PLANE, List.of("cp.example.com"),
                WorkloadCa.DEFAULT_TTL);
        int port = start(serverContext(keys, onlyDns));
        HttpClient client = HttpClient.newBuilder().sslContext(trusting(caCert))
                .connectTimeout(Duration.ofSeconds(5)).build();

        assertThatThrownBy(() -> client.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/")).build(),
                HttpResponse.BodyHandlers.ofString()))
                .isInstanceOf(SSLHandshakeException.class)
                .satisfies(e -> assertThat(rootCause(e)).isInstanceOf(CertificateException.class)
                        .hasMessageContaining("No subject alternative names matching IP address 127.0.0.1"));
    }

    private int start(SSLContext context) throws IOException {
        server = HttpsServer.create(new InetSocketAddress(InetAddress.getByName("::"), 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(context));
        server.createContext("/", exchange -> {
            byte[] body = "ok".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        return server.getAddress().getPort();
    }

    private static Throwable rootCause(Throwable t) {
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t;
    }

    static SSLContext serverContext(KeyPair keys, SignedCertificate issued) throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry("server", keys.getPrivate(), new char[0], issued.chain().toArray(new Certificate[0]));
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(store, new char[0]);
        SSLContext context = SSLContext.getInstance("TLSv1.3");
        context.init(kmf.getKeyManagers(), null, null);
        return context;
    }

    static SSLContext trusting(X509Certificate root) throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setCertificateEntry("ca", root);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(store);
        SSLContext context = SSLContext.getInstance("TLSv1.3");
        context.init(null, tmf.getTrustManagers(), null);
        return context;
    }
}
