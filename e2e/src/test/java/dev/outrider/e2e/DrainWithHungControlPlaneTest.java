package dev.outrider.e2e;

import dev.outrider.core.client.ControlPlaneClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * SIGTERM to a sidecar whose control plane hangs (its process stopped with SIGSTOP: connections are accepted by
 * the kernel and never answered, as with a frozen or overloaded control plane): the inbound listener closes at
 * once, and the drain ends by {@code runtime.drainTimeout}. Deregistration is best effort and never holds the
 * drain; with Kubernetes' grace period the pod is not killed in the middle of it.
 */
class DrainWithHungControlPlaneTest {
    private static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(5);
    /** Beyond the drain timeout: JVM exit, and a slow machine; well below the client's request timeout. */
    private static final Duration EXIT_MARGIN = Duration.ofSeconds(4);

    @TempDir
    Path dir;
    private final Started started = new Started();
    private ControlPlaneProcess cp;

    @AfterEach
    void stop() throws Exception {
        if (cp != null && cp.isAlive()) {
            signal(cp, "CONT"); // so it can stop normally
        }
        started.closeAndCheckLeaks();
    }

    @Test
    void sigtermWithControlPlaneStoppedClosesTheListenerAtOnceAndEndsByTheDrainTimeout() throws Exception {
        TestCa ca = TestCa.create(dir.resolve("ca"));
        cp = started.keep(ControlPlaneProcess.start(dir.resolve("cp"), MeshProcess.freePort(), ca));
        Files.writeString(dir.resolve("services.yaml"), MeshEndToEndTest.SERVICES);
        Ctl applied = Ctl.run(dir, cp, "apply", "-f", dir.resolve("services.yaml").toString());
        assertThat(applied.exitCode()).as(applied.output()).isZero();
        Backend backend = started.keep(Backend.start());
        String token;
        try (ControlPlaneClient admin = cp.admin()) {
            token = admin.createJoinToken("shop", "orders", Duration.ofMinutes(10)).token();
        }
        SidecarProcess.Ports ports = SidecarProcess.Ports.free();
        SidecarProcess b = started.keep(SidecarProcess.start(dir.resolve("b"), "orders", backend.port(), ports, null,
                cp, token, "runtime: {drainTimeout: " + DRAIN_TIMEOUT.toSeconds() + "s}")).awaitReady(200);
        assertThat(accepts(ports.inbound())).isTrue();

        signal(cp, "STOP");
        b.process.destroy(); // SIGTERM

        // Closed first, whatever the control plane does (it used to wait for the deregistration's timeout).
        await().atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(20))
                .until(() -> !accepts(ports.inbound()));
        assertThat(b.process.waitFor(DRAIN_TIMEOUT.plus(EXIT_MARGIN).toMillis(), TimeUnit.MILLISECONDS))
                .as("the sidecar exited within the drain timeout (+ %s): %s", EXIT_MARGIN, b.logText()).isTrue();
        assertThat(b.process.exitValue()).as(b.logText()).isZero();
        assertThat(b.logText()).contains("inbound listener closed").contains("drained");
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** {@code kill -SIG <pid>}: STOP freezes the process with its sockets open, CONT resumes it. */
    private static void signal(MeshProcess p, String signal) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(p.process.pid()))
                .redirectErrorStream(true).start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(kill.exitValue()).as(new String(kill.getInputStream().readAllBytes())).isZero();
    }
}
