package dev.outrider.bench.controlplane;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * An etcd cluster for the replicated propagation benchmark: {@code members} processes of Debian's
 * {@code etcd-server} ({@code /usr/bin/etcd}) on 127.0.0.1, clients and peers on plain HTTP, each member's data
 * (its write-ahead log, fsync'd as etcd always does) in its own directory. Started by {@link #start}, which returns
 * once every member reports itself healthy (a leader and a quorum); the members are stopped with the run's
 * {@link Cleanup}. The benchmark's own small launcher: bench code does not use the control
 * plane's test harness.
 */
final class LocalEtcd {
    static final Path COMMAND = Path.of("/usr/bin/etcd");
    private static final Duration READY = Duration.ofSeconds(30);

    private final List<ChildProcess> members;
    private final List<String> clientAddresses;

    private LocalEtcd(List<ChildProcess> members, List<String> clientAddresses) {
        this.members = List.copyOf(members);
        this.clientAddresses = List.copyOf(clientAddresses);
    }

    /**
     * Starts {@code size} members with their data and logs under {@code dir}; each started member goes into
     * {@code cleanup} at once, so a member that does not come up is stopped with the others.
     */
    static LocalEtcd start(Path dir, int size, Cleanup cleanup) throws IOException, InterruptedException {
        if (!Files.isExecutable(COMMAND)) {
            throw new IllegalStateException(COMMAND + " not found: install Debian's etcd-server"
                    + " (apt-get install etcd-server) for --replicas");
        }
        Files.createDirectories(dir);
        List<String> names = new ArrayList<>();
        List<int[]> ports = new ArrayList<>(); // client, peer, metrics
        for (int i = 0; i < size; i++) {
            names.add("m" + i);
            ports.add(new int[] {ChildProcess.freePort(), ChildProcess.freePort(), ChildProcess.freePort()});
        }
        String cluster = IntStream.range(0, size).mapToObj(i -> names.get(i) + "=http://127.0.0.1:" + ports.get(i)[1])
                .collect(Collectors.joining(","));
        String token = "outrider-bench-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        List<ChildProcess> members = cleanup.addProcesses(new CopyOnWriteArrayList<>());
        List<String> clients = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            int[] p = ports.get(i);
            List<String> command = List.of(COMMAND.toString(),
                    "--name", names.get(i),
                    "--data-dir", dir.resolve(names.get(i)).toString(),
                    "--listen-client-urls", "http://127.0.0.1:" + p[0],
                    "--advertise-client-urls", "http://127.0.0.1:" + p[0],
                    "--listen-peer-urls", "http://127.0.0.1:" + p[1],
                    "--initial-advertise-peer-urls", "http://127.0.0.1:" + p[1],
                    "--listen-metrics-urls", "http://127.0.0.1:" + p[2],
                    "--initial-cluster", cluster,
                    "--initial-cluster-state", "new",
                    "--initial-cluster-token", token,
                    "--log-level", "warn",
                    "--logger", "zap");
            members.add(ChildProcess.start("etcd " + names.get(i), command, dir.resolve(names.get(i) + ".log"),
                    Map.of()));
            clients.add("127.0.0.1:" + p[0]);
        }
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        try {
            for (int i = 0; i < size; i++) {
                awaitHealthy(http, members.get(i), ports.get(i)[2]);
            }
        } finally {
            http.shutdownNow();
        }
        return new LocalEtcd(members, clients);
    }

    /** The control plane's {@code --store} value: {@code etcd://127.0.0.1:P0,127.0.0.1:P1,...}. */
    String storeUri() {
        return "etcd://" + String.join(",", clientAddresses);
    }

    List<ChildProcess> members() {
        return members;
    }

    /** etcd's {@code /health} on the member's metrics port: {@code {"health":"true"}} once it has a leader. */
    private static void awaitHealthy(HttpClient http, ChildProcess member, int metricsPort)
            throws InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/health"))
                .timeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + READY.toNanos();
        String last = "no answer";
        while (System.nanoTime() - deadline < 0) {
            if (!member.isAlive()) {
                throw new IllegalStateException(member.name() + " exited:\n" + member.logTail(20));
            }
            try {
                HttpResponse<String> answer = http.send(request, HttpResponse.BodyHandlers.ofString());
                last = answer.statusCode() + " " + answer.body();
                if (answer.statusCode() == 200 && answer.body().contains("\"true\"")) {
                    return;
                }
            } catch (IOException e) {
                last = e.toString();
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException(member.name() + " not healthy within " + READY.toSeconds() + " s: " + last
                + "\n" + member.logTail(20));
    }

    @Override
    public String toString() {
        return members.stream().map(m -> m.name() + " (pid " + m.pid() + ")").collect(Collectors.joining(", "));
    }
}
