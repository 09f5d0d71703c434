package dev.outrider.core.watch;

import com.nimbusds.jose.jwk.JWKSet;
import dev.outrider.controlplane.ControlPlaneFixture;
import dev.outrider.controlplane.store.EtcdStoreConfig;
import dev.outrider.controlplane.testing.ApiClient;
import dev.outrider.controlplane.testing.EtcdCluster;
import dev.outrider.controlplane.testing.TestMesh;
import dev.outrider.core.client.ControlPlaneClient;
import dev.outrider.core.client.ControlPlaneClientConfig;
import dev.outrider.core.client.SnapshotPoll;
import dev.outrider.core.identity.CertificateFiles;
import dev.outrider.core.model.SpiffeId;
import dev.outrider.core.snapshot.LastKnownGood;
import dev.outrider.core.snapshot.SnapshotResult;
import dev.outrider.core.snapshot.SnapshotVerifier;
import dev.outrider.core.snapshot.WorkloadSnapshot;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static dev.outrider.core.watch.WatchTestSupport.holds;
import static dev.outrider.core.watch.WatchTestSupport.putPolicy;
import static org.awaitility.Awaitility.await;

/**
 * A sidecar's snapshot watch (the real {@link ControlPlaneClient} and {@link SnapshotWatcher}) given two
 * control-plane replicas on one etcd store: when the replica it polls goes away, it moves to the other, resumes from
 * the version it holds (nothing it has is downloaded again) and receives the next change made there.
 */
@Timeout(120)
class WatchFailoverTest {
    private static final String TD = "cluster.local";

    @TempDir
    Path dir;
    private EtcdCluster etcd;
    private ControlPlaneFixture one;
    private ControlPlaneFixture two;
    private ControlPlaneClient client;
    private SnapshotWatcher watcher;

    @AfterEach
    void stop() {
        for (AutoCloseable c : new AutoCloseable[] {watcher, client, two, one, etcd}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                // the next one still closes
            }
        }
    }

    @Test
    void theWatchMovesToAnotherReplicaAndResumesFromItsVersion() throws Exception {
        etcd = EtcdCluster.start(dir.resolve("etcd"), 1);
        one = ControlPlaneFixture.startOn(dir.resolve("one"),
                new EtcdStoreConfig(etcd.endpoints(), null, "/failover/", Duration.ofSeconds(10)));
        two = one.replica(dir.resolve("two-data"));
        putPolicy(one.adminByToken(), "before-failover");

        List<WorkloadSnapshot> applied = new CopyOnWriteArrayList<>();
        List<Long> polledAfter = new CopyOnWriteArrayList<>();
        client = workloadClient(List.of(one, two));
        SpiffeId orders = SpiffeId.ofServiceAccount(TD, "shop", "orders");
        SnapshotVerifier verifier = new SnapshotVerifier(
                JWKSet.parse(one.adminByToken().get("/v1/snapshot-keys").body()), orders);
        RecordingCalls calls = new RecordingCalls(WatchCalls.of(client), polledAfter);
        watcher = SnapshotWatcher.start(calls, verifier,
                new LastKnownGood(dir.resolve("snapshot.jws"), verifier), s -> applied.add(s.snapshot()),
                WatchOptions.of(orders, null, "orders-1", null), Clock.systemUTC());
        await().atMost(Duration.ofSeconds(30)).until(() -> holds(applied, "before-failover"));
        long held = Long.parseLong(applied.getLast().version());
        int appliedBefore = applied.size();

        polledAfter.clear(); // before the close: the watch's retry may reach replica two at once
        one.controlPlane.close();
        putPolicy(two.adminByToken(), "after-failover");

        await().atMost(Duration.ofSeconds(30)).until(() -> holds(applied, "after-failover"));
        assertThat(polledAfter).as("every poll since the failover asked for what is newer than the version held")
                .isNotEmpty().allSatisfy(after -> assertThat(after).isGreaterThanOrEqualTo(held));
        assertThat(applied.subList(appliedBefore, applied.size())).as("nothing held was downloaded again")
                .allSatisfy(s -> assertThat(Long.parseLong(s.version())).isGreaterThan(held));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(watcher.state().lastError()).isNull());

        long after = Long.parseLong(applied.getLast().version());
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(
                ApiClient.json(two.adminByToken().get("/v1/sidecars")).get("sidecars"))
                .as("the ACK rode on the next poll to replica two").anySatisfy(v -> {
                    assertThat(v.get("instance").asText()).isEqualTo("orders-1");
                    assertThat(v.get("appliedVersion").asText()).isEqualTo(Long.toString(after));
                }));
        assertThat(calls.reports).as("no ACK posted separately").isEmpty();
    }

    /** A workload client of spiffe://cluster.local/ns/shop/sa/orders knowing every replica's address, in order. */
    private ControlPlaneClient workloadClient(List<ControlPlaneFixture> replicas) throws Exception {
        TestMesh.Client orders = one.mesh.workload("shop", "orders");
        StringBuilder chain = new StringBuilder();
        for (var c : orders.chain()) {
            chain.append(TestMesh.pem(c));
        }
        CertificateFiles files = new CertificateFiles(Files.writeString(dir.resolve("cert.pem"), chain),
                Files.writeString(dir.resolve("key.pem"), TestMesh.pkcs8(orders.keys().getPrivate())),
                Files.writeString(dir.resolve("bundle.pem"), TestMesh.pem(one.mesh.caCertificate())));
        return ControlPlaneClient.open(files.clientConfig(replicas.stream()
                        .map(r -> URI.create("https://127.0.0.1:" + r.controlPlane.address().getPort())).toList(),
                ControlPlaneClientConfig.defaultServerIdentity(TD)));
    }

    /** The real client's calls, recording the version each poll asks to be newer than, and the reports posted. */
    private static final class RecordingCalls extends ForwardingWatchCalls {
        private final List<Long> polledAfter;
        final List<String> reports = new CopyOnWriteArrayList<>();

        @Override
        public void reportStatus(String instance, String version, SnapshotResult result, String error) {
            reports.add(result + " " + version);
            super.reportStatus(instance, version, result, error);
        }

        RecordingCalls(WatchCalls real, List<Long> polledAfter) {
            super(real);
            this.polledAfter = polledAfter;
        }

        @Override
        public CompletableFuture<SnapshotPoll> pollSnapshot(String namespace, String serviceAccount, long after,
                                                        Duration wait, String instance, long ackVersion) {
            polledAfter.add(after);
            return super.pollSnapshot(namespace, serviceAccount, after, wait, instance, ackVersion);
        }
    }
}
