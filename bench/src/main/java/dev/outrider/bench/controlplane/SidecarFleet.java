package dev.outrider.bench.controlplane;

import dev.outrider.core.client.ControlPlaneClient;
import dev.outrider.core.client.JoinToken;
import dev.outrider.core.model.ResourceKind;
import dev.outrider.core.watch.WatchState;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static java.util.Objects.requireNonNull;

/**
 * The benchmark's simulated sidecars: {@code sidecars} instances of {@code ceil(sidecars / instancesPerService)}
 * workloads. Workload {@code w} is service account and Service {@code svc-WWW} in the benchmark's namespace;
 * sidecar {@code i} is instance {@code svc-WWW-K} of workload {@code i / instancesPerService} (K = i mod that),
 * starts at replica {@code i mod replicas} (round-robin, so one workload's instances spread over the replicas)
 * and advertises {@code 127.0.0.1:(20000 + i)} (nothing listens there: no data plane).
 *
 * <p>Shared, so that 1,000 fit in one JVM: per workload one certificate and one HTTP client per replica its
 * instances start at ({@link SimulatedWorkload}); for all, one small pool of platform threads for the HTTP
 * clients' asynchronous work and virtual threads for the watch loops ({@link SimulatedSidecar.Mesh}). The HTTP
 * clients' tasks are short and never block (completing a connect or a response; the TLS handshake's computations),
 * and on platform threads they are not queued behind the watchers' verification and parsing on the virtual threads'
 * carriers: the JDK client counts a connect whose completion task has not run as timed out. Each instance keeps its
 * own registration, long poll, verification, last-known-good file, applier and ACK.
 *
 * <p>A rolling start, as a Deployment rolls out: {@code startParallelism} threads each start one workload at a
 * time, all its instances at once, and go on to the next workload once each of them applied its first snapshot.
 * Not every sidecar's TLS handshakes in the same second on a JVM whose JIT has not warmed up yet: such a burst
 * queues the HTTP clients' connect completions behind the handshakes' computations on the shared executor, and the
 * JDK client counts a connect whose completion has not run after 5 s as timed out (an artifact of 1,000 sidecars
 * on 2 cores, which real sidecars, each on its own CPU, do not meet). Nor one instance at a time: every
 * registration changes the endpoints in every workload's snapshot, and registrations that arrive together are
 * compiled into one new snapshot per workload, so a start one by one costs N new snapshots for every sidecar.
 *
 * <p>Used by the benchmark's thread; {@link #close()} also from the shutdown hook ({@link Cleanup}).
 */
final class SidecarFleet implements AutoCloseable {
    /** The longest a starting sidecar is waited for before its start thread goes on to the next workload. */
    static final Duration FIRST_SNAPSHOT_WAIT = Duration.ofSeconds(30);

    private final PrintStream progress;
    private final ExecutorService httpExecutor = Executors.newFixedThreadPool(
            Math.max(4, 2 * Runtime.getRuntime().availableProcessors()),
            Thread.ofPlatform().daemon().name("sim-http-", 0).factory());
    private final List<SimulatedWorkload> workloads = new ArrayList<>();
    private final List<SimulatedSidecar> sidecars = new ArrayList<>();

    SidecarFleet(PrintStream progress) {
        this.progress = requireNonNull(progress, "progress");
    }

    /**
     * How the fleet is laid out, from the benchmark's options.
     *
     * @param calls how many other workloads each one calls (a Sidecar scoping its snapshot); 0: no Sidecar, every one
     */
    record Layout(int sidecars, int instancesPerService, String namespace, int startParallelism, int calls) {
        /** The endpoints each sidecar's snapshot holds: every one, or those of the {@code calls} workloads it calls. */
        int visibleEndpoints() {
            return calls == 0 ? sidecars : Math.min(calls, services()) * instancesPerService;
        }

        int services() {
            return (sidecars + instancesPerService - 1) / instancesPerService;
        }

        String service(int workload) {
            return String.format("svc-%03d", workload);
        }
    }

    /** The shared executor for {@link SimulatedSidecar.Mesh#httpExecutor()}. */
    ExecutorService httpExecutor() {
        return httpExecutor;
    }

