package dev.outrider.bench.controlplane;

import dev.outrider.core.client.ControlPlaneClient;
import dev.outrider.core.client.ControlPlaneClientConfig;
import dev.outrider.controlplane.ControlPlaneConfig;
import dev.outrider.controlplane.server.ServerTls;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * The control plane's distribution benchmark: how long from an API write until every sidecar applied and
 * acknowledged it, with {@code --sidecars} simulated sidecars in this JVM (the goals: p99 write → ACK under 1 s
 * with 100, and with 1,000 spread over 3 replicas, each replica within 256 MiB RSS). Everything is real but the
 * proxy: the control plane, and per sidecar instance a registration, mTLS long-poll watcher, signature check,
 * policy parse, last-known-good file and ACK ({@link SimulatedSidecar}); instances of one workload share its
 * certificate and HTTP clients ({@link SimulatedWorkload}, {@link SidecarFleet}).
 *
 * <pre>
 *   bench/scripts/propagation.sh --sidecars 100 --writes 50                  one in-process control plane, file store
 *   bench/scripts/propagation.sh --replicas 3 --sidecars 1000 --writes 50    3 etcd members + 3 replica processes
 *   java -cp bench/target/benchmarks.jar dev.outrider.bench.controlplane.PropagationBenchmark --help
 * </pre>
 *
 * Steps: a throw-away CA and admin token in a temporary directory (deleted at the end, also on Ctrl-C:
 * {@link Cleanup}) → the control plane: {@link ControlPlaneUnderTest#inProcess} ({@code --replicas 1}) or
 * {@link ControlPlaneReplicas} → one Service per workload ({@code svc-000}...) in {@code --namespace} → the
 * sidecars bootstrap and watch → wait until every one registered, applied a snapshot listing all N endpoints and
 * is shown ACK by {@code GET /v1/sidecars} → {@code --warmup-writes} unrecorded rounds, then {@code --writes}
 * recorded rounds ({@link PropagationRound}), {@code --pause-ms} apart → summary on stdout, progress on stderr.
 * Exit 0 when every round completed without a NACK, 1 otherwise (the summary says why).
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

    @Option(names = "--ack-poll-ms", defaultValue = "100",
            description = "interval of GET /v1/sidecars while waiting for ACKs; ACK times are the control plane's"
                    + " lastSeen, the interval only sets when a round ends (default: ${DEFAULT-VALUE})")
    int ackPollMillis;

    @Option(names = "--round-timeout-seconds", defaultValue = "30",
            description = "a round not complete by then fails the run (default: ${DEFAULT-VALUE})")
    int roundTimeoutSeconds;

    @Option(names = "--start-timeout-seconds", defaultValue = "900",
            description = "for all sidecars to bootstrap, register and ACK (default: ${DEFAULT-VALUE})")
    int startTimeoutSeconds;

    @Option(names = "--start-parallelism", defaultValue = "4",
            description = "workloads started at once, each with all its instances (default: ${DEFAULT-VALUE})")
    int startParallelism;

    @Option(names = "--cp-io-threads", defaultValue = "2",
            description = "in-process control plane (--replicas 1): event loops (default: ${DEFAULT-VALUE}, the"
                    + " process default)")
    int ioThreads;

    @Option(names = "--cp-worker-threads", defaultValue = "4",
            description = "in-process control plane (--replicas 1): workers (default: ${DEFAULT-VALUE}, the process"
                    + " default)")
    int workerThreads;

    @Option(names = "--tls-provider", defaultValue = "auto",
            description = "control plane TLS: auto, openssl, jdk (default: ${DEFAULT-VALUE})")
    String tlsProvider;

    @Option(names = "--keep-dir", description = "keep the temporary directory (CA, data, logs, sidecar files) and"
            + " print it")
    boolean keepDir;

    @Option(names = "--replicas", defaultValue = "1", description = "1: the control plane in this JVM with the file"
            + " store (default); 2..5: that many control-plane processes on a local etcd cluster")
    int replicas;

    @Option(names = "--etcd-members", defaultValue = "3",
            description = "etcd members with --replicas 2 or more: 1, 3 or 5 (default: ${DEFAULT-VALUE})")
    int etcdMembers;

    @Option(names = "--calls", defaultValue = "0", description = "how many other workloads each workload calls: a"
            + " Sidecar per workload scopes its snapshot to them (0, the default: no Sidecar, every workload's"
            + " snapshot holds every endpoint)")
    int calls;

    @Option(names = "--instances-per-service", description = "sidecar instances per workload identity (they share"
            + " its certificate and HTTP clients); default 1 with --replicas 1, 10 with more")
    Integer instancesPerService;

    @Option(names = "--sidecar-dir", description = "where the sidecars' files (certificates, last-known-good"
            + " snapshots) go, in a temporary directory deleted at the end; default: the run's temporary directory."
            + " On tmpfs (/dev/shm) their fsync calls cost nothing")
    Path sidecarDir;

    @Option(names = "--control-plane-jar", defaultValue = "control-plane/target/outrider-control-plane.jar",
            description = "the replicas' jar (default: ${DEFAULT-VALUE}, from the repository root)")
    Path controlPlaneJar;

    @Option(names = "--control-plane-jvm-options", defaultValue = "config/jvm/control-plane.options",
            description = "the replicas' JVM flags, a java @argfile (default: ${DEFAULT-VALUE}, the launcher's)")
    Path controlPlaneJvmOptions;

    @Option(names = "--replica-max-ram", defaultValue = "384m", description = "-XX:MaxRAM of each replica: the memory"
            + " limit of docker/kubernetes/control-plane.yaml, which sizes the JVM in the deployment"
            + " (default: ${DEFAULT-VALUE})")
    String replicaMaxRam;

    private final PrintStream out = System.out;
    private final PrintStream progress = System.err;

    public static void main(String[] args) {
        System.exit(new CommandLine(new PropagationBenchmark()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        check(sidecars >= 1 && sidecars <= 1000, "--sidecars", "1..1000");
        check(writes >= 1, "--writes", ">= 1");
        check(warmupWrites >= 0, "--warmup-writes", ">= 0");
        check(pauseMillis >= 0, "--pause-ms", ">= 0");
        check(ackPollMillis >= 1, "--ack-poll-ms", ">= 1");
        check(pollWaitSeconds >= 1 && pollWaitSeconds <= 60, "--poll-wait-seconds", "1..60");
        check(startParallelism >= 1, "--start-parallelism", ">= 1");
        check(calls >= 0, "--calls", ">= 0");
        check(replicas >= 1 && replicas <= 5, "--replicas", "1..5");
        check(etcdMembers == 1 || etcdMembers == 3 || etcdMembers == 5, "--etcd-members", "1, 3 or 5");
        check(instancesPerService == null || instancesPerService >= 1, "--instances-per-service", ">= 1");
        check(replicaMaxRam.matches("[1-9][0-9]*[kKmMgG]?"), "--replica-max-ram", "a size such as 384m");
        String policyNs = policyNamespace == null ? namespace : policyNamespace;
        if (!policyNs.equals(namespace) && !policyNs.equals(ControlPlaneConfig.SYSTEM_NAMESPACE)) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--policy-namespace must be "
                    + namespace + " or the root namespace " + ControlPlaneConfig.SYSTEM_NAMESPACE
                    + ", or the write reaches no sidecar");
        }
        ServerTls.Provider provider = ServerTls.Provider.parse(tlsProvider);
        try (Cleanup cleanup = new Cleanup(progress)) {
            Path work = Files.createTempDirectory("outrider-propagation-");
            if (keepDir) {
                cleanup.add(() -> progress.println("kept " + work));
            } else {
                cleanup.addDirectory(work);
            }
            Path sidecarFiles = work.resolve("sidecars");
            if (sidecarDir != null) {
                sidecarFiles = Files.createTempDirectory(sidecarDir, "outrider-propagation-sidecars-");
                if (keepDir) {
                    Path kept = sidecarFiles;
                    cleanup.add(() -> progress.println("kept " + kept));
                } else {
                    cleanup.addDirectory(sidecarFiles);
                }
            }
            return run(work, sidecarFiles, policyNs, provider, cleanup);
        }
    }

    /** Refuses a bad option value, naming the option and what it must be. */
    private void check(boolean ok, String option, String rule) {
        if (!ok) {
            throw new CommandLine.ParameterException(new CommandLine(this), option + " must be " + rule);
        }
    }

    private int run(Path work, Path sidecarFiles, String policyNs, ServerTls.Provider provider, Cleanup cleanup)
            throws Exception {
        BenchMeshCa ca = BenchMeshCa.create(work.resolve("ca"));
        String adminToken = HexFormat.of().formatHex(randomBytes());
        Path tokenFile = work.resolve("admin-token");
        Files.createFile(tokenFile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(tokenFile, adminToken + "\n");
        ControlPlaneUnderTest controlPlane = replicas == 1
                ? ControlPlaneUnderTest.inProcess(work.resolve("data"), ca, tokenFile, provider, ioThreads,
                        workerThreads, cleanup)
                : ControlPlaneReplicas.start(work, ca, tokenFile, adminToken, new ControlPlaneReplicas.Options(replicas,
                        etcdMembers, controlPlaneJar, controlPlaneJvmOptions, replicaMaxRam, tlsProvider), cleanup);
        List<ControlPlaneClient> admins = new ArrayList<>();
        for (int r = 0; r < controlPlane.replicas().size(); r++) {
            admins.add(cleanup.add(controlPlane.admin(r, ca.certificate(), adminToken)));
        }
        int rounds = warmupWrites + writes;
        CountDownLatch[] roundApplied = new CountDownLatch[rounds + 1];
        for (int r = 0; r <= rounds; r++) {
            roundApplied[r] = new CountDownLatch(sidecars);
        }
        // Closed before the control plane (added after it): the sidecars deregister while it still runs.
        SidecarFleet fleet = cleanup.add(new SidecarFleet(progress));
        SimulatedSidecar.Mesh mesh = new SimulatedSidecar.Mesh(controlPlane.replicas(),
                ControlPlaneClientConfig.defaultServerIdentity(TRUST_DOMAIN), ca.certificate(),
                controlPlane.snapshotKeys(), Duration.ofSeconds(pollWaitSeconds), Duration.ofSeconds(60),
                fleet.httpExecutor(), Thread.ofVirtual().name("sim-watch-", 0).factory());
        int perService = instancesPerService != null ? instancesPerService : replicas == 1 ? 1 : 10;
        SidecarFleet.Layout layout = new SidecarFleet.Layout(sidecars, perService, namespace, startParallelism,
                calls);
        ReportedStatuses statuses = new ReportedStatuses(admins);
        long startedAt = System.nanoTime();
        long deadline = startedAt + Duration.ofSeconds(startTimeoutSeconds).toNanos();
        fleet.start(layout, mesh, admins.getFirst(), sidecarFiles, roundApplied, deadline);
        long bootstrapped = System.nanoTime();
        List<SimulatedSidecar> started = fleet.sidecars();
        awaitSettled(statuses, started, layout.visibleEndpoints(), deadline);
        long settled = System.nanoTime();
        ProcessStats self = ProcessStats.now();
        progress.printf(Locale.ROOT, "%d sidecars: certificates and watchers started in %.1f s, all registered and"
                        + " ACKed after %.1f s; this JVM: RSS %.1f MiB, heap used %.1f MiB, %d threads%n", sidecars,
                (bootstrapped - startedAt) / 1e9, (settled - startedAt) / 1e9, self.rssKib() / 1024.0,
                self.heapUsedBytes() / (1024.0 * 1024), self.threads());
        PropagationReport report = new PropagationReport(sidecars, writes, warmupWrites, pauseMillis,
                policyNs, ackPollMillis, (bootstrapped - startedAt) / 1e9, (settled - startedAt) / 1e9);
        report.describeSetup(controlPlane.description());
        report.describeSetup(String.format(Locale.ROOT, "%d sidecars = %d workloads x %d instances, spread"
                        + " round-robin over %d replica(s); %d HTTP clients (one per workload and replica), one"
                        + " certificate per workload, watchers on virtual threads; sidecar files in %s", sidecars,
                layout.services(), perService, controlPlane.replicas().size(), fleet.httpClients(),
                describeFileSystem(sidecarFiles)));
        boolean ok = measure(new PropagationRound(admins, policyNs, namespace, started, roundApplied,
                Duration.ofSeconds(roundTimeoutSeconds), Duration.ofMillis(ackPollMillis)), report, controlPlane);
        report.print(out);
        return ok ? 0 : 1;
    }

    private static byte[] randomBytes() {
        byte[] bytes = new byte[24];
        new SecureRandom().nextBytes(bytes);
        return bytes;
    }

    /** {@code /dev/shm/... (tmpfs)}: where the sidecars' last-known-good files are written and fsync'd. */
    private static String describeFileSystem(Path dir) {
        try {
            FileStore store = Files.getFileStore(Files.exists(dir) ? dir : dir.getParent());
            return dir + " (" + store.type() + ")";
        } catch (IOException e) {
            return dir.toString();
        }
    }

    /**
     * Until every sidecar applied a snapshot with every endpoint it should see (all N; with {@code --calls K}, the
     * instances of the K workloads it calls) and GET /v1/sidecars shows all N as ACK.
     */
    private void awaitSettled(ReportedStatuses statuses, List<SimulatedSidecar> all, int expectedEndpoints,
                              long deadline) throws InterruptedException {
        while (true) {
            boolean local = all.stream().allMatch(s -> s.endpoints() == expectedEndpoints);
            if (local && acked(statuses) == sidecars) {
                return;
            }
            if (System.nanoTime() - deadline > 0) {
                long acked = acked(statuses);
                List<SimulatedSidecar> missing = all.stream().filter(s -> s.endpoints() != expectedEndpoints)
                        .toList();
                StringBuilder late = new StringBuilder();
                for (SimulatedSidecar s : missing.subList(0, Math.min(10, missing.size()))) {
                    late.append("\n  ").append(s.describe());
                }
                throw new IllegalStateException("not settled within " + startTimeoutSeconds + " s: "
                        + (sidecars - missing.size()) + " of " + sidecars + " sidecars have a snapshot with every"
                        + " endpoint, " + acked + " are shown ACK by GET /v1/sidecars" + late);
            }
            Thread.sleep(100);
        }
    }

    /** Instances of a Service that GET /v1/sidecars shows in state ACK. */
    private static long acked(ReportedStatuses statuses) {
        return statuses.all().values().stream()
                .filter(e -> "ACK".equals(e.path("state").asText()) && e.hasNonNull("service")).count();
    }

    /** Warm-up rounds, then the measured ones; false when a round failed (its reason goes into the report). */
    private boolean measure(PropagationRound round, PropagationReport report, ControlPlaneUnderTest controlPlane)
            throws InterruptedException {
        Map<String, ProcessHandle> processes = processes(controlPlane);
        Map<String, ProcessStats> before = sample(processes);
        long startedAt = System.nanoTime();
        try {
            for (int r = 1; r <= warmupWrites + writes; r++) {
                PropagationRound.Result result = round.run(r);
                boolean measured = r > warmupWrites;
                if (measured) {
                    report.add(result);
                }
                progress.printf(Locale.ROOT, "round %d%s: PUT %.1f ms (replica %d), applied first %.1f / all %.1f ms,"
                                + " all ACKed %.1f ms (seen %.1f ms, %d polls), versions %d..%d (resourceVersion %d),"
                                + " %s of snapshots%s%s%n", r, measured ? "" : " (warm-up)", result.putNanos() / 1e6,
                        result.replica(), result.firstAppliedNanos() / 1e6, result.allAppliedNanos() / 1e6,
                        result.allAckedNanos() / 1e6, result.allAckedSeenNanos() / 1e6, result.ackPolls(),
                        result.minVersion(), result.maxVersion(), result.resourceVersion(),
                        PropagationReport.bytes(Arrays.stream(result.snapshotBytes()).filter(b -> b > 0).sum()),
                        replicaRss(controlPlane), result.nacked() > 0 ? ", NACKs: " + result.nacked() : "");
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
            long measuredNanos = System.nanoTime() - startedAt;
            Map<String, ProcessStats> after = sample(processes);
            List<PropagationReport.Footprint> footprints = new ArrayList<>();
            for (Map.Entry<String, ProcessHandle> p : processes.entrySet()) {
                footprints.add(new PropagationReport.Footprint(p.getKey(), p.getValue().pid(),
                        p.getKey().startsWith("replica"), before.get(p.getKey()), after.get(p.getKey())));
            }
            report.footprints(footprints, measuredNanos);
        }
    }

    /** {@code , replicas' RSS 170/176/178 MiB} now; empty for the in-process control plane. */
    private static String replicaRss(ControlPlaneUnderTest controlPlane) {
        if (controlPlane.replicaProcesses().isEmpty()) {
            return "";
        }
        StringJoiner rss = new StringJoiner("/", ", replicas' RSS ", " MiB");
        for (ChildProcess p : controlPlane.replicaProcesses()) {
            rss.add(Long.toString(Math.round(ProcessStats.of(p.process().toHandle()).rssKib() / 1024.0)));
        }
        return rss.toString();
    }

    /** This JVM first, then the replicas' and etcd members' processes, by name. */
    private Map<String, ProcessHandle> processes(ControlPlaneUnderTest controlPlane) {
        Map<String, ProcessHandle> processes = new LinkedHashMap<>();
        processes.put(controlPlane.replicaProcesses().isEmpty()
                ? "this JVM (control plane + " + sidecars + " sidecars + admin client)"
                : "this JVM (" + sidecars + " sidecars + admin clients)", ProcessHandle.current());
        for (ChildProcess p : controlPlane.replicaProcesses()) {
            processes.put(p.name(), p.process().toHandle());
        }
        for (ChildProcess p : controlPlane.etcdMembers()) {
            processes.put(p.name(), p.process().toHandle());
        }
        return processes;
    }

    private static Map<String, ProcessStats> sample(Map<String, ProcessHandle> processes) {
        Map<String, ProcessStats> stats = new HashMap<>();
        for (Map.Entry<String, ProcessHandle> p : processes.entrySet()) {
            stats.put(p.getKey(), p.getValue().equals(ProcessHandle.current()) ? ProcessStats.now()
                    : ProcessStats.of(p.getValue()));
        }
        return stats;
    }
}
