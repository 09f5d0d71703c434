package dev.outrider.controlplane.sidecars;

import dev.outrider.controlplane.ca.WorkloadIdentity;
import dev.outrider.controlplane.store.EtcdStore;
import dev.outrider.controlplane.store.EtcdStoreConfig;
import dev.outrider.controlplane.testing.EtcdCluster;
import dev.outrider.controlplane.testing.MutableClock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Sidecar statuses shared by replicas through a real etcd: what one replica hears, every replica lists, a restart
 * keeps, and the replicas' views merge; the sweep forgets instances in the store too.
 */
class SidecarStatusesSharedTest {
    private static final WorkloadIdentity ORDERS = new WorkloadIdentity("cluster.local", "shop", "orders");
    private static final Duration TTL = Duration.ofSeconds(60);
    private static final Function<WorkloadIdentity, OptionalLong> NONE_COMPILED = w -> OptionalLong.empty();
    private static final AtomicInteger PREFIXES = new AtomicInteger();

    @TempDir
    static Path dir;
    static EtcdCluster etcd;

    private final MutableClock clock = new MutableClock();
    private final List<AutoCloseable> open = new ArrayList<>();
    private String prefix;

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
    void newPrefix() {
        prefix = "/statuses-" + PREFIXES.incrementAndGet() + "/";
    }

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : open.reversed()) {
            c.close();
        }
    }

    private EtcdStore store() {
        EtcdStore store = EtcdStore.open(new EtcdStoreConfig(EtcdStoreConfig.parseEndpoints(etcd.storeUri()), null,
                prefix, Duration.ofSeconds(5)));
        open.add(store);
        return store;
    }

    private SidecarStatuses replica(EtcdStore store) {
        SidecarStatuses statuses = new SidecarStatuses(clock, () -> TTL, store);
        open.add(statuses);
        return statuses;
    }

    private static void kept(CompletableFuture<Void> report) throws Exception {
        report.get(10, TimeUnit.SECONDS);
    }

    @Test
    void whatOneReplicaHearsEveryReplicaListsAndARestartKeeps() throws Exception {
        SidecarStatuses one = replica(store());
        SidecarStatuses two = replica(store());
        kept(one.seen(ORDERS, "orders-1", "orders", "10.0.0.5:15006"));
        kept(one.report(ORDERS, "orders-1", "5", "ACK", null));

        assertThat(two.list(w -> OptionalLong.of(5))).singleElement().satisfies(v -> {
            assertThat(v.instance()).isEqualTo("orders-1");
            assertThat(v.service()).isEqualTo("orders");
            assertThat(v.appliedVersion()).isEqualTo(5L);
            assertThat(v.state()).isEqualTo("ACK");
        });

        // the sidecar moves to replica two, which never heard of it: it registers there, then NACKs version 7
        clock.advance(Duration.ofSeconds(1));
        kept(two.seen(ORDERS, "orders-1", "orders", "10.0.0.9:15006"));
        kept(two.report(ORDERS, "orders-1", "7", "NACK", "policies: bad"));
        SidecarView merged = one.list(w -> OptionalLong.of(7)).getFirst();
        assertThat(merged.appliedVersion()).as("the ACK heard by replica one is kept").isEqualTo(5L);
        assertThat(merged.address()).as("the newest registration wins").isEqualTo("10.0.0.9:15006");
        assertThat(merged.state()).isEqualTo("NACK");
        assertThat(merged.error()).isEqualTo("policies: bad");

        // a late ACK of version 6 reaches replica one, which wrote the record before two did: its write must not
        // undo the NACK of version 7 that two wrote meanwhile
        clock.advance(Duration.ofSeconds(1));
        kept(one.report(ORDERS, "orders-1", "6", "ACK", null));
        SidecarView late = two.list(w -> OptionalLong.of(7)).getFirst();
        assertThat(late.appliedVersion()).isEqualTo(6L);
        assertThat(late.state()).as("two's NACK, merged in").isEqualTo("NACK");
        assertThat(late.error()).isEqualTo("policies: bad");

        // a replica started afresh lists what the others wrote
        SidecarStatuses restarted = replica(store());
        assertThat(restarted.list(NONE_COMPILED)).extracting(SidecarView::instance, SidecarView::appliedVersion,
                SidecarView::error).containsExactly(org.assertj.core.groups.Tuple.tuple("orders-1", 6L, "policies: bad"));
    }

    @Test
    void manyReportsAtOnceAreAllKept() throws Exception {
        EtcdStore store = store();
        SidecarStatuses one = replica(store);
        long before = store.revision();
        List<CompletableFuture<Void>> reports = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            reports.add(one.report(ORDERS, "orders-" + i, "3", "ACK", null));
        }
        CompletableFuture.allOf(reports.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        assertThat(store.revision() - before).as("transactions (one revision each), grouped: not one per report")
                .isBetween(3L, 30L);
        SidecarStatuses two = replica(store());
        assertThat(two.list(w -> OptionalLong.of(3))).hasSize(300).allMatch(v -> "ACK".equals(v.state()));
    }

    @Test
    void theSweepForgetsInstancesNotSeenForTenTtlsInTheStore() throws Exception {
        EtcdStore store = store();
        SidecarStatuses one = replica(store);
        kept(one.seen(ORDERS, "orders-1", "orders", "10.0.0.5:15006"));
        clock.advance(TTL.multipliedBy(5));
        kept(one.seen(ORDERS, "orders-2", "orders", "10.0.0.6:15006"));
        clock.advance(TTL.multipliedBy(5));

        assertThat(one.sweep()).isEqualTo(1);
        assertThat(store.listRecords(SidecarStatuses.SPACE)).containsOnlyKeys("shop/orders/orders-2");
        assertThat(replica(store()).list(NONE_COMPILED)).extracting(SidecarView::instance).containsExactly("orders-2");
    }

    @Test
    void aReportTheStoreCannotKeepFailsRatherThanBeingAnsweredAsKept() throws Exception {
        EtcdStore store = store();
        SidecarStatuses one = replica(store);
        kept(one.report(ORDERS, "orders-1", "1", "ACK", null));
        store.close(); // the store is gone (shutdown): the report must not be acknowledged
        assertThatThrownBy(() -> one.report(ORDERS, "orders-1", "2", "ACK", null).get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(IllegalStateException.class)
                .cause().hasMessageContaining("closed");
    }

    @Test
    void anAckRepeatedByPollsIsWrittenOnlyWhenNewsOrWhenTheStoreFailedToKeepIt() throws Exception {
        EtcdStore store = EtcdStore.open(new EtcdStoreConfig(EtcdStoreConfig.parseEndpoints(etcd.storeUri()), null,
                prefix, Duration.ofSeconds(1)));
        open.add(store);
        SidecarStatuses one = replica(store);
        kept(one.acknowledged(ORDERS, "orders-1", 1));
        long written = revision(store);
        kept(one.acknowledged(ORDERS, "orders-1", 1)); // the next poll repeats it
        kept(one.acknowledged(ORDERS, "orders-1", 0));
        assertThat(revision(store)).as("no news: not written again").isEqualTo(written);

        etcd.kill(0);
        try {
            assertThatThrownBy(() -> one.acknowledged(ORDERS, "orders-1", 2).get(30, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class);
        } finally {
            etcd.restart(0);
        }
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                .until(() -> one.acknowledged(ORDERS, "orders-1", 2).get(10, TimeUnit.SECONDS) == null
                        && revision(store) > written);
        assertThat(replica(store()).list(w -> OptionalLong.of(2))).singleElement()
                .satisfies(v -> assertThat(v.appliedVersion()).as("kept once etcd was back").isEqualTo(2L));
    }

    private static long revision(EtcdStore store) {
        return store.getRecords(SidecarStatuses.SPACE, List.of("shop/orders/orders-1"))
                .get("shop/orders/orders-1").revision();
    }
}
