package dev.outrider.e2e;

import dev.outrider.core.client.ControlPlaneClient;
import dev.outrider.core.client.ControlPlaneClientConfig;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code outrider control-plane} as a process on a fixed loopback port (so it can be restarted on the same
 * address the sidecars know), with an admin token (development mode) and its data in {@code dataDir}.
 */
final class ControlPlaneProcess extends MeshProcess {
    static final String MAIN = "dev.outrider.controlplane.cli.ControlPlaneMain";
    static final String ADMIN_TOKEN = "e2e-admin-token-0123456789abcdef0123456789abcdef";

    final int port;
    final Path dataDir;
    final TestCa ca;

    private ControlPlaneProcess(MeshProcess p, int port, Path dataDir, TestCa ca) {
        super(p.process, p.log);
        this.port = port;
        this.dataDir = dataDir;
        this.ca = ca;
    }

    /** Starts a process from the control plane's options (the log file, the arguments). */
    interface Launcher {
        MeshProcess start(Path log, List<String> args) throws java.io.IOException;
    }

    /** Starts it from the test class path and waits until the API answers. */
    static ControlPlaneProcess start(Path dir, int port, TestCa ca) throws Exception {
        return start(dir, port, ca, List.of());
    }

    /** Starts it with {@code extraArgs} (e.g. {@code --k8s-issuer ...}) and waits until the API answers. */
    static ControlPlaneProcess start(Path dir, int port, TestCa ca, List<String> extraArgs) throws Exception {
        return start(dir, port, ca, extraArgs, (log, args) -> MeshProcess.start(log, MAIN, args));
    }

    /** Starts it with {@code launcher} (e.g. an image's entry point) and waits until the API answers. */
    static ControlPlaneProcess start(Path dir, int port, TestCa ca, Launcher launcher) throws Exception {
        return start(dir, port, ca, List.of(), launcher);
    }

    /** Starts it with {@code extraArgs}, by {@code launcher}, and waits until the API answers. */
    static ControlPlaneProcess start(Path dir, int port, TestCa ca, List<String> extraArgs, Launcher launcher)
            throws Exception {
        Files.createDirectories(dir);
        Path tokenFile = dir.resolve("admin-token");
        if (!Files.exists(tokenFile)) {
            Files.writeString(tokenFile, ADMIN_TOKEN);
        }
        Path dataDir = dir.resolve("data");
        Path log = dir.resolve("control-plane-" + System.nanoTime() + ".log");
        List<String> args = new java.util.ArrayList<>(List.of("--listen", "127.0.0.1:" + port,
                "--data-dir", dataDir.toString(), "--ca-cert", ca.certificate().toString(),
                "--ca-key", ca.privateKey().toString(), "--admin-token-file", tokenFile.toString()));
        args.addAll(extraArgs);
        MeshProcess p = launcher.start(log, args);
        ControlPlaneProcess cp = new ControlPlaneProcess(p, port, dataDir, ca);
        try (ControlPlaneClient admin = cp.admin()) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (true) {
                if (!cp.isAlive()) {
                    throw new IllegalStateException("control plane exited:\n" + cp.logText());
                }
                try {
                    admin.health();
                    return cp;
                } catch (RuntimeException e) {
                    if (System.nanoTime() > deadline) {
                        cp.kill();
                        throw new IllegalStateException("control plane not answering within 60 s:\n" + cp.logText(), e);
                    }
                    Thread.sleep(50);
                }
            }
        }
    }

    String url() {
        return "https://127.0.0.1:" + port;
    }

    Path snapshotKeys() {
        return dataDir.resolve("snapshot-keys.json");
    }

    /** An admin client (bearer token); close it. */
    ControlPlaneClient admin() {
        return admin(Duration.ofSeconds(10));
    }

    /** An admin client (bearer token) waiting up to {@code requestTimeout} for an answer; close it. */
    ControlPlaneClient admin(Duration requestTimeout) {
        return ControlPlaneClient.open(new ControlPlaneClientConfig(URI.create(url()),
                ControlPlaneClientConfig.defaultServerIdentity("cluster.local"), ca.certificate(), null, null,
                ADMIN_TOKEN, Duration.ofSeconds(2), requestTimeout));
    }

    /** A join token for service account {@code sa} in namespace {@code shop}, valid ten minutes. */
    String joinToken(String sa) {
        try (ControlPlaneClient admin = admin()) {
            return admin.createJoinToken("shop", sa, Duration.ofMinutes(10)).token();
        }
    }

    /** The ctl options reaching this control plane as admin. */
    List<String> ctlOptions() {
        return List.of("--server", url(), "--ca", ca.certificate().toString(), "--token-file",
                dataDir.getParent().resolve("admin-token").toString());
    }
}
