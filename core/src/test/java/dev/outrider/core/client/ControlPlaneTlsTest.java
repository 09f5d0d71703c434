package dev.outrider.core.client;

import dev.outrider.core.model.SpiffeId;
import dev.outrider.core.pem.Pem;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * The client's trust decision in real TLS 1.3 handshakes with an {@link SSLServerSocket} on loopback: a server
 * certificate is accepted only when it chains to the bundle, names the host and carries the expected SPIFFE ID;
 * the client certificate from the files is presented and replaced when the files change.
 */
class ControlPlaneTlsTest {
    private static final SpiffeId CONTROL_PLANE = SpiffeId.parse("spiffe://cluster.local/ns/outrider-system/sa/control-plane");
    private static final String ORDERS = "spiffe://cluster.local/ns/shop/sa/orders";
    private static final TestPki.Ca MESH = TestPki.Ca.create("mesh");

    @TempDir
    Path dir;
    private SSLServerSocket server;

    @AfterEach
    void closeServer() throws IOException {
        if (server != null) {
            server.close();
        }
    }

    /** A TLS 1.3 server presenting {@code certificate}, asking for (not requiring) a client certificate of the mesh. */
    private int serve(KeyPair keys, X509Certificate certificate) throws Exception {
        SSLContext context = SSLContext.getInstance("TLSv1.3");
        context.init(ClientTls.keyManagers(List.of(certificate), keys.getPrivate()),
                new TrustManager[] {new AcceptAnyClientForTest(MESH.certificate())}, null);
        server = (SSLServerSocket) context.getServerSocketFactory().createServerSocket(0, 5, InetAddress.getLoopbackAddress());
        server.setWantClientAuth(true);
        return server.getLocalPort();
    }

