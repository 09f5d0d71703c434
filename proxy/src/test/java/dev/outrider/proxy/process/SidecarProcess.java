package dev.outrider.proxy.process;

import dev.outrider.core.testing.FreePorts;
import dev.outrider.proxy.tls.TestPki;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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
        for (int attempt = 1; ; attempt++) {
            try {
                return startOnce(dir, appPort, extraYaml, jvmArgs, tlsYaml);
            } catch (PortTaken e) {
                if (attempt == 3) {
                    throw new IllegalStateException(e.getMessage(), e);
                }
                // a probed port was taken by another process before the sidecar bound it: new ports
            }
        }
    }

    /** The sidecar could not bind a port found free a moment before. */
    private static final class PortTaken extends Exception {
        PortTaken(String message) {
            super(message);
        }
    }

    private static SidecarProcess startOnce(Path dir, int appPort, String extraYaml, List<String> jvmArgs,
                                            String tlsYaml) throws Exception {
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
                String text = s.logText();
                if (text.contains("Address already in use")) {
                    throw new PortTaken("sidecar exited with " + p.exitValue() + ":\n" + text);
                }
                throw new IllegalStateException("sidecar exited with " + p.exitValue() + ":\n" + text);
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
            HttpURLConnection c = get(healthPort, "/ready", 1000);
            int code = c.getResponseCode();
            c.disconnect();
            return code;
        } catch (IOException e) {
            return -1;
        }
    }

    /**
     * Inbound requests answered so far with a 2xx ({@code outrider_requests_total} on the admin port's
     * {@code /metrics}); -1 when the admin port does not answer.
     */
    long inboundAnswered() {
        try {
            HttpURLConnection c = get(adminPort, "/metrics", 5000);
            String text;
            try (var in = c.getInputStream()) {
                text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            c.disconnect();
            Matcher m = INBOUND_2XX.matcher(text);
            return m.find() ? (long) Double.parseDouble(m.group(1)) : 0;
        } catch (IOException e) {
            return -1;
        }
    }

    /** A plain HTTP GET of {@code path} on a local port, with {@code timeoutMillis} to connect and to read. */
    private static HttpURLConnection get(int port, String path, int timeoutMillis) throws IOException {
        HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + port + path).toURL()
                .openConnection();
        c.setConnectTimeout(timeoutMillis);
        c.setReadTimeout(timeoutMillis);
        return c;
    }

    private static final Pattern INBOUND_2XX = Pattern.compile(
            "(?m)^outrider_requests_total\\{(?=[^}]*direction=\"inbound\")(?=[^}]*status_class=\"2xx\")[^}]*} (\\S+)$");

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
     * The sidecar's mTLS files in {@code dir}, issued by {@code mesh} to spiffe://cluster.local/ns/test/sa/app (the
     * node {@link #start} configures): cert.pem, key.pem, ca-bundle.pem; returns the {@code tls:} section naming
     * them, with {@code provider}.
     */
    static String meshTls(Path dir, TestPki.Ca mesh, String provider) throws Exception {
        mesh.leaf().spiffe(TestPki.spiffe("cluster.local", "test", "app")).issue()
                .writeTo(dir.resolve("cert.pem"), dir.resolve("key.pem"));
        mesh.writeBundle(dir.resolve("ca-bundle.pem"));
        return "tls: {certificate: '%s', privateKey: '%s', trustBundle: '%s', provider: %s}".formatted(
                dir.resolve("cert.pem"), dir.resolve("key.pem"), dir.resolve("ca-bundle.pem"), provider);
    }

    /** One {@code GET /} over mTLS with the JDK's own client (TLS 1.3, the caller's certificate, the mesh root). */
    static String getOverMtls(int port, TestPki.Ca mesh, TestPki.Leaf caller) throws Exception {
        char[] password = "test".toCharArray();
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        keys.setKeyEntry("caller", caller.key(), password, caller.chain().toArray(new X509Certificate[0]));
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, password);
        KeyStore roots = KeyStore.getInstance("PKCS12");
        roots.load(null, null);
        roots.setCertificateEntry("mesh", mesh.cert());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(roots);
        SSLContext ctx = SSLContext.getInstance("TLSv1.3");
        ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        try (SSLSocket socket = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write("GET / HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    /** A free loopback port below the kernel's ephemeral range ({@link FreePorts#belowEphemeralRange}). */
    static int freePort() throws IOException {
        return FreePorts.belowEphemeralRange();
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
