package dev.outrider.core.client;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.net.http.HttpConnectTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * Which failures count as a refused connection ({@link ControlPlaneException#refused()}, retried within
 * {@link Backoff#REFUSED_MAX}), with the real client against real sockets on loopback: nothing listening, a
 * listener that resets every connection, one that closes it during the TLS handshake, and one that accepts and
 * never answers (a timeout, not a refusal);
 * and a call the caller cancels, which is no failure at all (the client stays on its address).
 */
class ControlPlaneRefusalTest {
    private static final TestPki.Ca MESH = TestPki.Ca.create("mesh");

    @TempDir
    Path dir;
    private final List<AutoCloseable> open = new CopyOnWriteArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : open.reversed()) {
            c.close();
        }
    }

    private ControlPlaneException healthFailure(int port) throws IOException {
        Path bundle = Files.writeString(dir.resolve("bundle.pem"), MESH.pem());
        ControlPlaneClient client = ControlPlaneClient.open(new ControlPlaneClientConfig(
                URI.create("https://127.0.0.1:" + port), ControlPlaneClientConfig.defaultServerIdentity("cluster.local"),
                bundle, null, null, null, Duration.ofSeconds(2), Duration.ofSeconds(1)));
        open.add(client);
        return catchThrowableOfType(ControlPlaneException.class, client::health);
    }

    @Test
    void nothingListeningIsARefusal() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }

        ControlPlaneException e = healthFailure(closedPort);

        assertThat(e.unreachable()).isTrue();
        assertThat(e.refused()).as(e.getMessage()).isTrue();
        assertThat(ControlPlaneException.refused(e)).isTrue();
    }

    @Test
    void aConnectionResetByThePeerIsARefusal() throws Exception {
        int port = closingServer(s -> s.setSoLinger(true, 0)); // closed with RST, as a killed process's sockets are

        ControlPlaneException e = healthFailure(port);

        assertThat(e.unreachable()).isTrue();
        assertThat(e.refused()).as(e.getMessage()).isTrue();
    }

    @Test
    void aConnectionClosedDuringTheHandshakeIsARefusal() throws Exception {
        int port = closingServer(s -> s.getInputStream().read()); // the ClientHello arrives; closed (FIN), no alert

        ControlPlaneException e = healthFailure(port);

        assertThat(e.unreachable()).isTrue();
        assertThat(e.refused()).as(e.getMessage()).isTrue();
    }

    @Test
    void aServerThatNeverAnswersIsNotARefusal() throws Exception {
        int port = heldServer(); // accepted, never answered: the client's request timeout fires

        ControlPlaneException e = healthFailure(port);

        assertThat(e.unreachable()).isTrue();
        assertThat(e.getMessage()).contains("timed out");
        assertThat(e.refused()).isFalse();
    }

    @Test
    void aCancelledCallDoesNotMoveTheClientToTheNextAddress() throws Exception {
        int first = heldServer();
        int second = heldServer();
        Path bundle = Files.writeString(dir.resolve("bundle.pem"), MESH.pem());
        ControlPlaneClientConfig config = new ControlPlaneClientConfig(List.of(URI.create("https://127.0.0.1:" + first),
                URI.create("https://127.0.0.1:" + second)), ControlPlaneClientConfig.defaultServerIdentity("cluster.local"),
                bundle, null, null, null, Duration.ofSeconds(2), Duration.ofMillis(500));
        // The HTTP client may complete the exchange with its own CancellationException before the caller's cancel
        // reaches it: a race, so several rounds. A watcher cancels its poll when it closes; that is no failure of
        // the address.
        for (int i = 0; i < 3; i++) {
            try (ControlPlaneClient client = ControlPlaneClient.open(config)) {
                var poll = client.nextSnapshot("shop", "orders", 0, Duration.ofSeconds(30));
                Thread.sleep(100);
                poll.cancel(true);
                Thread.sleep(100);

                ControlPlaneException e = catchThrowableOfType(ControlPlaneException.class, client::health);
                assertThat(e.getMessage()).as("round " + i).contains("127.0.0.1:" + first).contains("timed out");
            }
        }
    }

    private interface BeforeClose {
        void accept(Socket socket) throws IOException;
    }

    /** A listener that closes every connection it accepts after {@code beforeClose}; closed after the test. */
    private int closingServer(BeforeClose beforeClose) throws IOException {
        ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        open.add(server);
        Thread.ofVirtual().start(() -> {
            while (!server.isClosed()) {
                try (Socket s = server.accept()) {
                    beforeClose.accept(s);
                } catch (IOException ignored) {
                    // closed at the end of the test
                }
            }
        });
        return server.getLocalPort();
    }

    /** A listener that accepts and never answers (a TLS handshake waits there); closed after the test. */
    private int heldServer() throws IOException {
        ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        open.add(server);
        List<Socket> held = new CopyOnWriteArrayList<>();
        Thread.ofVirtual().start(() -> {
            while (!server.isClosed()) {
                try {
                    held.add(server.accept());
                } catch (IOException ignored) {
                    // closed at the end of the test
                }
            }
        });
        open.add(() -> {
            for (Socket s : held) {
                s.close();
            }
        });
        return server.getLocalPort();
    }

    @Test
    void aConnectTimeoutIsNotARefusalThoughItCarriesAConnectException() {
        HttpConnectTimeoutException timeout = new HttpConnectTimeoutException("HTTP connect timed out");
        timeout.initCause(new java.net.ConnectException("HTTP connect timed out"));

        assertThat(ControlPlaneException.isRefusal(timeout)).isFalse();
        assertThat(ControlPlaneException.isRefusal(new IOException("wrapped", new SocketException("Connection reset"))))
                .isTrue();
        assertThat(ControlPlaneException.isRefusal(new SocketException("Broken pipe"))).isFalse();
        assertThat(ControlPlaneException.refused(new IllegalStateException("closed"))).isFalse();
        assertThat(ControlPlaneException.server("GET /v1/health", 503, null, "busy", null).refused()).isFalse();
    }
}