    /** Completes with the client's certificate (null when none) after one handshake, or the server's failure. */
    private CompletableFuture<X509Certificate> acceptOne() {
        return CompletableFuture.supplyAsync(() -> {
            try (SSLSocket s = (SSLSocket) server.accept()) {
                s.setSoTimeout(10_000);
                s.startHandshake();
                s.getInputStream().read(); // let the client finish its side (TLS 1.3 sends its Finished last)
                var peer = s.getSession().getPeerCertificates();
                return (X509Certificate) peer[0];
            } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
                return null;
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
    }

    private Path write(String name, String content) throws IOException {
        Path file = dir.resolve(name);
        Files.writeString(file, content);
        return file;
    }

    private ClientTls.Material clientMaterial(Path certificate, Path key) throws Exception {
        Path bundle = write("bundle.pem", MESH.pem());
        return new ClientTls(bundle, certificate, key, CONTROL_PLANE).load(null, null, Instant.now());
    }

    /** Connects to {@code host} with host-name verification on, as the HTTP client does. */
    private static void handshake(SSLContext context, String host, int port) throws IOException {
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(host, port)) {
            SSLParameters parameters = socket.getSSLParameters();
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
            socket.setSSLParameters(parameters);
            socket.setSoTimeout(10_000);
            socket.startHandshake();
            socket.getOutputStream().write(1);
            socket.getOutputStream().flush();
        }
    }

    @Test
    void acceptsTheControlPlaneOfTheMeshAndPresentsTheClientCertificate() throws Exception {
        KeyPair serverKeys = TestPki.ecKey();
        int port = serve(serverKeys, MESH.issue(serverKeys.getPublic(), CONTROL_PLANE.toString(), "localhost", "127.0.0.1"));
        KeyPair clientKeys = TestPki.ecKey();
        Path cert = write("cert.pem", Pem.write(MESH.issue(clientKeys.getPublic(), ORDERS)));
        Path key = write("key.pem", Pem.pkcs8(clientKeys.getPrivate()));
        ClientTls.Material material = clientMaterial(cert, key);
        assertThat(material.clientProblem()).isNull();

        CompletableFuture<X509Certificate> seen = acceptOne();
        handshake(material.mutual(), "127.0.0.1", port);

        X509Certificate presented = seen.get(10, TimeUnit.SECONDS);
        assertThat(X509Checks.spiffeId(presented)).hasToString(ORDERS);
    }

    @Test
    void refusesAMeshCertificateForAnotherIdentity() throws Exception {
        KeyPair serverKeys = TestPki.ecKey();
        int port = serve(serverKeys, MESH.issue(serverKeys.getPublic(), ORDERS, "localhost", "127.0.0.1"));
        ClientTls.Material material = clientMaterial(null, null);
        acceptOne();

        SSLHandshakeException e = catchThrowableOfType(SSLHandshakeException.class,
                () -> handshake(material.anonymous(), "127.0.0.1", port));

        assertThat(e).isNotNull();
        assertThat(e).hasStackTraceContaining("control plane certificate is for " + ORDERS + ", expected " + CONTROL_PLANE);
    }

    @Test
    void refusesTheRightIdentityFromAnotherCa() throws Exception {
        TestPki.Ca other = TestPki.Ca.create("impostor");
        KeyPair serverKeys = TestPki.ecKey();
        int port = serve(serverKeys, other.issue(serverKeys.getPublic(), CONTROL_PLANE.toString(), "localhost", "127.0.0.1"));
        ClientTls.Material material = clientMaterial(null, null);
        acceptOne();

        assertThatThrownBy(() -> handshake(material.anonymous(), "127.0.0.1", port))
                .isInstanceOf(SSLHandshakeException.class)
                .hasStackTraceContaining("PKIX path");
    }

    @Test
    void refusesTheRightIdentityForAnotherHost() throws Exception {
        KeyPair serverKeys = TestPki.ecKey();
        int port = serve(serverKeys, MESH.issue(serverKeys.getPublic(), CONTROL_PLANE.toString(), "cp.example"));
        ClientTls.Material material = clientMaterial(null, null);
        acceptOne();

        assertThatThrownBy(() -> handshake(material.anonymous(), "127.0.0.1", port))
                .isInstanceOf(SSLHandshakeException.class)
                .hasStackTraceContaining("127.0.0.1");
    }

    @Test
    void refusesACertificateWithoutSpiffeId() throws Exception {
        KeyPair serverKeys = TestPki.ecKey();
        int port = serve(serverKeys, MESH.issue(serverKeys.getPublic(), null, "localhost", "127.0.0.1"));
        ClientTls.Material material = clientMaterial(null, null);
        acceptOne();

        assertThatThrownBy(() -> handshake(material.anonymous(), "127.0.0.1", port))
                .isInstanceOf(SSLHandshakeException.class)
                .hasStackTraceContaining("exactly one URI SAN");
    }

    @Test
    void httpClientRefusesAWrongIdentityAsAnUnreachableTlsFailure() throws Exception {
        KeyPair serverKeys = TestPki.ecKey();
        int port = serve(serverKeys, MESH.issue(serverKeys.getPublic(), ORDERS, "localhost", "127.0.0.1"));
        Path bundle = write("bundle.pem", MESH.pem());
        acceptOne();
        var config = new ControlPlaneClientConfig(URI.create("https://127.0.0.1:" + port), CONTROL_PLANE, bundle,
                null, null, null, Duration.ofSeconds(5), Duration.ofSeconds(10));

        try (ControlPlaneClient client = ControlPlaneClient.open(config)) {
            ControlPlaneException e = catchThrowableOfType(ControlPlaneException.class, client::health);
            assertThat(e).isNotNull();
            assertThat(e.unreachable()).isTrue();
            assertThat(e.retryable()).isTrue();
            assertThat(e.getMessage()).contains("TLS handshake failed");
            assertThat(e).hasStackTraceContaining("is for " + ORDERS);
        }
    }

    /**
     * Handshakes with every client until the server closes, recording the certificate each presented (the JDK
     * client retries a GET on a new connection when the first closes without an answer, so one call may connect twice).
     */
    private BlockingQueue<Optional<X509Certificate>> acceptAll() {
        BlockingQueue<Optional<X509Certificate>> presented = new LinkedBlockingQueue<>();
        Thread.ofPlatform().daemon().start(() -> {
            while (!server.isClosed()) {
                try (SSLSocket s = (SSLSocket) server.accept()) {
                    s.setSoTimeout(10_000);
                    s.startHandshake();
                    X509Certificate peer;
                    try {
                        peer = (X509Certificate) s.getSession().getPeerCertificates()[0];
                    } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
                        peer = null;
                    }
                    presented.add(Optional.ofNullable(peer));
                    s.getInputStream().read();
                } catch (IOException e) {
                    // closed by the test, or a client that gave up
                }
            }
        });
        return presented;
    }

    /** What the connections of the last call presented: all the same. */
    private static Optional<X509Certificate> presentedByLastCall(BlockingQueue<Optional<X509Certificate>> queue)
            throws InterruptedException {
        List<Optional<X509Certificate>> seen = new ArrayList<>();
        Optional<X509Certificate> first = queue.poll(10, TimeUnit.SECONDS);
        assertThat(first).as("a handshake").isNotNull();
        seen.add(first);
        queue.drainTo(seen);
        assertThat(seen).containsOnly(first);
        return first;
    }

