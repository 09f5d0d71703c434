package dev.outrider.bench.controlplane;

import com.nimbusds.jose.jwk.JWKSet;
import dev.outrider.core.client.ControlPlaneClient;
import dev.outrider.core.snapshot.VerifiedSnapshot;
import dev.outrider.core.watch.SnapshotWatcher;
import dev.outrider.core.watch.WatchOptions;
import dev.outrider.core.watch.WatchState;
import dev.outrider.core.model.SpiffeId;
import dev.outrider.core.policy.AuthorizationPolicy;
import dev.outrider.core.policy.PolicyDocument;
import dev.outrider.core.policy.PolicyDocuments;
import dev.outrider.core.snapshot.LastKnownGood;
import dev.outrider.core.snapshot.SnapshotVerifier;
import dev.outrider.core.snapshot.WorkloadSnapshot;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadFactory;

import static java.util.Objects.requireNonNull;

/**
 * One simulated sidecar instance: what a real sidecar does with the control plane, minus the proxy. Its identity
 * and certificate are its {@link SimulatedWorkload}'s (shared with the other instances of that workload, as the
 * pods of a Deployment share its service account), and so is the {@link ControlPlaneClient} of the replica it starts
 * at. Its own: an instance name ({@code <service>-<n>}), its registration (the Service, an advertised address),
 * a real {@link SnapshotWatcher} (long poll, back-off, fail-over to the next replica), its own
 * {@link LastKnownGood} file (written with fsync, as the sidecar does), this applier, and its ACK (carried by its
 * next long poll, as the sidecar's is). The {@link SnapshotVerifier} (the control plane's published keys) is the
 * workload's: the signature of a snapshot text the workload's instances all receive is checked once for them.
 *
 * <p>Its applier stands in for the proxy's: it takes the policies as the verifier parsed them with the sidecar's
 * reader ({@link PolicyDocuments}) and then notes which benchmark round the snapshot carries (the annotation
 * {@value #ROUND_ANNOTATION} of the policy {@value #POLICY_NAME}) and when it was applied. No policy is compiled
 * into matchers and nothing is enforced: there is no listener and no data plane.
 *
 * <p>Threading: the watch loop runs on a thread of {@link Mesh#watchThreads()} (a virtual thread: the fleet's
 * watchers share the JVM's carrier threads), and {@link #apply} on it. {@link #appliedAtNanos} and
 * {@link #versionOfRound} are written there before the round's latch is counted down, and read by the
 * benchmark's thread only after {@link CountDownLatch#await} returned: the latch is the happens-before edge, so
 * the arrays need no volatile.
 */
final class SimulatedSidecar implements AutoCloseable {
    static final String POLICY_NAME = "bench-propagation";
    static final String ROUND_ANNOTATION = "bench.outrider.dev/round";

    private final int index;
    private final String instance;
    private final int replica;
    private final SpiffeId identity;
    /** One latch per round (index = round), each counted down once by every sidecar. */
    private final CountDownLatch[] roundApplied;
    private final long[] appliedAtNanos;
    private final long[] versionOfRound;
    private LastKnownGood cache;
    private SnapshotWatcher watcher;
    /** Written by the watcher's thread, read by any. */
    private volatile int lastRound;
    private volatile int endpoints = -1;
    /** The version of the snapshot the applier last took (the watcher keeps it as last-known-good next). */
    private volatile long appliedVersion = -1;
    private volatile String applyError;

    private SimulatedSidecar(int index, String instance, int replica, SpiffeId identity,
                             CountDownLatch[] roundApplied) {
        this.index = index;
        this.instance = instance;
        this.replica = replica;
        this.identity = identity;
        this.roundApplied = roundApplied;
        this.appliedAtNanos = new long[roundApplied.length];
        this.versionOfRound = new long[roundApplied.length];
        Arrays.fill(versionOfRound, -1);
    }

    /**
     * What every sidecar shares: where the control plane's replicas are, what it trusts, how long a long poll is
     * held, and the threads: {@code httpExecutor} runs every HTTP client's asynchronous work, {@code watchThreads}
     * makes each watcher's thread.
     */
    record Mesh(List<URI> replicas, SpiffeId serverIdentity, Path caCertificate, JWKSet snapshotKeys,
                Duration pollWait, Duration bootstrapTimeout, Executor httpExecutor, ThreadFactory watchThreads) {
        Mesh {
            replicas = List.copyOf(replicas);
            if (replicas.isEmpty()) {
                throw new IllegalArgumentException("no control plane address");
            }
            requireNonNull(serverIdentity, "serverIdentity");
            requireNonNull(caCertificate, "caCertificate");
            requireNonNull(snapshotKeys, "snapshotKeys");
            requireNonNull(pollWait, "pollWait");
            requireNonNull(bootstrapTimeout, "bootstrapTimeout");
            requireNonNull(httpExecutor, "httpExecutor");
            requireNonNull(watchThreads, "watchThreads");
        }
    }

