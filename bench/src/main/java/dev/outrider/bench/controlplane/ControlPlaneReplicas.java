package dev.outrider.bench.controlplane;

import com.nimbusds.jose.jwk.JWKSet;
import dev.outrider.core.client.ControlPlaneClient;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static java.util.Objects.requireNonNull;

/**
 * The replicated control plane of a propagation run: a local etcd cluster ({@link LocalEtcd}) and {@code count}
 * control-plane replicas, each its own JVM running the real {@code outrider control-plane}
 * ({@code java @config/jvm/control-plane.options -jar control-plane/target/outrider-control-plane.jar}, as the
 * launcher and the image start it) with {@code --store etcd://...}, the same CA, {@code --signing-key} and admin
 * token, on 127.0.0.1 and a port of its own, its data directory and log in the run's directory.
 *
 * <p>{@code -XX:MaxRAM} is added to the launcher's flags: the JVM sizes what the options file leaves to it (the
 * code cache, the compiler's threads) from the machine's memory, which in a container is the memory limit (384 MiB
 * in docker/kubernetes/control-plane.yaml) and here would be the whole machine's; MaxRAM gives the JVM the
 * container's figure. The heap is fixed by the options file ({@code -Xmx80m}).
 */
final class ControlPlaneReplicas {
    private static final Duration READY = Duration.ofSeconds(60);

    /**
     * How to start the replicas.
     *
     * @param count       how many (2 or more)
     * @param etcdMembers the etcd cluster's size
     * @param jar         the control plane's jar (its {@code lib/} beside it)
     * @param jvmOptions  the launcher's JVM flags for the control plane (a java @argfile)
     * @param maxRam      {@code -XX:MaxRAM} of each replica (the container memory limit it would have)
     * @param tlsProvider the replicas' {@code --tls-provider}
     */
    record Options(int count, int etcdMembers, Path jar, Path jvmOptions, String maxRam, String tlsProvider) {
        Options {
            requireNonNull(jar, "jar");
            requireNonNull(jvmOptions, "jvmOptions");
            requireNonNull(maxRam, "maxRam");
            requireNonNull(tlsProvider, "tlsProvider");
        }
    }

    private ControlPlaneReplicas() {
    }

    /** Starts etcd, then the replicas, and returns once each one answers {@code GET /v1/health}. */
    static ControlPlaneUnderTest start(Path dir, BenchMeshCa ca, Path adminTokenFile, String adminToken,
                                       Options options, Cleanup cleanup) throws Exception {
        for (Path file : List.of(options.jar(), options.jvmOptions())) {
            if (!Files.isRegularFile(file)) {
                throw new IllegalStateException(file.toAbsolutePath() + " not found (run from the repository root,"
                        + " after ./mvnw -pl bench -am package, as bench/scripts/propagation.sh does)");
            }
        }
        LocalEtcd etcd = LocalEtcd.start(dir.resolve("etcd"), options.etcdMembers(), cleanup);
        Path signingKey = BenchMeshCa.signingKey(dir.resolve("signing-key.pem"));
        String java = ProcessHandle.current().info().command()
                .orElseThrow(() -> new IllegalStateException("cannot tell which java runs the benchmark"));
        List<ChildProcess> processes = cleanup.addProcesses(new CopyOnWriteArrayList<>());
        List<URI> addresses = new ArrayList<>();
        for (int i = 0; i < options.count(); i++) {
            int port = ChildProcess.freePort();
            Path data = Files.createDirectories(dir.resolve("replica-" + i));
            List<String> command = List.of(java, "@" + options.jvmOptions().toAbsolutePath(),
                    "-XX:MaxRAM=" + options.maxRam(),
                    "-jar", options.jar().toAbsolutePath().toString(),
                    "--listen", "127.0.0.1:" + port,
                    "--data-dir", data.toString(),
                    "--ca-cert", ca.certificate().toString(),
                    "--ca-key", ca.privateKey().toString(),
                    "--signing-key", signingKey.toString(),
                    "--admin-token-file", adminTokenFile.toString(),
                    "--tls-provider", options.tlsProvider(),
                    "--store", etcd.storeUri());
            // The control plane's own log level (INFO), as deployed; its few lines per write go to the log file.
            processes.add(ChildProcess.start("replica " + i, command, dir.resolve("replica-" + i + ".log"),
                    Map.of("OUTRIDER_LOG_LEVEL", "INFO")));
            addresses.add(URI.create("https://127.0.0.1:" + port));
        }
        String keys = null;
        for (int i = 0; i < options.count(); i++) {
            try (ControlPlaneClient admin = ControlPlaneUnderTest.adminClient(addresses.get(i), ca.certificate(),
                    adminToken)) {
                awaitHealthy(admin, processes.get(i));
                if (keys == null) {
                    keys = admin.snapshotKeys();
                }
            }
        }
        return new ControlPlaneUnderTest(addresses, JWKSet.parse(keys), processes, etcd.members(),
                options.count() + " control-plane replicas (each its own JVM: " + options.jvmOptions() + " -XX:MaxRAM="
                        + options.maxRam() + ", TLS " + options.tlsProvider() + ") on " + options.etcdMembers()
                        + " etcd members (" + LocalEtcd.COMMAND + ", loopback, data on disk)");
    }

    private static void awaitHealthy(ControlPlaneClient admin, ChildProcess replica) throws InterruptedException {
        long deadline = System.nanoTime() + READY.toNanos();
        while (true) {
            if (!replica.isAlive()) {
                throw new IllegalStateException(replica.name() + " exited with " + replica.process().exitValue()
                        + ":\n" + replica.logTail(30));
            }
            try {
                admin.health();
                return;
            } catch (RuntimeException e) {
                if (System.nanoTime() - deadline > 0) {
                    throw new IllegalStateException(replica.name() + " not answering within " + READY.toSeconds()
                            + " s (" + e.getMessage() + "):\n" + replica.logTail(30), e);
                }
                Thread.sleep(100);
            }
        }
    }
}