    @Test
    void httpClientPresentsTheCertificateNowInTheFiles() throws Exception {
        KeyPair serverKeys = TestPki.ecKey();
        int port = serve(serverKeys, MESH.issue(serverKeys.getPublic(), CONTROL_PLANE.toString(), "localhost", "127.0.0.1"));
        Path bundle = write("bundle.pem", MESH.pem());
        Path cert = dir.resolve("cert.pem");
        Path key = dir.resolve("key.pem");
        var config = new ControlPlaneClientConfig(URI.create("https://localhost:" + port), CONTROL_PLANE, bundle,
                cert, key, null, Duration.ofSeconds(5), Duration.ofSeconds(10));
        BlockingQueue<Optional<X509Certificate>> presented = acceptAll();

        try (ControlPlaneClient client = ControlPlaneClient.open(config)) {
            // No files yet (a new sidecar): the handshake succeeds without a client certificate.
            assertThatThrownBy(client::health).isInstanceOf(ControlPlaneException.class); // the test server answers nothing
            assertThat(presentedByLastCall(presented)).isEmpty();

            // A certificate appears (bootstrap wrote it): the next connection presents it.
            KeyPair keys = TestPki.ecKey();
            Files.writeString(key, Pem.pkcs8(keys.getPrivate()));
            Files.writeString(cert, Pem.write(MESH.issue(keys.getPublic(), ORDERS)));
            assertThatThrownBy(client::health).isInstanceOf(ControlPlaneException.class);
            assertThat(X509Checks.spiffeId(presentedByLastCall(presented).orElseThrow())).hasToString(ORDERS);

            // A renewal seen half-way (the new key is there, its certificate not yet): the valid one stays in use.
            String payments = "spiffe://cluster.local/ns/shop/sa/payments";
            KeyPair renewed = TestPki.ecKey();
            Files.writeString(key, Pem.pkcs8(renewed.getPrivate()));
            assertThatThrownBy(client::health).isInstanceOf(ControlPlaneException.class);
            assertThat(X509Checks.spiffeId(presentedByLastCall(presented).orElseThrow())).hasToString(ORDERS);

            // Its certificate lands: the new one is presented.
            Files.writeString(cert, Pem.write(MESH.issue(renewed.getPublic(), payments)));
            assertThatThrownBy(client::health).isInstanceOf(ControlPlaneException.class);
            assertThat(X509Checks.spiffeId(presentedByLastCall(presented).orElseThrow())).hasToString(payments);

            // A join-token request never presents the certificate, so the server sees one credential.
            assertThatThrownBy(() -> client.requestCertificate("csr", "join-token"))
                    .isInstanceOf(ControlPlaneException.class);
            assertThat(presentedByLastCall(presented)).isEmpty();
        }
    }

    @Test
    void aKeyThatDoesNotMatchItsCertificateIsNotPresented() throws Exception {
        Path cert = write("cert.pem", Pem.write(MESH.issue(TestPki.ecKey().getPublic(), ORDERS)));
        Path key = write("key.pem", Pem.pkcs8(TestPki.ecKey().getPrivate()));

        ClientTls.Material material = clientMaterial(cert, key);

        assertThat(material.mutual()).isNull();
        assertThat(material.clientProblem()).contains("does not match");
    }

    @Test
    void anUnusableTrustBundleFailsOpenNamingTheFile() throws Exception {
        Path bundle = write("bundle.pem", "not a certificate");
        var config = new ControlPlaneClientConfig(URI.create("https://127.0.0.1:1"), CONTROL_PLANE, bundle,
                null, null, null, Duration.ofSeconds(1), Duration.ofSeconds(1));

        assertThatThrownBy(() -> ControlPlaneClient.open(config))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(bundle.toString());
    }

    /** The test server's view of clients: any certificate of the mesh CA (the handshake under test is the client's). */
    private record AcceptAnyClientForTest(X509Certificate ca) implements javax.net.ssl.X509TrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws java.security.cert.CertificateException {
            try {
                chain[0].verify(ca.getPublicKey());
            } catch (java.security.GeneralSecurityException e) {
                throw new java.security.cert.CertificateException(e);
            }
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
            throw new UnsupportedOperationException();
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[] {ca};
        }
    }
}