    /**
     * Starts watching (and registering) through {@code workload}'s client for replica {@code replica}.
     *
     * @param index        this sidecar's place in the benchmark's list (0..N-1)
     * @param instance     its instance name (registration and status key)
     * @param dir          its own directory (the last-known-good snapshot)
     * @param roundApplied shared by all sidecars; its length is the number of rounds plus one (round 0: none)
     */
    static SimulatedSidecar start(Mesh mesh, SimulatedWorkload workload, int index, String instance, int replica,
                                  String namespace, Path dir, String advertisedAddress, CountDownLatch[] roundApplied)
            throws Exception {
        SimulatedSidecar sidecar = new SimulatedSidecar(index, instance, replica, workload.identity(), roundApplied);
        Files.createDirectories(dir);
        SnapshotVerifier verifier = workload.verifier();
        sidecar.cache = new LastKnownGood(dir.resolve("snapshot.jws"), verifier);
        WatchOptions options = new WatchOptions(namespace, workload.serviceAccount(), workload.serviceAccount(),
                instance, advertisedAddress, mesh.pollWait());
        sidecar.watcher = SnapshotWatcher.start(workload.client(replica), verifier, sidecar.cache, sidecar::apply,
                options, mesh.watchThreads());
        return sidecar;
    }

    /** The watcher's thread: the documents as the verifier parsed them (as the sidecar uses them), then the round. */
    private void apply(VerifiedSnapshot verified) {
        WorkloadSnapshot snapshot = verified.snapshot();
        List<PolicyDocument> documents = verified.policies();
        long now = System.nanoTime();
        int round = roundOf(documents);
        endpoints = snapshot.endpoints().size();
        appliedVersion = snapshot.versionNumber();
        if (round > lastRound && round < roundApplied.length) {
            appliedAtNanos[round] = now;
            versionOfRound[round] = snapshot.versionNumber();
            lastRound = round;
            roundApplied[round].countDown();
        }
    }

    /** The benchmark round the policies carry; 0 when the benchmark's policy is not (yet) among them. */
    static int roundOf(List<PolicyDocument> documents) {
        for (PolicyDocument document : documents) {
            if (document instanceof AuthorizationPolicy policy && policy.metadata().name().equals(POLICY_NAME)) {
                String round = policy.metadata().annotations().get(ROUND_ANNOTATION);
                return round == null ? 0 : Integer.parseInt(round);
            }
        }
        return 0;
    }

    int index() {
        return index;
    }

    /** The instance name it registers and reports under. */
    String instance() {
        return instance;
    }

    /** The replica it starts at (the first of its addresses). */
    int replica() {
        return replica;
    }

    SpiffeId identity() {
        return identity;
    }

    /** When it applied {@code round}'s snapshot ({@link System#nanoTime()}); only after that round's latch opened. */
    long appliedAtNanos(int round) {
        return appliedAtNanos[round];
    }

    /** The snapshot version that brought {@code round}; only after that round's latch opened. */
    long versionOfRound(int round) {
        return versionOfRound[round];
    }

    int lastRound() {
        return lastRound;
    }

    /** Endpoints in the snapshot in force; -1 before the first. */
    int endpoints() {
        return endpoints;
    }

    /** The watcher's state; null before it started. */
    WatchState state() {
        SnapshotWatcher w = watcher;
        return w == null ? null : w.state();
    }

    /** The last policy parse failure of the applier, or null. */
    String applyError() {
        return applyError;
    }

    /** One line for a failure message: where it is, what it holds, what its watcher last saw. */
    String describe() {
        WatchState state = state();
        return instance + " (replica " + replica + "): last round applied " + lastRound + ", endpoints " + endpoints
                + ", watch state " + (state == null ? "-" : state.appliedVersion() + " " + state.source()
                + (state.lastError() == null ? "" : " error: " + state.lastError()))
                + (applyError == null ? "" : ", applier: " + applyError);
    }

    /**
     * Bytes of the snapshot in force (its JWS text as the control plane sent it, kept as the last-known-good
     * file) when that is the snapshot of {@code round}; -1 when the applier took another since, or the file cannot
     * be read. Only after the round's ACK was seen: the watcher writes the file after the applier returned and
     * before it sends the ACK.
     */
    long snapshotBytes(int round) {
        if (appliedVersion != versionOfRound[round]) {
            return -1;
        }
        try {
            return Files.size(cache.file());
        } catch (java.io.IOException e) {
            return -1;
        }
    }

    /** Deregisters and stops watching (the workload's client stays open for the other instances). */
    @Override
    public void close() {
        if (watcher != null) {
            watcher.close();
        }
    }
}
