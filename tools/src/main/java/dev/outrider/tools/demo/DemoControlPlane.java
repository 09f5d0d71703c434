package dev.outrider.tools.demo;

import dev.outrider.core.client.ControlPlaneClient;
import dev.outrider.core.client.ControlPlaneClientConfig;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * The demo's control plane: {@code outrider control-plane} as its own process (as in a real mesh), with its
 * store in the demo's temporary directory, the development CA from {@code certs/mesh-ca.sh}, and a random admin
 * token in an owner-only file (development mode). Stopped with SIGTERM, then forcibly after a grace period.
 */
final class DemoControlPlane implements AutoCloseable {
    static final String ADDRESS = "127.0.0.1:15010";

    private final Process process;
    private final Path log;
    private final Path tokenFile;
    private final Path caCertificate;
    private final ControlPlaneClient admin;

    private DemoControlPlane(Process process, Path log, Path tokenFile, Path caCertificate, ControlPlaneClient admin) {
        this.process = process;
        this.log = log;
        this.tokenFile = tokenFile;
        this.caCertificate = caCertificate;
        this.admin = admin;
    }

    /**
     * Starts the process and returns once its API answers.
     *
     * @param jar the control plane's jar ({@code control-plane/target/outrider-control-plane.jar}, next to its lib/)
     */
    static DemoControlPlane start(Path jar, Path workDir, Path caCertificate, Path caKey) throws Exception {
        requireNonNull(jar, "jar");
        if (!Files.isRegularFile(jar)) {
            throw new IOException("no control plane jar at " + jar.toAbsolutePath()
                    + " (./outrider builds it; or ./mvnw -DskipTests package)");
        }
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        String token = HexFormat.of().formatHex(secret);
        Path tokenFile = workDir.resolve("admin-token");
        Files.createFile(tokenFile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(tokenFile, token + "\n");
        Path log = workDir.resolve("control-plane.log");
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.addAll(List.of("--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC", "-Xss512k", "-Xmx128m",
                "-jar", jar.toAbsolutePath().toString(),
                "--listen", ADDRESS, "--data-dir", workDir.resolve("control-plane").toString(),
                "--ca-cert", caCertificate.toAbsolutePath().toString(), "--ca-key", caKey.toAbsolutePath().toString(),
                "--admin-token-file", tokenFile.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        ControlPlaneClient admin = null;
        try {
            admin = ControlPlaneClient.open(new ControlPlaneClientConfig(URI.create("https://" + ADDRESS),
                    ControlPlaneClientConfig.defaultServerIdentity("cluster.local"), caCertificate, null, null, token,
                    Duration.ofSeconds(2), Duration.ofSeconds(10)));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (true) {
                if (!p.isAlive()) {
                    throw new IOException("the control plane exited with " + p.exitValue() + ":\n" + tail(log));
                }
                try {
                    admin.health();
                    break;
                } catch (RuntimeException notYet) {
                    if (System.nanoTime() > deadline) {
                        throw new IOException("the control plane did not answer on " + ADDRESS + " within 30 s:\n"
                                + tail(log));
                    }
                    Thread.sleep(100);
                }
            }
            return new DemoControlPlane(p, log, tokenFile, caCertificate, admin);
        } catch (Exception e) {
            if (admin != null) {
                admin.close();
            }
            p.destroyForcibly();
            throw e;
        }
    }

    ControlPlaneClient admin() {
        return admin;
    }

    Path tokenFile() {
        return tokenFile;
    }

    Path log() {
        return log;
    }

    /** The ctl connection options for this control plane, as a user would type them. */
    List<String> ctlOptions() {
        return List.of("--server", "https://" + ADDRESS, "--ca", caCertificate.toString(), "--token-file",
                tokenFile.toString());
    }

    @Override
    public void close() {
        admin.close();
        process.destroy(); // SIGTERM: the control plane closes its listener and store
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }
}
