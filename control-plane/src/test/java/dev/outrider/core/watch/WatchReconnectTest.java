package dev.outrider.core.watch;

import dev.outrider.core.client.SnapshotPoll;
import com.nimbusds.jose.jwk.JWKSet;
import dev.outrider.core.client.Backoff;
import dev.outrider.core.client.ControlPlaneClient;
import dev.outrider.core.client.ControlPlaneClientConfig;
import dev.outrider.core.identity.CertificateFiles;
import dev.outrider.core.model.SpiffeId;
import dev.outrider.core.snapshot.LastKnownGood;
import dev.outrider.core.snapshot.SnapshotVerifier;
import dev.outrider.core.snapshot.WorkloadSnapshot;
import dev.outrider.controlplane.ControlPlaneFixture;
import dev.outrider.controlplane.testing.ApiClient;
import dev.outrider.controlplane.testing.TestMesh;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.random.RandomGenerator;

import static org.assertj.core.api.Assertions.assertThat;
import static dev.outrider.core.watch.WatchTestSupport.holds;
import static dev.outrider.core.watch.WatchTestSupport.putPolicy;
import static org.awaitility.Awaitility.await;

/**
 * A sidecar's snapshot watch (the real {@link ControlPlaneClient} and {@link SnapshotWatcher}) across a restart of a
 * real control plane on loopback: while the control plane is down every poll is refused, and the back-off must
 * not grow past the refusal bound ({@link Backoff#REFUSED_MAX}), so a change applied right after the restart
 * arrives within a few seconds, not after the up-to-30 s back-off of other failures.
 *
 * <p>The jitter is pinned to its ceiling (every delay is the longest the back-off allows), so the test sees the
 * worst case of the policy rather than a lucky draw; the wait for the change is generous (10 s, five times the
 * bound) and far below the 16 s an unbounded back-off would wait after seven failures. Lives in the watch's
 * package (in this module's tests, where a real control plane is at hand) to use the watcher's jitter seam.
 */
class WatchReconnectTest {
    private static final String TD = "cluster.local";
    private static final int FAILURES_BEFORE_RESTART = 7;

    @TempDir
    Path dir;
    private ControlPlaneFixture cp;
    private ControlPlaneClient client;
    private SnapshotWatcher watcher;

    @AfterEach
    void stop() {
        if (watcher != null) {
            watcher.close();
        }
        if (client != null) {
            client.close();
        }
        if (cp != null) {
            cp.close();
        }
    }

    @Test
    void aChangeAppliedRightAfterARestartArrivesWithinTheRefusalBound() throws Exception {
        cp = ControlPlaneFixture.start(dir);
        ApiClient admin = cp.adminByToken();
        putPolicy(admin, "before-restart");
        List<WorkloadSnapshot> applied = new CopyOnWriteArrayList<>();
        CountingCalls calls = new CountingCalls(WatchCalls.of(client = workloadClient()));
        SpiffeId orders = SpiffeId.ofServiceAccount(TD, "shop", "orders");
        SnapshotVerifier verifier = new SnapshotVerifier(JWKSet.parse(admin.get("/v1/snapshot-keys").body()), orders);
        watcher = SnapshotWatcher.start(calls, verifier, new LastKnownGood(dir.resolve("snapshot.jws"), verifier),
                s -> applied.add(s.snapshot()), WatchOptions.of(orders, null, "orders-1", null), Clock.systemUTC(), new Ceiling());
        await().atMost(Duration.ofSeconds(30)).until(() -> holds(applied, "before-restart"));

        cp.controlPlane.close();
        await().atMost(Duration.ofSeconds(90)).until(() -> calls.failures.get() >= FAILURES_BEFORE_RESTART);
        assertThat(watcher.state().lastError()).contains("unreachable");
        cp = cp.restart();
        putPolicy(cp.adminByToken(), "after-restart");

        await().atMost(Duration.ofSeconds(10)).until(() -> holds(applied, "after-restart"));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(watcher.state().lastError()).isNull());
    }

    /** A workload client of spiffe://cluster.local/ns/shop/sa/orders, its certificate and key in files. */
    private ControlPlaneClient workloadClient() throws Exception {
        return WatchTestSupport.client(cp, dir, "shop", "orders");
    }

    /** The real client's calls, counting the polls that got no answer. */
    private static final class CountingCalls extends ForwardingWatchCalls {
        final AtomicInteger failures = new AtomicInteger();

        CountingCalls(WatchCalls real) {
            super(real);
        }

        @Override
        public CompletableFuture<SnapshotPoll> pollSnapshot(String namespace, String serviceAccount, long after,
                                                        Duration wait, String instance, long ackVersion) {
            CompletableFuture<SnapshotPoll> answer;
            try {
                answer = super.pollSnapshot(namespace, serviceAccount, after, wait, instance, ackVersion);
            } catch (RuntimeException e) {
                failures.incrementAndGet();
                throw e;
            }
            answer.whenComplete((snapshot, failure) -> {
                if (failure != null) {
                    failures.incrementAndGet();
                }
            });
            return answer;
        }
    }

    /** Jitter pinned to the ceiling: every back-off delay is the longest its policy allows. */
    private static final class Ceiling implements RandomGenerator {
        @Override
        public long nextLong() {
            return Long.MAX_VALUE;
        }

        @Override
        public long nextLong(long bound) {
            return bound - 1;
        }
    }
}
