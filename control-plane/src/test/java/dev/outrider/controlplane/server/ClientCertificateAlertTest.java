package dev.outrider.controlplane.server;

import dev.outrider.controlplane.ControlPlaneFixture;
import dev.outrider.controlplane.testing.TestMesh;
import io.netty.handler.ssl.SslProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.X509ExtendedKeyManager;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * The TLS alert the API listener sends for a client certificate it cannot trust, in a real handshake with the
 * JDK's client (whose exception names the alert it received). The listener's provider is the test run's
 * ({@code -Doutrider.test.tlsProvider}, both runs): BoringSSL says {@code unknown_ca} (RFC 8446 §6.2: "a valid
 * certificate chain or partial chain was received, but the certificate was not accepted because the CA
 * certificate could not be located or could not be matched with a known trust anchor"); the JDK's TLS stack
 * sends {@code certificate_unknown} for every client certificate its trust manager refuses. Neither is
 * {@code internal_error}, which tells the caller that the server is broken.
 */
class ClientCertificateAlertTest {
    @TempDir
    static Path dir;
    static ControlPlaneFixture cp;
    static TestMesh foreign;
    static TestMesh sameName;

    @BeforeAll
    static void start() throws Exception {
        cp = ControlPlaneFixture.start(dir.resolve("mesh"));
        foreign = TestMesh.create(dir.resolve("foreign"), "another mesh CA");
        sameName = TestMesh.create(dir.resolve("same-name")); // named as the mesh CA, another key
    }

    @AfterAll
    static void stop() {
        if (cp != null) {
            cp.close();
        }
    }

    @Test
    void aClientCertificateFromAForeignCaGetsACertificateAlert() throws Exception {
        assertRefusedWithTheAlert(foreign.workload("shop", "orders"));
    }

    @Test
    void aForeignCaNamedAsTheMeshCaIsStillAnUnknownCa() throws Exception {
        TestMesh.Client stranger = sameName.workload("shop", "orders");
        assertThat(stranger.chain()).hasSize(2); // the leaf and its CA, which claims the mesh CA's name
        assertRefusedWithTheAlert(stranger);
        assertRefusedWithTheAlert(new TestMesh.Client(stranger.keys(), stranger.chain().subList(0, 1)));
    }

    private static void assertRefusedWithTheAlert(TestMesh.Client stranger) throws Exception {
        SSLException refused = null;
        for (int attempt = 0; attempt < 3 && refused == null; attempt++) {
            Throwable failure = catchThrowable(() -> get(presenting(stranger)));
            if (failure instanceof java.net.SocketException) {
                // TLS 1.3: the request may race the server's alert and close, and the reset that follows can
                // discard the alert before it is read; the verdict is the same, so ask again
                continue;
            }
            refused = failure instanceof SSLException e ? e : null;
            assertThat(failure).as("the handshake is refused").isInstanceOf(SSLException.class);
        }

        assertThat(refused).as("the handshake is refused").isNotNull();
        String expected = TestMesh.tlsProvider().resolve() == SslProvider.JDK ? "certificate_unknown" : "unknown_ca";
        assertThat(refused.getMessage()).endsWith("Received fatal alert: " + expected);
    }

    @Test
    void aMeshClientCertificateIsServed() throws Exception {
        assertThat(get(presenting(cp.mesh.workload("shop", "orders")))).startsWith("HTTP/1.1 200 ");
    }

    /** One GET /v1/health on a new connection; the status line, or the TLS failure. */
    private static String get(SSLContext context) throws Exception {
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1",
                cp.controlPlane.address().getPort())) {
            socket.setSoTimeout(10_000);
            socket.startHandshake(); // TLS 1.3: the client finishes first; the server's verdict comes with the reply
            OutputStream out = socket.getOutputStream();
            out.write("GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            String answer = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
            return answer.lines().findFirst().orElse("");
        }
    }

    /** Trusts the mesh CA (the server is genuine) and presents {@code client}, whatever CAs the server names. */
    private static SSLContext presenting(TestMesh.Client client) throws Exception {
        SSLContext context = SSLContext.getInstance("TLSv1.3");
        context.init(new X509ExtendedKeyManager[] {new FixedKeyManager(client)}, trustManagers(), null);
        return context;
    }

    private static javax.net.ssl.TrustManager[] trustManagers() throws Exception {
        java.security.KeyStore trust = java.security.KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", cp.mesh.caCertificate());
        javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance(
                javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        return tmf.getTrustManagers();
    }

    /** The JDK's key manager would send no certificate to a server that names other CAs: this one always does. */
    private static final class FixedKeyManager extends X509ExtendedKeyManager {
        private final X509Certificate[] chain;
        private final PrivateKey key;

        FixedKeyManager(TestMesh.Client client) {
            this.chain = client.chain().toArray(new X509Certificate[0]);
            this.key = client.keys().getPrivate();
        }

        @Override
        public String[] getClientAliases(String keyType, Principal[] issuers) {
            return new String[] {"client"};
        }

        @Override
        public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
            return "client";
        }

        @Override
        public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
            return "client";
        }

        @Override
        public String[] getServerAliases(String keyType, Principal[] issuers) {
            return null;
        }

        @Override
        public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
            return null;
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias) {
            return chain.clone();
        }

        @Override
        public PrivateKey getPrivateKey(String alias) {
            return key;
        }
    }
}
