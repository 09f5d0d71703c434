package dev.outrider.bench.controlplane;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.jwk.JWKSet;
import dev.outrider.core.client.ControlPlaneClient;
import dev.outrider.core.client.ControlPlaneClientConfig;
import dev.outrider.core.client.JoinToken;
import dev.outrider.core.model.ResourceKind;
import dev.outrider.core.model.SpiffeId;
import dev.outrider.controlplane.ControlPlane;
import dev.outrider.controlplane.ControlPlaneConfig;
import dev.outrider.controlplane.server.ServerTls;
import io.netty.handler.ssl.OpenSsl;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/**
 * The control plane's distribution benchmark: how long from an API write until every sidecar applied and
 * acknowledged it, with {@code --sidecars} simulated sidecars in this JVM (the goal: p99 write → ACK under
 * 1 s with 100). Everything is real but the proxy: the control plane ({@link ControlPlane#start}, HTTPS on
 * 127.0.0.1, file store with fsync), and per sidecar a join token, CSR, certificate files, mTLS client, long-poll
 * watcher, signature check, policy parse, last-known-good file and ACK ({@link SimulatedSidecar}).
 *
 * <pre>
 *   bench/scripts/propagation.sh --sidecars 100 --writes 50
 *   java -cp bench/target/benchmarks.jar dev.outrider.bench.controlplane.PropagationBenchmark --help
 * </pre>
 *
 * Steps: a throw-away CA and admin token in a temporary directory (deleted at the end) → control plane on an
 * ephemeral port → one Service per workload ({@code svc-000}...) in {@code --namespace} → the sidecars bootstrap
 * and watch → wait until every one registered, applied a snapshot listing all N endpoints and is shown ACK by
 * {@code GET /v1/sidecars} → {@code --warmup-writes} unrecorded rounds, then {@code --writes} recorded rounds
 * ({@link PropagationRound}), {@code --pause-ms} apart → summary on stdout, progress on stderr. Exit 0 when every
 * round completed without a NACK, 1 otherwise (the summary says why).
 */
@Command(name = "propagation", mixinStandardHelpOptions = true,
        description = "Control plane write → sidecar apply/ACK latency with N simulated sidecars in one JVM.")
public final class PropagationBenchmark implements Callable<Integer> {
    static final String TRUST_DOMAIN = "cluster.local";

    @Option(names = "--sidecars", defaultValue = "100",
            description = "simulated sidecars (default: ${DEFAULT-VALUE})")
    int sidecars;

    @Option(names = "--writes", defaultValue = "50", description = "measured writes (default: ${DEFAULT-VALUE})")
    int writes;

    @Option(names = "--warmup-writes", defaultValue = "5",
            description = "writes before the measured ones, not recorded (default: ${DEFAULT-VALUE})")
    int warmupWrites;

    @Option(names = "--pause-ms", defaultValue = "100",
            description = "pause after each round (default: ${DEFAULT-VALUE})")
    int pauseMillis;

    @Option(names = "--namespace", defaultValue = "bench",
            description = "the workloads' namespace (default: ${DEFAULT-VALUE})")
    String namespace;

    @Option(names = "--policy-namespace", description = "where the policy is written: the workloads' namespace"
            + " (default) or the root namespace outrider-system")
    String policyNamespace;

    @Option(names = "--poll-wait-seconds", defaultValue = "30", description = "how long the control plane holds a"
            + " sidecar's long poll (default: ${DEFAULT-VALUE}, the sidecar's)")
    int pollWaitSeconds;

    @Option(names = "--ack-poll-ms", defaultValue = "5",
            description = "interval of GET /v1/sidecars while waiting for ACKs (default: ${DEFAULT-VALUE})")
    int ackPollMillis;

    @Option(names = "--round-timeout-seconds", defaultValue = "30",
            description = "a round not complete by then fails the run (default: ${DEFAULT-VALUE})")
    int roundTimeoutSeconds;

    @Option(names = "--start-timeout-seconds", defaultValue = "180",
            description = "for all sidecars to bootstrap, register and ACK (default: ${DEFAULT-VALUE})")
    int startTimeoutSeconds;

    @Option(names = "--start-parallelism", defaultValue = "4",
            description = "sidecars bootstrapped at once (default: ${DEFAULT-VALUE})")
    int startParallelism;

    @Option(names = "--cp-io-threads", defaultValue = "2",
            description = "control plane event loops (default: ${DEFAULT-VALUE}, the process default)")
    int ioThreads;

    @Option(names = "--cp-worker-threads", defaultValue = "4",
            description = "control plane workers (default: ${DEFAULT-VALUE}, the process default)")
    int workerThreads;

    @Option(names = "--tls-provider", defaultValue = "auto",
            description = "control plane TLS: auto, openssl, jdk (default: ${DEFAULT-VALUE})")
    String tlsProvider;

    @Option(names = "--keep-dir", description = "keep the temporary directory (CA, data, sidecar files) and print it")
    boolean keepDir;

    private final PrintStream out = System.out;
    private final PrintStream progress = System.err;

