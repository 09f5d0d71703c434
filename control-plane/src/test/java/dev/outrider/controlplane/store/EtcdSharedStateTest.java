package dev.outrider.controlplane.store;

import dev.outrider.controlplane.testing.EtcdCluster;
import io.etcd.jetcd.ByteSequence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * What replicas share in etcd besides resources: records (batched, beyond one transaction's operations) and the
 * election that picks one replica for once-only work, on a real etcd on loopback. Each test has its own prefix.
 */
class EtcdSharedStateTest {
    private static final AtomicInteger PREFIXES = new AtomicInteger();

    @TempDir
    static Path dir;
    static EtcdCluster etcd;

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

    private static EtcdStoreConfig config(String prefix) {
        return new EtcdStoreConfig(EtcdStoreConfig.parseEndpoints(etcd.storeUri()), null, prefix,
                Duration.ofSeconds(10));
    }

    private static String newPrefix() {
        return "/shared-" + PREFIXES.incrementAndGet() + "/";
    }

    @Test
    void recordsWrittenByOneReplicaAreReadByAnotherAndStayOutOfTheResources() {
        String prefix = newPrefix();
        try (EtcdStore one = EtcdStore.open(config(prefix)); EtcdStore two = EtcdStore.open(config(prefix))) {
            Map<String, byte[]> records = new LinkedHashMap<>();
            for (int i = 0; i < 250; i++) { // more than one transaction's worth
                records.put("shop/orders/orders-" + i, ("{\"n\":" + i + "}").getBytes(StandardCharsets.UTF_8));
            }
            long revision = one.revision();
            one.putRecords("sidecars", records);

            Map<String, byte[]> listed = two.listRecords("sidecars");
            assertThat(listed).hasSize(250);
            assertThat(new String(listed.get("shop/orders/orders-249"), StandardCharsets.UTF_8)).isEqualTo("{\"n\":249}");
            List<String> some = new ArrayList<>();
            for (int i = 0; i < 250; i += 2) {
                some.add("shop/orders/orders-" + i);
            }
            some.add("shop/orders/never-written");
            assertThat(two.getRecords("sidecars", some)).hasSize(125).containsKey("shop/orders/orders-248")
                    .doesNotContainKey("shop/orders/never-written");
            assertThat(two.listAll()).as("records are no resources").isEmpty();
            assertThat(two.revision()).as("etcd's revision moved (the contract allows it)").isGreaterThan(revision);

            two.deleteRecords("sidecars", some);
            assertThat(one.listRecords("sidecars")).hasSize(125).doesNotContainKey("shop/orders/orders-0");
            assertThat(one.listRecords("other-space")).isEmpty();
        }
    }

    @Test
    void aConditionalWriteWritesOnlyRecordsStillAsExpected() {
        String prefix = newPrefix();
        try (EtcdStore one = EtcdStore.open(config(prefix)); EtcdStore two = EtcdStore.open(config(prefix))) {
            Map<String, Long> created = one.putRecordsIf("sidecars", Map.of("a", bytes("a1"), "b", bytes("b1")),
                    Map.of("a", 0L, "b", 0L));
            assertThat(created).as("absent, as expected").containsOnlyKeys("a", "b");
            Map<String, Store.Record> read = two.getRecords("sidecars", List.of("a", "b"));
            assertThat(read.get("a").revision()).isEqualTo(created.get("a"));

            assertThat(one.putRecordsIf("sidecars", Map.of("a", bytes("a0")), Map.of("a", 0L)))
                    .as("expected absent, but it exists").isEmpty();
            assertThat(two.putRecordsIf("sidecars", Map.of("a", bytes("a2")), Map.of("a", created.get("a"))))
                    .containsOnlyKeys("a");
            assertThat(one.putRecordsIf("sidecars", Map.of("a", bytes("a3")), Map.of("a", created.get("a"))))
                    .as("changed by the other since").isEmpty();
            assertThat(new String(one.getRecords("sidecars", List.of("a")).get("a").value(), StandardCharsets.UTF_8))
                    .isEqualTo("a2");

            Map<String, byte[]> many = new LinkedHashMap<>();
            Map<String, Long> expected = new LinkedHashMap<>();
            for (int i = 0; i < 150; i++) { // two groups: the first holds "b", which exists (expected absent)
                String name = i == 0 ? "b" : "n" + i;
                many.put(name, bytes("x"));
                expected.put(name, 0L);
            }
            assertThat(one.putRecordsIf("sidecars", many, expected)).as("the second group only").hasSize(50)
                    .doesNotContainKey("b").doesNotContainKey("n99").containsKey("n100");
            assertThatThrownBy(() -> one.putRecordsIf("sidecars", Map.of("c", bytes("c")), Map.of()))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("record c");
        }
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * A leased resource (a registration) renewed by one replica lives while it renews it, also after another
     * replica wrote it again on a lease of its own: the renewal goes to the lease the key holds now (the resource
     * watch tells), not to the one this replica granted. Once the renewals stop, etcd deletes it.
     */
    @Test
    void aRenewalKeepsTheLeaseTheResourceHoldsNowAlsoAfterAnotherReplicaRewroteIt() throws Exception {
        String prefix = newPrefix();
        Duration ttl = Duration.ofSeconds(3);
        ResourceKey key = new ResourceKey("Registration", "shop", "orders-1");
        try (EtcdStore a = EtcdStore.open(config(prefix)); EtcdStore b = EtcdStore.open(config(prefix))) {
            AtomicLong seenByA = new AtomicLong();
            try (Store.Watch watch = a.watch(new Store.Listener() {
                @Override
                public void changed(ResourceKey changed, StoredResource nowOrNull) {
                }

                @Override
                public void resync() {
                }

                @Override
                public void caughtUp(long revision, long lastDeleted) {
                    seenByA.set(revision);
                }
            })) {
                a.putLeased(key, bytes("{\"on\": \"a\"}"), Store.ANY_VERSION, ttl);
                long rewritten = b.putLeased(key, bytes("{\"on\": \"b\"}"), Store.ANY_VERSION, ttl)
                        .resourceVersion();
                await().atMost(5, TimeUnit.SECONDS).until(() -> seenByA.get() >= rewritten);

                // Renewed by a alone for three TTLs: b's lease (the one the key holds) must be the one renewed.
                long until = System.nanoTime() + ttl.multipliedBy(3).toNanos();
                while (System.nanoTime() < until) {
                    assertThat(a.keepAlive(key)).as("renewed").isTrue();
                    Thread.sleep(ttl.toMillis() / 3);
                }
                assertThat(a.get(key)).as("alive after three TTLs of renewals through replica a").isPresent();

                // No more renewals: gone within the TTL (and etcd's granularity), for both replicas.
                await().atMost(ttl.multipliedBy(3)).until(() -> a.get(key).isEmpty());
                assertThat(a.keepAlive(key)).as("renewal of an expired resource").isFalse();
                assertThat(b.keepAlive(key)).as("renewal of an expired resource, other replica").isFalse();
            }
        }
    }

    @Test
    void badRecordSpacesAndNamesAreRefusedNamingThem() {
        try (EtcdStore store = EtcdStore.open(config(newPrefix()))) {
            assertThatThrownBy(() -> store.putRecords("Side/cars", Map.of("a", new byte[0])))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("record space")
                    .hasMessageContaining("Side/cars");
            assertThatThrownBy(() -> store.putRecords("sidecars", Map.of("has space", new byte[0])))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("record name")
                    .hasMessageContaining("has space");
            assertThatThrownBy(() -> store.campaign("no/slash"))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("election name");
        }
    }

    @Test
    void theFileStoreKeepsNoSharedRecordsAndAlwaysLeads(@TempDir Path data) throws Exception {
        try (FileStore store = FileStore.open(data)) {
            assertThat(store.isShared()).isFalse();
            assertThatThrownBy(() -> store.listRecords("sidecars")).isInstanceOf(UnsupportedOperationException.class);
            assertThat(store.campaign("sweeps").isLeader()).isTrue();
        }
    }

    @Test
    void oneReplicaLeadsAndWhenItDiesAnotherTakesOverWithinTheLeaseTtl() {
        String prefix = newPrefix();
        Duration ttl = Duration.ofSeconds(2);
        EtcdStore a = EtcdStore.open(config(prefix));
        EtcdStore b = EtcdStore.open(config(prefix));
        EtcdStore c = EtcdStore.open(config(prefix));
        ByteSequence election = ByteSequence.from(prefix + "elections/test", StandardCharsets.UTF_8);
        EtcdLeadership la = new EtcdLeadership(a.client(), election, "test", ttl);
        EtcdLeadership lb = new EtcdLeadership(b.client(), election, "test", ttl);
        EtcdLeadership lc = new EtcdLeadership(c.client(), election, "test", ttl);
        try {
            la.start();
            await().atMost(10, TimeUnit.SECONDS).until(la::isLeader);
            lb.start();
            lc.start();
            // b and c campaign but wait: a leads throughout
            await().during(3, TimeUnit.SECONDS).atMost(5, TimeUnit.SECONDS)
                    .until(() -> la.isLeader() && !lb.isLeader() && !lc.isLeader());

            a.close(); // a "dies": its connection goes, nobody resigns; its lease runs out on etcd
            await().atMost(3, TimeUnit.SECONDS).until(() -> !la.isLeader());
            await().atMost(ttl.multipliedBy(4)).until(() -> lb.isLeader() || lc.isLeader());
            EtcdLeadership next = lb.isLeader() ? lb : lc;
            EtcdLeadership other = next == lb ? lc : lb;
            assertThat(other.isLeader()).as("one leader at a time").isFalse();

            next.close(); // a clean stop resigns: the last one takes over at once, without waiting for a TTL
            await().atMost(ttl).until(other::isLeader);
        } finally {
            la.close();
            lb.close();
            lc.close();
            a.close();
            b.close();
            c.close();
        }
    }
}
