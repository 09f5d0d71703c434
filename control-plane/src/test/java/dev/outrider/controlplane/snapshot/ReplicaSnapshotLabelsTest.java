package dev.outrider.controlplane.snapshot;

import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import dev.outrider.controlplane.ca.WorkloadIdentity;
import dev.outrider.controlplane.registry.ServiceRegistry;
import dev.outrider.controlplane.store.EtcdStore;
import dev.outrider.controlplane.store.EtcdStoreConfig;
import dev.outrider.controlplane.store.ResourceKey;
import dev.outrider.controlplane.store.Store;
import dev.outrider.controlplane.store.StoredResource;
import dev.outrider.controlplane.testing.EtcdCluster;
import dev.outrider.controlplane.testing.MutableClock;
import dev.outrider.controlplane.testing.Resources;
import dev.outrider.core.snapshot.SnapshotSigner;
import dev.outrider.core.snapshot.SnapshotVerifier;
import dev.outrider.core.snapshot.WorkloadSnapshot;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * How a replica's hub ({@code followsWatch}) labels snapshots, driven here by hand through {@link SnapshotHub#caughtUp}
 * on a real etcd: it compiles the store as it was at the revision the watch caught up to, never newer, and labels a
 * content with one more than the greatest version it was compiled from or the last delete, so replicas compiling
 * at different moments give one content one version and two contents two.
 */
class ReplicaSnapshotLabelsTest {
    private static final WorkloadIdentity ORDERS = new WorkloadIdentity("cluster.local", "shop", "orders");
    private static final String DENY = "{action: DENY, rules: [{to: [{operation: {paths: [\"/admin/*\"]}}]}]}";
    private static final Duration LONG = Duration.ofSeconds(30);
    private static final AtomicInteger PREFIXES = new AtomicInteger();

    @TempDir
    static Path dir;
    static EtcdCluster etcd;

    private final MutableClock clock = new MutableClock();
    private ECKey key;
    private EtcdStore store;
    private ServiceRegistry registry;
    private SnapshotHub one;
    private SnapshotHub two;

    @BeforeAll
    static void startEtcd() throws Exception {
        etcd = EtcdCluster.start(dir.resolve("etcd"), 1);
    }

    @AfterAll
    static void stopEtcd() {
        if (etcd != null) {
            etcd.close();
        }
    }

    @BeforeEach
    void open() throws Exception {
        key = new ECKeyGenerator(Curve.P_256).keyID("cp-1").generate();
        store = EtcdStore.open(new EtcdStoreConfig(EtcdStoreConfig.parseEndpoints(etcd.storeUri()), null,
                "/labels-" + PREFIXES.incrementAndGet() + "/", Duration.ofSeconds(10)));
        registry = new ServiceRegistry(store, clock);
        one = hub();
        two = hub();
    }

    @AfterEach
    void close() {
        one.close();
        two.close();
        store.close();
    }

    private SnapshotHub hub() throws Exception {
        return new SnapshotHub(store, SnapshotSigner.of(key), registry, "cluster.local", clock,
                SnapshotHub.DEFAULT_REISSUE_AFTER, true);
    }

    @Test
    void aReplicaCompilesTheStoreAsItWasWhereItsWatchIsAndLabelsByWhatTheContentIsMadeOf() throws Exception {
        StoredResource first = Resources.authorizationPolicy(store, "shop", "first", DENY);
        Resources.authorizationPolicy(store, "elsewhere", "unrelated", DENY);
        long caughtUp = store.revision();
        one.caughtUp(caughtUp, 0);
        WorkloadSnapshot atOne = verify(get(one.next(ORDERS, 0, LONG)));
        assertThat(atOne.policies()).contains("first");
        assertThat(atOne.versionNumber()).as("one more than the newest input, not than the revision")
                .isEqualTo(first.resourceVersion() + 1);

        // Written, but replica two's watch has not passed it on yet: two compiles without it, under the same label.
        StoredResource second = Resources.authorizationPolicy(store, "shop", "second", DENY);
        two.caughtUp(caughtUp, 0);
        WorkloadSnapshot atTwo = verify(get(two.next(ORDERS, 0, LONG)));
        assertThat(atTwo.policies()).doesNotContain("second");
        assertThat(atTwo.versionNumber()).isEqualTo(atOne.versionNumber());

        // Once passed on: the new content under the write's version plus one, on both, whatever was written since.
        Resources.authorizationPolicy(store, "elsewhere", "later", DENY);
        one.caughtUp(store.revision(), 0);
        two.caughtUp(second.resourceVersion(), 0);
        WorkloadSnapshot nextAtOne = verify(get(one.next(ORDERS, atOne.versionNumber(), LONG)));
        WorkloadSnapshot nextAtTwo = verify(get(two.next(ORDERS, atTwo.versionNumber(), LONG)));
        assertThat(nextAtOne.policies()).contains("second");
        assertThat(nextAtOne.versionNumber()).isEqualTo(second.resourceVersion() + 1)
                .isEqualTo(nextAtTwo.versionNumber());
        assertThat(nextAtTwo.policies()).isEqualTo(nextAtOne.policies());

        // A delete: the content loses the policy; its label is above the delete, so above every older content.
        assertThat(store.delete(new ResourceKey("AuthorizationPolicy", "shop", "first"), Store.ANY_VERSION)).isTrue();
        long deleted = store.revision();
        one.caughtUp(deleted, deleted);
        WorkloadSnapshot afterDelete = verify(get(one.next(ORDERS, nextAtOne.versionNumber(), LONG)));
        assertThat(afterDelete.policies()).doesNotContain("first");
        assertThat(afterDelete.versionNumber()).isEqualTo(deleted + 1);
    }

    private static IssuedSnapshot get(CompletableFuture<Optional<IssuedSnapshot>> future) throws Exception {
        return future.get(30, TimeUnit.SECONDS).orElseThrow();
    }

    private WorkloadSnapshot verify(IssuedSnapshot issued) {
        return new SnapshotVerifier(new JWKSet(key.toPublicJWK()), ORDERS.spiffeId()).verify(issued.jws());
    }
}