    public static void main(String[] args) {
        System.exit(new CommandLine(new PropagationBenchmark()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        if (sidecars < 1 || sidecars > 1000 || writes < 1 || warmupWrites < 0 || pauseMillis < 0 || ackPollMillis < 1
                || pollWaitSeconds < 1 || pollWaitSeconds > 60 || startParallelism < 1) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--sidecars 1..1000, --writes >= 1,"
                    + " --warmup-writes >= 0, --pause-ms >= 0, --ack-poll-ms >= 1, --poll-wait-seconds 1..60,"
                    + " --start-parallelism >= 1");
        }
        String policyNs = policyNamespace == null ? namespace : policyNamespace;
        if (!policyNs.equals(namespace) && !policyNs.equals(ControlPlaneConfig.SYSTEM_NAMESPACE)) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--policy-namespace must be "
                    + namespace + " or the root namespace " + ControlPlaneConfig.SYSTEM_NAMESPACE
                    + ", or the write reaches no sidecar");
        }
        Path work = Files.createTempDirectory("outrider-propagation-");
        try {
            return run(work, policyNs);
        } finally {
            if (keepDir) {
                progress.println("kept " + work);
            } else {
                deleteTree(work);
            }
        }
    }

    private int run(Path work, String policyNs) throws Exception {
        BenchMeshCa ca = BenchMeshCa.create(work.resolve("ca"));
        String adminToken = HexFormat.of().formatHex(randomBytes());
        Path tokenFile = work.resolve("admin-token");
        Files.createFile(tokenFile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(tokenFile, adminToken + "\n");
        ServerTls.Provider provider = ServerTls.Provider.parse(tlsProvider);
        ControlPlaneConfig config = ControlPlaneConfig.builder(work.resolve("data"), ca.certificate(), ca.privateKey())
                .listen(new InetSocketAddress("127.0.0.1", 0))
                .trustDomain(TRUST_DOMAIN)
                .adminTokenFile(tokenFile)
                .tlsProvider(provider)
                .ioThreads(ioThreads)
                .workerThreads(workerThreads)
                .build();
        int rounds = warmupWrites + writes;
        CountDownLatch[] roundApplied = new CountDownLatch[rounds + 1];
        for (int r = 0; r <= rounds; r++) {
            roundApplied[r] = new CountDownLatch(sidecars);
        }
        List<SimulatedSidecar> started = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(startParallelism);
        SpiffeId serverIdentity = ControlPlaneClientConfig.defaultServerIdentity(TRUST_DOMAIN);
        try (ControlPlane controlPlane = ControlPlane.start(config);
             ControlPlaneClient admin = adminClient(controlPlane, serverIdentity, ca.certificate(), adminToken)) {
            try {
                SimulatedSidecar.Mesh mesh = new SimulatedSidecar.Mesh(server(controlPlane), serverIdentity,
                        ca.certificate(), JWKSet.load(config.snapshotKeysFile().toFile()),
                        Duration.ofSeconds(pollWaitSeconds), Duration.ofSeconds(60));
                long startedAt = System.nanoTime();
                startSidecars(admin, mesh, work.resolve("sidecars"), roundApplied, pool, started);
                long bootstrapped = System.nanoTime();
                awaitSettled(admin, started, startedAt + Duration.ofSeconds(startTimeoutSeconds).toNanos());
                long settled = System.nanoTime();
                progress.printf(Locale.ROOT, "%d sidecars: certificates in %.1f s, all registered and ACKed after"
                        + " %.1f s%n", sidecars, (bootstrapped - startedAt) / 1e9, (settled - startedAt) / 1e9);
                PropagationReport report = new PropagationReport(sidecars, writes, warmupWrites, pauseMillis,
                        policyNs, ackPollMillis, (bootstrapped - startedAt) / 1e9, (settled - startedAt) / 1e9);
                report.describeSetup(ioThreads, workerThreads, provider == ServerTls.Provider.AUTO
                        ? "auto (" + (OpenSsl.isAvailable() ? "BoringSSL" : "JDK") + ")" : tlsProvider);
                boolean ok = measure(new PropagationRound(admin, policyNs, namespace, started, roundApplied,
                        Duration.ofSeconds(roundTimeoutSeconds), Duration.ofMillis(ackPollMillis)), report);
                report.print(out);
                return ok ? 0 : 1;
            } finally {
                closeAll(started, pool); // while the control plane still runs: the sidecars deregister
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** The operator's side: the admin token (development mode), trusting the mesh CA. */
    private static ControlPlaneClient adminClient(ControlPlane controlPlane, SpiffeId serverIdentity, Path ca,
                                                  String token) {
        return ControlPlaneClient.open(new ControlPlaneClientConfig(server(controlPlane), serverIdentity, ca, null,
                null, token, ControlPlaneClientConfig.DEFAULT_CONNECT_TIMEOUT,
                ControlPlaneClientConfig.DEFAULT_REQUEST_TIMEOUT));
    }

    private static URI server(ControlPlane controlPlane) {
        return URI.create("https://127.0.0.1:" + controlPlane.address().getPort());
    }

    private static byte[] randomBytes() {
        byte[] bytes = new byte[24];
        new SecureRandom().nextBytes(bytes);
        return bytes;
    }

    /** One Service per workload (so each may register), then the sidecars, {@code --start-parallelism} at once. */
    private void startSidecars(ControlPlaneClient admin, SimulatedSidecar.Mesh mesh, Path dir,
                               CountDownLatch[] roundApplied, ExecutorService pool, List<SimulatedSidecar> started)
            throws Exception {
        List<Future<SimulatedSidecar>> futures = new ArrayList<>();
        for (int i = 0; i < sidecars; i++) {
            int index = i;
            String account = String.format("svc-%03d", i);
            admin.putResource(ResourceKind.SERVICE, namespace, account, ("""
                    apiVersion: outrider.dev/v1
                    kind: Service
                    metadata: {name: %s, namespace: %s}
                    spec: {protocol: http2, serviceAccounts: [%s]}
                    """.formatted(account, namespace, account)).getBytes(StandardCharsets.UTF_8), "application/yaml");
            futures.add(pool.submit(() -> {
                JoinToken token = admin.createJoinToken(namespace, account, Duration.ofHours(1));
                return SimulatedSidecar.start(mesh, index, namespace, account, token, dir.resolve(account),
                        "127.0.0.1:" + (20000 + index), roundApplied);
            }));
        }
        Exception failure = null;
        for (Future<SimulatedSidecar> f : futures) {
            try {
                started.add(f.get());
            } catch (java.util.concurrent.ExecutionException e) {
                if (failure == null) {
                    failure = new IllegalStateException("a sidecar did not start: " + e.getCause(), e.getCause());
                }
            }
        }
        started.sort(Comparator.comparingInt(SimulatedSidecar::index));
        if (failure != null) {
            throw failure;
        }
    }

    /** Until every sidecar applied a snapshot with all N endpoints and GET /v1/sidecars shows all N as ACK. */
    private void awaitSettled(ControlPlaneClient admin, List<SimulatedSidecar> all, long deadline)
            throws InterruptedException {
        while (true) {
            boolean local = all.stream().allMatch(s -> s.endpoints() == sidecars);
            if (local) {
                JsonNode list = admin.sidecars();
                long acked = 0;
                for (JsonNode entry : list.path("sidecars")) {
                    if ("ACK".equals(entry.path("state").asText()) && entry.hasNonNull("service")) {
                        acked++;
                    }
                }
                if (acked == sidecars) {
                    return;
                }
            }
            if (System.nanoTime() - deadline > 0) {
                long withAll = all.stream().filter(s -> s.endpoints() == sidecars).count();
                throw new IllegalStateException("not settled within " + startTimeoutSeconds + " s: " + withAll + " of "
                        + sidecars + " sidecars have a snapshot with every endpoint");
            }
            Thread.sleep(100);
        }
    }

    /** Warm-up rounds, then the measured ones; false when a round failed (its reason goes into the report). */
    private boolean measure(PropagationRound round, PropagationReport report) throws InterruptedException {
        ProcessStats before = ProcessStats.now();
        long startedAt = System.nanoTime();
        try {
            for (int r = 1; r <= warmupWrites + writes; r++) {
                PropagationRound.Result result = round.run(r);
                boolean measured = r > warmupWrites;
                if (measured) {
                    report.add(result);
                }
                progress.printf(Locale.ROOT, "round %d%s: PUT %.1f ms, applied first %.1f / all %.1f ms, all ACKed"
                                + " %.1f ms (seen %.1f ms, %d polls), versions %d..%d (resourceVersion %d)%s%n", r,
                        measured ? "" : " (warm-up)", result.putNanos() / 1e6, result.firstAppliedNanos() / 1e6,
                        result.allAppliedNanos() / 1e6, result.allAckedNanos() / 1e6, result.allAckedSeenNanos() / 1e6,
                        result.ackPolls(), result.minVersion(), result.maxVersion(), result.resourceVersion(),
                        result.nacked() > 0 ? ", NACKs: " + result.nacked() : "");
                if (result.nacked() > 0) {
                    report.fail("round " + r + ": " + result.nacked() + " sidecars in state NACK");
                    return false;
                }
                Thread.sleep(pauseMillis);
            }
            return true;
        } catch (PropagationRound.RoundFailed e) {
            report.fail(e.getMessage());
            return false;
        } catch (RuntimeException e) { // a refused or failed API call (ControlPlaneException): reported, not thrown
            report.fail("round failed: " + e);
            return false;
        } finally {
            report.processStats(before, ProcessStats.now(), System.nanoTime() - startedAt);
        }
    }

    /** Closes every sidecar (deregistering), a few at once, before the control plane stops. */
    private void closeAll(List<SimulatedSidecar> all, ExecutorService pool) {
        List<Future<?>> closing = new ArrayList<>();
        for (SimulatedSidecar s : all) {
            closing.add(pool.submit(s::close));
        }
        for (Future<?> f : closing) {
            try {
                f.get();
            } catch (Exception e) {
                progress.println("closing a sidecar: " + e);
            }
        }
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
