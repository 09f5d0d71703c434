package dev.outrider.core.watch;

import dev.outrider.core.client.ControlPlaneClient;
import dev.outrider.core.client.ControlPlaneClientConfig;
import dev.outrider.core.client.TestPki;
import dev.outrider.core.identity.CertificateFiles;
import dev.outrider.core.watch.WatchState.Source;
import dev.outrider.core.snapshot.LastKnownGood;
import dev.outrider.core.snapshot.WorkloadSnapshot;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadFactory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** The watcher without a control plane: the client points at a closed port. */
class SnapshotWatcherTest {
    private final TestSnapshots snapshots = new TestSnapshots();
    private final List<WorkloadSnapshot> applied = new CopyOnWriteArrayList<>();

    @TempDir
    Path dir;
    private ControlPlaneClient client;
    private LastKnownGood cache;

    @BeforeEach
    void setUp() throws Exception {
        TestPki.Ca mesh = TestPki.Ca.create("mesh");
        Path bundle = dir.resolve("bundle.pem");
        Files.writeString(bundle, mesh.pem());
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        CertificateFiles files = new CertificateFiles(dir.resolve("cert.pem"), dir.resolve("key.pem"), bundle);
        client = ControlPlaneClient.open(files.clientConfig(URI.create("https://127.0.0.1:" + closedPort),
                ControlPlaneClientConfig.defaultServerIdentity("cluster.local")));
        cache = snapshots.cache(dir.resolve("snapshot.jws"));
    }

    @AfterEach
    void tearDown() {
        client.close();
    }

    private SnapshotWatcher start() {
        return SnapshotWatcher.start(client, snapshots.verifier, cache, s -> applied.add(s.snapshot()),
                WatchOptions.of(TestSnapshots.ORDERS, "orders", "orders-1", "10.0.0.5:15006"));
    }

    @Test
    void theLastKnownGoodSnapshotIsInForceWhenStartReturns() {
        cache.store(snapshots.signed(7).jws(), 7);

        try (SnapshotWatcher watcher = start()) {
            assertThat(applied).containsExactly(TestSnapshots.snapshot(7));
            WatchState state = watcher.state();
            assertThat(state.appliedVersion()).isEqualTo(7);
            assertThat(state.source()).isEqualTo(Source.CACHE);
            assertThat(state.hasSnapshot()).isTrue();

            // The control plane is unreachable: the snapshot stays in force and the state says why nothing is new.
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    assertThat(watcher.state().lastError()).contains("unreachable"));
            assertThat(watcher.state().appliedVersion()).isEqualTo(7);
            assertThat(watcher.state().lastContact()).isNull();
        }
    }

    @Test
    void theWatchRunsOnAThreadOfTheGivenFactoryAndEndsWithTheWatcher() {
        List<Thread> made = new CopyOnWriteArrayList<>();
        ThreadFactory virtual = Thread.ofVirtual().name("test-watch-", 0).factory();
        SnapshotWatcher watcher = SnapshotWatcher.start(client, snapshots.verifier, cache, s -> applied.add(s.snapshot()),
                WatchOptions.of(TestSnapshots.ORDERS, "orders", "orders-1", "10.0.0.5:15006"), task -> {
                    Thread t = virtual.newThread(task);
                    made.add(t);
                    return t;
                });
        try (watcher) {
            // The watch loop ran (its poll found nobody listening) on the one thread the factory made.
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    assertThat(watcher.state().lastError()).contains("unreachable"));
            assertThat(made).hasSize(1);
            assertThat(made.getFirst().isVirtual()).isTrue();
            assertThat(made.getFirst().getName()).isEqualTo("test-watch-0");
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> !made.getFirst().isAlive());
    }

    @Test
    void withoutLastKnownGoodNothingIsInForce() {
        try (SnapshotWatcher watcher = start()) {
            assertThat(applied).isEmpty();
            assertThat(watcher.state().source()).isEqualTo(Source.NONE);
            assertThat(watcher.state().appliedVersion()).isEqualTo(-1);
            assertThat(watcher.state().hasSnapshot()).isFalse();
        }
    }

    @Test
    void aTamperedLastKnownGoodIsNotApplied() throws Exception {
        cache.store(snapshots.signed(7).jws(), 7);
        String jws = Files.readString(cache.file());
        Files.writeString(cache.file(), jws.substring(0, jws.length() - 4) + (jws.endsWith("AAAA") ? "BBBB" : "AAAA"));

        try (SnapshotWatcher watcher = start()) {
            assertThat(applied).isEmpty();
            assertThat(watcher.state().source()).isEqualTo(Source.NONE);
            // Until the first poll fails, the refusal is what the state reports.
            assertThat(watcher.state().lastError()).satisfiesAnyOf(
                    e -> assertThat(e).contains("last-known-good snapshot refused"),
                    e -> assertThat(e).contains("unreachable"));
        }
    }

    @Test
    void aRolledBackLastKnownGoodIsNotAppliedAndTheStateKeepsSaying() throws Exception {
        String older = snapshots.signed(5).jws();
        cache.store(older, 5);
        cache.store(snapshots.signed(7).jws(), 7);
        Files.writeString(cache.file(), older);

        try (SnapshotWatcher watcher = start()) {
            assertThat(applied).isEmpty();
            assertThat(watcher.state().source()).isEqualTo(Source.NONE);
            // Once the poll failed too, the refusal is still what the state (and /ready) reports first.
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    assertThat(watcher.state().lastError()).contains("unreachable"));
            assertThat(watcher.state().lastError()).startsWith("last-known-good snapshot refused: BELOW_FLOOR")
                    .contains("snapshot 5 is older than the version floor 7");
        }
    }

    @Test
    void aCachedSnapshotTheApplierRefusesLeavesNothingInForce() {
        cache.store(snapshots.signed(7).jws(), 7);

        try (SnapshotWatcher watcher = SnapshotWatcher.start(client, snapshots.verifier, cache,
                s -> { throw new IllegalStateException("cannot compile"); },
                WatchOptions.of(TestSnapshots.ORDERS, null, "orders-1", null))) {
            assertThat(watcher.state().source()).isEqualTo(Source.NONE);
        }
    }

    @Test
    void optionsMustMatchTheVerifiersWorkload() {
        assertThatThrownBy(() -> SnapshotWatcher.start(client, snapshots.verifier, cache, s -> applied.add(s.snapshot()),
                new WatchOptions("shop", "payments", null, "payments-1", null, Duration.ofSeconds(30))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("spiffe://cluster.local/ns/shop/sa/orders");
    }

    @Test
    void optionsAreChecked() {
        assertThatThrownBy(() -> new WatchOptions("shop", "orders", "orders", "orders-1", null, Duration.ofSeconds(30)))
                .hasMessageContaining("advertised address");
        assertThatThrownBy(() -> new WatchOptions("shop", "orders", null, "../x", null, Duration.ofSeconds(30)))
                .hasMessageContaining("instance '../x'");
        assertThatThrownBy(() -> new WatchOptions("shop", "orders", null, "orders-1", null, Duration.ofSeconds(61)))
                .hasMessageContaining("1 to 60 seconds");
        assertThatThrownBy(() -> new WatchOptions("shop", "orders", "orders", "orders-1", "10.0.0.5", Duration.ofSeconds(30)))
                .hasMessageContaining("host:port");
    }
}
