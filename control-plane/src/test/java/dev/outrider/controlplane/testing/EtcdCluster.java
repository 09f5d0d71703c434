package dev.outrider.controlplane.testing;

import dev.outrider.core.testing.DebianPackages;
import dev.outrider.core.testing.FreePorts;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Real etcd members as processes on 127.0.0.1 (Debian's {@code etcd-server}; installed with apt-get when the
 * {@code etcd} command is missing and the tests run as root), each on its own ephemeral client and peer ports
 * with its data under a test directory. Members can be killed with SIGKILL and started again on the same data,
 * as the failure tests need. Clients speak plain HTTP, or TLS with client certificates required
 * ({@link #start(Path, int, ServerTls)}); health is read from each member's plain metrics port either way.
 * {@link #close()} stops every member.
 */
public final class EtcdCluster implements AutoCloseable {
    private static final Duration READY = Duration.ofSeconds(30);

    private final Path dir;
    private final List<Member> members = new ArrayList<>();
    private final String token;

    private final ServerTls tls;

    /**
     * Client TLS of the members: their serving certificate and key, and the CA a client certificate must chain to
     * (etcd's {@code --client-cert-auth}); peers talk plain HTTP on loopback.
     */
    public record ServerTls(Path ca, Path certificate, Path key) {
    }

    private static final class Member {
        final String name;
        final int clientPort;
        final int peerPort;
        /** Plain HTTP {@code /health} and {@code /metrics}, also when clients must use TLS. */
        final int metricsPort;
        Process process;

        Member(String name, int clientPort, int peerPort, int metricsPort) {
            this.name = name;
            this.clientPort = clientPort;
            this.peerPort = peerPort;
            this.metricsPort = metricsPort;
        }
    }

    private EtcdCluster(Path dir, int size, ServerTls tls) throws IOException {
        this.dir = dir;
        this.tls = tls;
        this.token = "outrider-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        for (int i = 0; i < size; i++) {
            members.add(new Member("m" + i, freePort(), freePort(), freePort()));
        }
    }

    /** Starts {@code size} members under {@code dir} and waits until the cluster has a leader. */
    public static EtcdCluster start(Path dir, int size) throws Exception {
        return start(dir, size, null);
    }

    /** As {@link #start(Path, int)}, with clients on TLS and client certificates required ({@code tls} non-null). */
    public static EtcdCluster start(Path dir, int size, ServerTls tls) throws Exception {
        String etcd = etcdCommand();
        for (int attempt = 1; ; attempt++) {
            // a port probed free can be taken by another process before the member binds it: a new cluster on
            // new ports (and a new data directory, as the first one's members recorded the old peers) then
            Path attemptDir = attempt == 1 ? dir : dir.resolve("attempt-" + attempt);
            EtcdCluster cluster = new EtcdCluster(attemptDir, size, tls);
            try {
                for (int i = 0; i < size; i++) {
                    cluster.launch(etcd, i, "new");
                }
                for (int i = 0; i < size; i++) {
                    cluster.awaitHealthy(i);
                }
                return cluster;
            } catch (Exception | Error e) {
                cluster.close();
                if (attempt < 3 && cluster.aPortWasTaken()) {
                    continue;
                }
                throw e;
            }
        }
    }

    /** Whether a member's log says that one of its ports was in use when it started. */
    private boolean aPortWasTaken() {
        return members.stream().anyMatch(m -> log(m).contains("address already in use"));
    }

    /** The store option's value for every member: {@code etcd://127.0.0.1:P1,127.0.0.1:P2,...}. */
    public String storeUri() {
        return "etcd://" + members.stream().map(m -> "127.0.0.1:" + m.clientPort).collect(Collectors.joining(","));
    }

    /** {@code host:port} of each member's client URL. */
    public List<String> endpoints() {
        return members.stream().map(m -> "127.0.0.1:" + m.clientPort).toList();
    }

    /** SIGKILL to member {@code i}; waits until it is gone. */
    public void kill(int i) throws InterruptedException {
        Process p = members.get(i).process;
        if (p != null && p.isAlive()) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** Starts member {@code i} again on its data directory, and waits until it is healthy (needs a quorum). */
    public void restart(int i) throws Exception {
        launch(etcdCommand(), i, "existing");
        awaitHealthy(i);
    }

    /** Starts member {@code i} again without waiting for its health (when the quorum comes back with another). */
    public void restartNoWait(int i) throws Exception {
        launch(etcdCommand(), i, "existing");
    }

    /** Waits until member {@code i} reports itself healthy (it has a leader and a quorum). */
    public void awaitHealthy(int i) throws Exception {
        Member m = members.get(i);
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        long deadline = System.nanoTime() + READY.toNanos();
        String last = "no answer";
        while (System.nanoTime() < deadline) {
            if (m.process == null || !m.process.isAlive()) {
                throw new IllegalStateException("etcd member " + m.name + " exited: " + log(m));
            }
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(
                                URI.create("http://127.0.0.1:" + m.metricsPort + "/health"))
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
                last = r.statusCode() + " " + r.body();
                if (r.statusCode() == 200 && r.body().contains("\"true\"")) {
                    return;
                }
            } catch (IOException e) {
                last = e.toString();
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("etcd member " + m.name + " not healthy within " + READY + ": " + last
                + "; log: " + log(m));
    }

    private void launch(String etcd, int i, String state) throws IOException {
        Member m = members.get(i);
        String cluster = members.stream().map(x -> x.name + "=http://127.0.0.1:" + x.peerPort)
                .collect(Collectors.joining(","));
        Path data = dir.resolve(m.name);
        Files.createDirectories(dir);
        String scheme = tls == null ? "http" : "https";
        List<String> command = new ArrayList<>(List.of(etcd,
                "--name", m.name,
                "--data-dir", data.toString(),
                "--listen-client-urls", scheme + "://127.0.0.1:" + m.clientPort,
                "--advertise-client-urls", scheme + "://127.0.0.1:" + m.clientPort,
                "--listen-metrics-urls", "http://127.0.0.1:" + m.metricsPort,
                "--listen-peer-urls", "http://127.0.0.1:" + m.peerPort,
                "--initial-advertise-peer-urls", "http://127.0.0.1:" + m.peerPort,
                "--initial-cluster", cluster,
                "--initial-cluster-state", state,
                "--initial-cluster-token", token,
                "--heartbeat-interval", "50",
                "--election-timeout", "500",
                "--log-level", "warn",
                "--logger", "zap"));
        if (tls != null) {
            command.addAll(List.of("--client-cert-auth", "--trusted-ca-file", tls.ca().toString(),
                    "--cert-file", tls.certificate().toString(), "--key-file", tls.key().toString()));
        }
        m.process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve(m.name + ".log").toFile()))
                .start();
    }

    private String log(Member m) {
        try {
            List<String> lines = Files.readAllLines(dir.resolve(m.name + ".log"));
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    @Override
    public void close() {
        for (Member m : members) {
            if (m.process != null && m.process.isAlive()) {
                m.process.destroy();
            }
        }
        for (Member m : members) {
            if (m.process != null) {
                try {
                    if (!m.process.waitFor(10, TimeUnit.SECONDS)) {
                        m.process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    m.process.destroyForcibly();
                }
            }
        }
    }

    /**
     * The etcd command: {@code etcd} on the PATH or in /usr/bin; when missing, Debian's {@code etcd-server} is
     * installed (apt-get, as root), as the project's README says its tests do.
     */
    public static String etcdCommand() throws IOException, InterruptedException {
        return DebianPackages.command("etcd", "etcd-server");
    }

    /** {@link FreePorts#belowEphemeralRange()}: the members' ports, and the end-to-end tests' processes'. */
    public static int freePort() throws IOException {
        return FreePorts.belowEphemeralRange();
    }
}
