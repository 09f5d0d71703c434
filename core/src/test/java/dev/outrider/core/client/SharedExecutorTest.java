package dev.outrider.core.client;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * A client opened with the caller's executor ({@link ControlPlaneClient#open(ControlPlaneClientConfig,
 * java.util.concurrent.Executor)}) runs its HTTP clients' asynchronous work there, and closing the client leaves
 * that executor to its owner, so many clients can share it.
 */
class SharedExecutorTest {
    private static final TestPki.Ca MESH = TestPki.Ca.create("mesh");

    @TempDir
    Path dir;

    @Test
    void theClientsWorkRunsOnTheGivenExecutorWhichOutlivesTheClient() throws Exception {
        Path bundle = Files.writeString(dir.resolve("bundle.pem"), MESH.pem());
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        ControlPlaneClientConfig config = new ControlPlaneClientConfig(URI.create("https://127.0.0.1:" + closedPort),
                ControlPlaneClientConfig.defaultServerIdentity("cluster.local"), bundle, null, null, null,
                Duration.ofSeconds(2), Duration.ofSeconds(1));
        AtomicInteger tasks = new AtomicInteger();
        try (ExecutorService shared = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 2; i++) {
                int before = tasks.get();
                try (ControlPlaneClient client = ControlPlaneClient.open(config, task -> {
                    tasks.incrementAndGet();
                    shared.execute(task);
                })) {
                    ControlPlaneException e = catchThrowableOfType(ControlPlaneException.class, client::health);
                    assertThat(e.refused()).as(e.getMessage()).isTrue();
                }
                // Each client (the second after the first was closed) ran work on the shared executor.
                assertThat(tasks.get()).isGreaterThan(before);
                assertThat(shared.isShutdown()).isFalse();
            }
        }
    }
}
