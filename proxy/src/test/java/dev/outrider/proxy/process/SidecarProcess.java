package dev.outrider.proxy.process;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A real sidecar process ({@code outrider proxy --config FILE}) started from the test class path with the
 * test JVM's own java, so drain and memory behaviour are those of a separate process with its own heap.
 */
final class SidecarProcess implements AutoCloseable {
    final Process process;
    final Path log;
    final int inboundPort;
    final int outboundPort;
    final int healthPort;
    final int adminPort;

    private SidecarProcess(Process process, Path log, int inbound, int outbound, int health, int admin) {
        this.process = process;
        this.log = log;
        this.inboundPort = inbound;
        this.outboundPort = outbound;
        this.healthPort = health;
        this.adminPort = admin;
    }

    /** Starts a plaintext sidecar whose inbound forwards to 127.0.0.1:{@code appPort}; waits for /ready. */
    static SidecarProcess start(Path dir, int appPort, String extraYaml, List<String> jvmArgs) throws Exception {
        return start(dir, appPort, extraYaml, jvmArgs, "tls: {mode: disabled}");
    }

    /**
     * As {@link #start(Path, int, String, List)} with {@code tlsYaml} as the {@code tls:} section; the node is
     * {@code spiffe://cluster.local/ns/test/sa/app}.
     */
    static SidecarProcess start(Path dir, int appPort, String extraYaml, List<String> jvmArgs, String tlsYaml)
            throws Exception {
        int inbound = freePort();
        int outbound = freePort();
        int health = freePort();
        int admin = freePort();
        Path config = dir.resolve("sidecar.yaml");
        Files.writeString(config, """
                node: {service: app, namespace: test}
                inbound: {listen: 127.0.0.1:%d, application: 127.0.0.1:%d}
                outbound: {listen: 127.0.0.1:%d}
                health: {listen: 127.0.0.1:%d}
                admin: {listen: 127.0.0.1:%d}
                %s
                %s
                %s
                """.formatted(inbound, appPort, outbound, health, admin,
                extraYaml.contains("accessLog:") ? "" : "accessLog: {enabled: false}", tlsYaml,
                extraYaml.contains("policies:") ? "" : "policies: {defaultAction: allow}") + extraYaml);
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        cmd.add("-Dio.netty.leakDetection.level=paranoid"); // as in the test JVM; jvmArgs may override
        cmd.addAll(jvmArgs);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("dev.outrider.proxy.SidecarMain");
        cmd.add("proxy");
        cmd.add("--config");
        cmd.add(config.toString());
        Path log = dir.resolve("sidecar.log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        SidecarProcess s = new SidecarProcess(p, log, inbound, outbound, health, admin);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IllegalStateException("sidecar exited with " + p.exitValue() + ":\n" + s.logText());
            }
            if (s.readyStatus() == 200) {
                return s;
            }
            Thread.sleep(50);
        }
        s.close();
        throw new IllegalStateException("sidecar not ready within 30 s:\n" + s.logText());
    }

    /** GET /ready status, or -1 when the health port does not answer. */
    int readyStatus() {
        try {
            HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + healthPort + "/ready")
                    .toURL().openConnection();
            c.setConnectTimeout(1000);
            c.setReadTimeout(1000);
            int code = c.getResponseCode();
            c.disconnect();
            return code;
        } catch (IOException e) {
            return -1;
        }
    }

    String logText() {
        try {
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            return "(log unreadable: " + e + ")";
        }
    }

    /** Netty's leak detector reports in the log; a report is a failed test, as in the test JVM. */
    void assertNoLeaks() {
        String text = logText();
        if (text.contains("LEAK:")) {
            throw new AssertionError("the sidecar process reported a buffer leak:\n" + text);
        }
    }

    /** SIGTERM, as an orchestrator sends it. */
    void terminate() {
        process.destroy();
    }

    int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("sidecar did not exit within " + timeout + ":\n" + logText());
        }
        return process.exitValue();
    }

    /**
     * A port with nothing listening on it now, below the kernel's ephemeral range: a process that has exited
     * leaves its port closed, and a connection to a closed loopback port inside the ephemeral range can be given
     * that same port as its source and connect to itself (TCP simultaneous open), which a peer still trying the
     * old endpoint would take for a live one. Falls back to an ephemeral port when none below is free.
     */
    static int freePort() throws IOException {
        int ephemeralStart = 32768;
        try {
            ephemeralStart = Integer.parseInt(
                    Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).getFirst().trim().split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            // not Linux, or unreadable: keep the usual start
        }
        int low = Math.max(1024, Math.min(20_000, ephemeralStart / 2)); // never a privileged port
        for (int attempt = 0; attempt < 200 && ephemeralStart > low; attempt++) {
            int port = ThreadLocalRandom.current().nextInt(low, ephemeralStart);
            try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                return s.getLocalPort();
            } catch (IOException inUse) {
                // try another
            }
        }
        try (ServerSocket s = new ServerSocket(0)) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
