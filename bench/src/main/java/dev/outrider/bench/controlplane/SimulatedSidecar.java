package dev.outrider.bench.controlplane;

import com.nimbusds.jose.jwk.JWKSet;
import dev.outrider.core.client.BootstrapToken;
import dev.outrider.core.identity.CertificateFiles;
import dev.outrider.core.client.ControlPlaneClient;
import dev.outrider.core.client.ControlPlaneClientConfig;
import dev.outrider.core.client.JoinToken;
import dev.outrider.core.snapshot.VerifiedSnapshot;
import dev.outrider.core.watch.SnapshotWatcher;
import dev.outrider.core.watch.WatchOptions;
import dev.outrider.core.watch.WatchState;
import dev.outrider.core.identity.WorkloadCertificates;
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
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;

import static java.util.Objects.requireNonNull;

/**
 * One simulated sidecar: everything a real one does with the control plane, minus the proxy. Its own workload
 * identity; its first certificate through a join token and the real CSR path ({@link WorkloadCertificates},
 * files in its own directory); a real {@link ControlPlaneClient} and {@link SnapshotWatcher} with the real
 * {@link SnapshotVerifier} (the control plane's published keys) and {@link LastKnownGood} (fsync'd file); it
 * registers its Service and ACKs each snapshot with {@code POST /v1/sidecars/status}.
 *
 * <p>Its applier stands in for the proxy's: it takes the policies as the verifier parsed them with the sidecar's
 * reader ({@link PolicyDocuments}) and then notes which benchmark round the snapshot carries (the annotation
 * {@value #ROUND_ANNOTATION} of the policy {@value #POLICY_NAME}) and when it was applied.
 *
 * <p>Threading: {@link #apply} runs on the watcher's thread. {@link #appliedAtNanos} and {@link #versionOfRound}
 * are written there before the round's latch is counted down, and read by the benchmark's thread only after
 * {@link CountDownLatch#await} returned: the latch is the happens-before edge, so the arrays need no volatile.
 */
final class SimulatedSidecar implements AutoCloseable {
    static final String POLICY_NAME = "bench-propagation";
    static final String ROUND_ANNOTATION = "bench.outrider.dev/round";

    private final int index;
    private final String instance;
    private final SpiffeId identity;
    /** One latch per round (index = round), each counted down once by every sidecar. */
    private final CountDownLatch[] roundApplied;
    private final long[] appliedAtNanos;
    private final long[] versionOfRound;
    private ControlPlaneClient client;
    private WorkloadCertificates certificates;
    private SnapshotWatcher watcher;
    /** Written by the watcher's thread, read by any. */
    private volatile int lastRound;
    private volatile int endpoints = -1;
    private volatile String applyError;

    private SimulatedSidecar(int index, String instance, SpiffeId identity, CountDownLatch[] roundApplied) {
        this.index = index;
        this.instance = instance;
        this.identity = identity;
        this.roundApplied = roundApplied;
        this.appliedAtNanos = new long[roundApplied.length];
        this.versionOfRound = new long[roundApplied.length];
        Arrays.fill(versionOfRound, -1);
    }

    /** What every sidecar shares: where the control plane is, what it trusts, how long a long poll is held. */
    record Mesh(URI server, SpiffeId serverIdentity, Path caCertificate, JWKSet snapshotKeys, Duration pollWait,
                Duration bootstrapTimeout) {
        Mesh {
            requireNonNull(server, "server");
            requireNonNull(serverIdentity, "serverIdentity");
            requireNonNull(caCertificate, "caCertificate");
            requireNonNull(snapshotKeys, "snapshotKeys");
            requireNonNull(pollWait, "pollWait");
            requireNonNull(bootstrapTimeout, "bootstrapTimeout");
        }
    }

    /**
     * Bootstraps the certificate (blocking, on the caller's thread) and starts watching. The Service
     * {@code serviceAccount} must exist in {@code namespace} for the registration to be accepted.
     *
     * @param dir          the sidecar's own directory (certificate files, last-known-good snapshot)
     * @param roundApplied shared by all sidecars; its length is the number of rounds plus one (round 0: none)
     */
    static SimulatedSidecar start(Mesh mesh, int index, String namespace, String serviceAccount, JoinToken token,
                                  Path dir, String advertisedAddress, CountDownLatch[] roundApplied)
            throws Exception {
        SpiffeId identity = token.identity();
        SimulatedSidecar sidecar = new SimulatedSidecar(index, serviceAccount + "-0", identity, roundApplied);
        Files.createDirectories(dir.resolve("cache"));
        // The trust bundle must hold the mesh CA before the bootstrap: it is what the control plane is checked with.
        Files.copy(mesh.caCertificate(), dir.resolve("ca-bundle.pem"));
        CertificateFiles files = new CertificateFiles(dir.resolve("cert.pem"), dir.resolve("key.pem"),
                dir.resolve("ca-bundle.pem"));
        try {
            sidecar.client = ControlPlaneClient.open(
                    files.clientConfig(mesh.server(), mesh.serverIdentity()));
            sidecar.certificates = WorkloadCertificates.start(sidecar.client, files, identity,
                    () -> Optional.of(BootstrapToken.joinToken(token.token())), Clock.systemUTC(), () -> { },
                    mesh.bootstrapTimeout());
            SnapshotVerifier verifier = new SnapshotVerifier(mesh.snapshotKeys(), identity);
            LastKnownGood cache = new LastKnownGood(dir.resolve("cache").resolve("snapshot.jws"), verifier);
            WatchOptions options = new WatchOptions(namespace, serviceAccount, serviceAccount, sidecar.instance,
                    advertisedAddress, mesh.pollWait());
            sidecar.watcher = SnapshotWatcher.start(sidecar.client, verifier, cache, sidecar::apply, options);
            return sidecar;
        } catch (Exception | Error e) {
            sidecar.close();
            throw e;
        }
    }

    /** The watcher's thread: the documents as the verifier parsed them (as the sidecar uses them), then note the round and the time. */
    private void apply(VerifiedSnapshot verified) {
        WorkloadSnapshot snapshot = verified.snapshot();
        List<PolicyDocument> documents = verified.policies();
        long now = System.nanoTime();
        int round = roundOf(documents);
        endpoints = snapshot.endpoints().size();
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

    /** Deregisters and stops watching, renewing and the HTTP client. */
    @Override
    public void close() {
        try {
            if (watcher != null) {
                watcher.close();
            }
        } finally {
            try {
                if (certificates != null) {
                    certificates.close();
                }
            } finally {
                if (client != null) {
                    client.close();
                }
            }
        }
    }
}