    /**
     * One Service per workload (through replica 0), then per workload, {@code startParallelism} at once: a join
     * token, the certificate (through the replica of its first instance), and its instances. Returns once every
     * sidecar started watching; a failure, or {@code deadline} ({@link System#nanoTime()}) passing before every
     * workload started, stops the start and is thrown (the caller closes the fleet).
     */
    void start(Layout layout, SimulatedSidecar.Mesh mesh, ControlPlaneClient admin, Path dir,
               CountDownLatch[] roundApplied, long deadline) throws Exception {
        int replicas = mesh.replicas().size();
        for (int w = 0; w < layout.services(); w++) {
            String account = layout.service(w);
            admin.putResource(ResourceKind.SERVICE, layout.namespace(), account, ("""
                    apiVersion: outrider.dev/v1
                    kind: Service
                    metadata: {name: %s, namespace: %s}
                    spec: {protocol: http2, serviceAccounts: [%s]}
                    """.formatted(account, layout.namespace(), account)).getBytes(StandardCharsets.UTF_8),
                    "application/yaml");
        }
        if (layout.calls() > 0) { // workload w calls the next `calls` workloads: its snapshot holds their endpoints
            for (int w = 0; w < layout.services(); w++) {
                StringBuilder hosts = new StringBuilder();
                for (int c = 1; c <= layout.calls(); c++) {
                    hosts.append(c == 1 ? "" : ", ").append('"').append(layout.namespace()).append('/')
                            .append(layout.service((w + c) % layout.services())).append('"');
                }
                admin.putResource(ResourceKind.SIDECAR, layout.namespace(), layout.service(w), ("""
                        apiVersion: outrider.dev/v1
                        kind: Sidecar
                        metadata: {name: %s, namespace: %s}
                        spec:
                          workloadSelector: {serviceAccounts: [%s]}
                          egress: [{hosts: [%s]}]
                        """.formatted(layout.service(w), layout.namespace(), layout.service(w), hosts))
                        .getBytes(StandardCharsets.UTF_8), "application/yaml");
            }
        }
        ExecutorService pool = Executors.newFixedThreadPool(layout.startParallelism());
        try {
            List<Future<List<SimulatedSidecar>>> futures = new ArrayList<>();
            for (int w = 0; w < layout.services(); w++) {
                int workload = w;
                futures.add(pool.submit(() -> startWorkload(layout, mesh, admin, dir, roundApplied, workload,
                        replicas, deadline)));
            }
            Exception failure = null;
            for (Future<List<SimulatedSidecar>> f : futures) {
                try {
                    List<SimulatedSidecar> started = f.get();
                    synchronized (sidecars) {
                        sidecars.addAll(started);
                    }
                } catch (ExecutionException e) {
                    if (failure == null) {
                        failure = new IllegalStateException("a workload's sidecars did not start: " + e.getCause(),
                                e.getCause());
                        futures.forEach(other -> other.cancel(true));
                    }
                }
            }
            if (failure != null) {
                throw failure;
            }
        } finally {
            pool.shutdownNow();
        }
        sidecars.sort(Comparator.comparingInt(SimulatedSidecar::index));
    }

    private List<SimulatedSidecar> startWorkload(Layout layout, SimulatedSidecar.Mesh mesh, ControlPlaneClient admin,
                                                 Path dir, CountDownLatch[] roundApplied, int workload, int replicas,
                                                 long deadline) throws Exception {
        if (System.nanoTime() - deadline > 0) {
            throw new IllegalStateException("start-up took longer than the start timeout; workload "
                    + layout.service(workload) + " and later ones not started");
        }
        String account = layout.service(workload);
        int first = workload * layout.instancesPerService();
        int last = Math.min(layout.sidecars(), first + layout.instancesPerService());
        JoinToken token = admin.createJoinToken(layout.namespace(), account, Duration.ofHours(1));
        SimulatedWorkload w = SimulatedWorkload.start(mesh, account, token, dir.resolve(account), first % replicas);
        synchronized (workloads) {
            workloads.add(w);
        }
        List<SimulatedSidecar> started = new ArrayList<>();
        try {
            for (int i = first; i < last; i++) {
                String instance = account + "-" + (i - first);
                started.add(SimulatedSidecar.start(mesh, w, i, instance, i % replicas, layout.namespace(),
                        dir.resolve(account).resolve(instance), "127.0.0.1:" + (20000 + i), roundApplied));
            }
            for (SimulatedSidecar sidecar : started) {
                awaitFirstSnapshot(sidecar, deadline);
            }
            return started;
        } catch (Exception | Error e) {
            closeAll(started);
            throw e;
        }
    }

    /**
     * Until {@code sidecar} applied its first snapshot from the control plane, at most {@link #FIRST_SNAPSHOT_WAIT}
     * and not past {@code deadline} (a sidecar still without one is left to the benchmark's wait for all of them).
     */
    private static void awaitFirstSnapshot(SimulatedSidecar sidecar, long deadline) throws InterruptedException {
        long until = System.nanoTime() + FIRST_SNAPSHOT_WAIT.toNanos();
        if (until - deadline > 0) {
            until = deadline;
        }
        while (System.nanoTime() - until < 0) {
            WatchState state = sidecar.state();
            if (state != null && state.source() == WatchState.Source.CONTROL_PLANE) {
                return;
            }
            Thread.sleep(10);
        }
    }

    /** Every sidecar, in index order (after {@link #start}). */
    List<SimulatedSidecar> sidecars() {
        return List.copyOf(sidecars);
    }

    /** HTTP clients the workloads made (one per workload and replica its instances start at). */
    int httpClients() {
        synchronized (workloads) {
            return workloads.stream().mapToInt(SimulatedWorkload::clientCount).sum();
        }
    }

    int workloads() {
        synchronized (workloads) {
            return workloads.size();
        }
    }

    /** Closes the sidecars (they deregister, many at once), then the workloads' clients, then the executor. */
    @Override
    public void close() {
        List<SimulatedSidecar> all;
        synchronized (sidecars) {
            all = List.copyOf(sidecars);
            sidecars.clear();
        }
        closeAll(all);
        synchronized (workloads) {
            workloads.forEach(SimulatedWorkload::close);
            workloads.clear();
        }
        httpExecutor.shutdownNow();
    }

    private void closeAll(List<SimulatedSidecar> all) {
        try (ExecutorService closing = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> futures = new ArrayList<>();
            for (SimulatedSidecar s : all) {
                futures.add(closing.submit(s::close));
            }
            for (Future<?> f : futures) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    progress.println("closing a sidecar: " + e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }
}
