package dev.outrider.controlplane.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static dev.outrider.controlplane.store.Store.ANY_VERSION;
import static dev.outrider.controlplane.store.Store.MUST_NOT_EXIST;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The {@link Store} contract, run against every implementation (FileStoreContractTest, EtcdStoreContractTest):
 * what the control plane relies on whichever store holds its state. Versions are compared, never assumed to be
 * 1, 2, 3: etcd's revision counts every write to the cluster.
 */
@Timeout(120)
abstract class StoreContract {
    static final ResourceKey A = new ResourceKey("AuthorizationPolicy", "shop", "a");
    static final ResourceKey B = new ResourceKey("AuthorizationPolicy", "shop", "b");
    static final ResourceKey C = new ResourceKey("AuthorizationPolicy", "billing", "c");
    static final ResourceKey D = new ResourceKey("AuthorizationPolicy", "shop-eu", "d");
    static final ResourceKey E = new ResourceKey("Endpoints", "shop", "a");

    /** A new, empty store of this implementation. Every test opens one; the test closes it. */
    abstract Store open() throws Exception;

    /** Closes {@code store} and opens the same store again, as a restarted control plane would. */
    abstract Store reopen(Store store) throws Exception;

    @Test
    void putGetListDelete() throws Exception {
        try (Store store = open()) {
            long start = store.revision();
            assertThat(store.get(A)).isEmpty();

            StoredResource a1 = store.put(A, bytes("a1"), MUST_NOT_EXIST);
            StoredResource b1 = store.put(B, bytes("b1"), ANY_VERSION);
            StoredResource c1 = store.put(C, bytes("c1"), MUST_NOT_EXIST);
            StoredResource d1 = store.put(D, bytes("d1"), MUST_NOT_EXIST);
            StoredResource e1 = store.put(E, bytes("e1"), MUST_NOT_EXIST);
            StoredResource a2 = store.put(A, bytes("a2"), a1.resourceVersion());
            assertThat(List.of(start, a1.resourceVersion(), b1.resourceVersion(), c1.resourceVersion(),
                    d1.resourceVersion(), e1.resourceVersion(), a2.resourceVersion())).isSorted().doesNotHaveDuplicates();
            assertThat(store.revision()).isEqualTo(a2.resourceVersion());

            assertThat(store.get(A)).contains(a2);
            assertThat(text(store.get(A).orElseThrow())).isEqualTo("a2");
            // Ordered by kind, namespace, name: "shop" before "shop-eu" although '-' sorts before '/' in bytes.
            assertThat(store.list("AuthorizationPolicy", null)).extracting(StoredResource::key)
                    .containsExactly(C, A, B, D);
            assertThat(store.list("AuthorizationPolicy", "shop")).extracting(StoredResource::key)
                    .containsExactly(A, B);
            assertThat(store.list("AuthorizationPolicy", "shop")).extracting(StoredResource::resourceVersion)
                    .containsExactly(a2.resourceVersion(), b1.resourceVersion());
            assertThat(store.list("Endpoints", "billing")).isEmpty();
            assertThat(store.list("Endpoint", null)).as("a kind is not a prefix of another").isEmpty();
            assertThat(store.list("Nothing", null)).isEmpty();

            assertThat(store.delete(B, ANY_VERSION)).isTrue();
            long afterDelete = store.revision();
            assertThat(afterDelete).isGreaterThan(a2.resourceVersion());
            assertThat(store.get(B)).isEmpty();
            assertThat(store.delete(B, ANY_VERSION)).isFalse();
            assertThat(store.delete(B, b1.resourceVersion())).isFalse();
            assertThat(store.revision()).as("deleting nothing changes nothing").isEqualTo(afterDelete);
            assertThat(store.delete(A, a2.resourceVersion())).isTrue();
            assertThat(store.get(A)).isEmpty();
        }
    }

    @Test
    void conflictsNameKeyExpectedAndActualAndChangeNothing() throws Exception {
        try (Store store = open()) {
            store.put(A, bytes("a1"), MUST_NOT_EXIST);
            long v2 = store.put(A, bytes("a2"), ANY_VERSION).resourceVersion();
            long stale = v2 - 1;

            assertThatThrownBy(() -> store.put(A, bytes("x"), MUST_NOT_EXIST))
                    .isInstanceOfSatisfying(ConflictException.class, e -> {
                        assertThat(e.key()).isEqualTo(A);
                        assertThat(e.expectedVersion()).isZero();
                        assertThat(e.actualVersion()).isEqualTo(v2);
                    })
                    .hasMessage("conflict on AuthorizationPolicy/shop/a: expected it not to exist,"
                            + " but it is at version " + v2);
            assertThatThrownBy(() -> store.put(A, bytes("x"), stale))
                    .hasMessage("conflict on AuthorizationPolicy/shop/a: expected version " + stale
                            + ", but it is at version " + v2);
            assertThatThrownBy(() -> store.put(B, bytes("x"), 7))
                    .hasMessage("conflict on AuthorizationPolicy/shop/b: expected version 7, but it does not exist");
            assertThatThrownBy(() -> store.delete(A, stale))
                    .hasMessage("conflict on AuthorizationPolicy/shop/a: expected version " + stale
                            + ", but it is at version " + v2);
            assertThatThrownBy(() -> store.delete(A, MUST_NOT_EXIST))
                    .hasMessage("conflict on AuthorizationPolicy/shop/a: expected it not to exist,"
                            + " but it is at version " + v2);
            assertThatThrownBy(() -> store.put(A, bytes("x"), -2))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("expectedVersion must be -1 (any), 0 (must not exist) or a positive version: -2");

            assertThat(store.revision()).isEqualTo(v2);
            assertThat(text(store.get(A).orElseThrow())).isEqualTo("a2");
            assertThat(store.get(B)).isEmpty();
        }
    }

    @Test
    void advanceGrowsTheRevisionDurablyWithoutChangingResources() throws Exception {
        Store store = open();
        try {
            StoredResource a1 = store.put(A, bytes("a1"), MUST_NOT_EXIST);
            long first = store.advance();
            long second = store.advance();
            assertThat(first).isGreaterThan(a1.resourceVersion());
            assertThat(second).isGreaterThan(first);
            assertThat(store.revision()).isEqualTo(second);
            assertThat(store.get(A)).contains(a1);
            assertThat(store.list("AuthorizationPolicy", null)).containsExactly(a1);

            store = reopen(store);
            assertThat(store.revision()).isGreaterThanOrEqualTo(second);
            assertThat(store.put(B, bytes("b1"), MUST_NOT_EXIST).resourceVersion()).isGreaterThan(second);
        } finally {
            store.close();
        }
    }

    @Test
    void versionsStayMonotonicAcrossReopenEvenAfterDeletingTheNewest() throws Exception {
        Store store = open();
        try {
            store.put(A, bytes("a1"), MUST_NOT_EXIST);
            store.put(B, bytes("b1"), MUST_NOT_EXIST);
            long c1 = store.put(C, bytes("c1"), MUST_NOT_EXIST).resourceVersion();
            store.delete(C, c1);
            long afterDelete = store.revision();

            store = reopen(store);
            assertThat(store.revision()).isGreaterThanOrEqualTo(afterDelete);
            assertThat(text(store.get(B).orElseThrow())).isEqualTo("b1");
            // Re-created: a new version, never the one a client may still hold.
            long c2 = store.put(C, bytes("c2"), MUST_NOT_EXIST).resourceVersion();
            assertThat(c2).isGreaterThan(afterDelete);
            long a2 = store.put(A, bytes("a2"), store.get(A).orElseThrow().resourceVersion()).resourceVersion();
            assertThat(a2).isGreaterThan(c2);

            store = reopen(store);
            assertThat(store.list("AuthorizationPolicy", null)).extracting(StoredResource::resourceVersion)
                    .containsExactly(c2, a2, store.get(B).orElseThrow().resourceVersion());
            assertThat(text(store.get(C).orElseThrow())).isEqualTo("c2");
        } finally {
            store.close();
        }
    }

    @Test
    void anExportRestoredIntoAnEmptyStoreKeepsEveryResourceUnderLargerVersions() throws Exception {
        List<StoredResource> exported;
        long exportedRevision;
        try (Store source = open()) {
            source.put(A, bytes("a1"), MUST_NOT_EXIST);
            source.put(A, bytes("a2"), ANY_VERSION);
            source.put(C, bytes("c1"), MUST_NOT_EXIST);
            source.put(E, bytes("e1"), MUST_NOT_EXIST);
            for (int i = 0; i < 5; i++) {
                source.advance();
            }
            exported = source.listAll();
            exportedRevision = source.revision();
        }
        assertThat(exported).extracting(StoredResource::key).containsExactly(C, A, E);

        try (Store target = open()) {
            target.restore(exported, exportedRevision);
            List<StoredResource> restored = target.listAll();
            assertThat(restored).extracting(StoredResource::key).containsExactly(C, A, E);
            assertThat(restored).extracting(StoredResource::document).extracting(String::new)
                    .containsExactly("c1", "a2", "e1");
            assertThat(restored).allSatisfy(r -> assertThat(r.resourceVersion()).isGreaterThan(exportedRevision));
            assertThat(target.revision()).isGreaterThan(exportedRevision);
            assertThat(target.put(B, bytes("b1"), MUST_NOT_EXIST).resourceVersion()).isGreaterThan(exportedRevision);
            long a = target.get(A).orElseThrow().resourceVersion();
            assertThat(target.put(A, bytes("a3"), a).resourceVersion()).as("conditional writes work on the restored")
                    .isGreaterThan(a);
            assertThatThrownBy(() -> target.put(A, bytes("x"), a)).isInstanceOf(ConflictException.class);

            assertThatThrownBy(() -> target.restore(exported, exportedRevision))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("empty");
        }
    }

    @Test
    void documentsAreOpaqueBytes() throws Exception {
        try (Store store = open()) {
            byte[] binary = new byte[256];
            for (int i = 0; i < binary.length; i++) {
                binary[i] = (byte) i;
            }
            store.put(A, binary, MUST_NOT_EXIST);
            assertThat(store.get(A).orElseThrow().document()).isEqualTo(binary);

            byte[] large = "{\"x\": \"".concat("y".repeat(1024 * 1024)).concat("\"}").getBytes(StandardCharsets.UTF_8);
            store.put(B, large, MUST_NOT_EXIST);
            assertThat(store.get(B).orElseThrow().document()).isEqualTo(large);
            store.put(C, new byte[0], MUST_NOT_EXIST);
            assertThat(store.get(C).orElseThrow().document()).isEmpty();
        }
    }

    @Test
    void listReturnsEveryResourceOfALargeKind() throws Exception {
        try (Store store = open()) {
            int count = 600; // more than one page (500 keys) of an etcd range read
            Set<ResourceKey> written = new HashSet<>();
            runOnThreads(8, thread -> {
                for (int i = thread; i < count; i += 8) {
                    store.put(new ResourceKey("Registration", "ns-" + (i % 7), "w-" + i), bytes("r" + i), MUST_NOT_EXIST);
                }
                return null;
            });
            for (int i = 0; i < count; i++) {
                written.add(new ResourceKey("Registration", "ns-" + (i % 7), "w-" + i));
            }
            List<StoredResource> all = store.list("Registration", null);
            assertThat(all).extracting(StoredResource::key).containsExactlyInAnyOrderElementsOf(written);
            assertThat(all).extracting(StoredResource::key).isSorted();
            assertThat(store.list("Registration", "ns-3")).hasSize((int) written.stream()
                    .filter(k -> k.namespace().equals("ns-3")).count());
        }
    }

    @Test
    void compareAndSetIncrementsOnOneKeyLoseNoUpdate() throws Exception {
        ResourceKey counter = new ResourceKey("Counter", "test", "shared");
        int threads = 4;
        int writesPerThread = 15;
        try (Store store = open()) {
            List<Integer> successes = runOnThreads(threads, thread -> {
                int done = 0;
                while (done < writesPerThread) {
                    var current = store.get(counter);
                    long value = current.map(r -> Long.parseLong(text(r))).orElse(0L);
                    long expected = current.map(StoredResource::resourceVersion).orElse(MUST_NOT_EXIST);
                    try {
                        store.put(counter, bytes(Long.toString(value + 1)), expected);
                        done++;
                    } catch (ConflictException lost) {
                        // another thread incremented first: read again
                    }
                }
                return done;
            });
            int total = successes.stream().mapToInt(Integer::intValue).sum();
            assertThat(total).isEqualTo(threads * writesPerThread);
            assertThat(Long.parseLong(text(store.get(counter).orElseThrow()))).isEqualTo(total);
        }
    }

    @Test
    void putsToDistinctKeysGetUniqueIncreasingVersions() throws Exception {
        try (Store store = open()) {
            List<List<Long>> perThread = runOnThreads(4, thread -> {
                ResourceKey key = new ResourceKey("Counter", "test", "key-" + thread);
                List<Long> versions = new ArrayList<>();
                long expected = MUST_NOT_EXIST;
                for (int i = 1; i <= 15; i++) {
                    expected = store.put(key, bytes(Integer.toString(i)), expected).resourceVersion();
                    versions.add(expected);
                }
                return versions;
            });
            List<Long> all = perThread.stream().flatMap(List::stream).toList();
            assertThat(all).doesNotHaveDuplicates();
            for (List<Long> versions : perThread) {
                assertThat(versions).isSorted();
            }
            assertThat(store.revision()).isGreaterThanOrEqualTo(all.stream().mapToLong(Long::longValue).max().orElseThrow());
        }
    }

    @Test
    void aClosedStoreRefusesEveryCall() throws Exception {
        Store store = open();
        store.put(A, bytes("a1"), MUST_NOT_EXIST);
        store.close();
        store.close(); // twice is harmless
        assertThatThrownBy(() -> store.get(A)).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        assertThatThrownBy(() -> store.put(A, bytes("x"), ANY_VERSION)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> store.list("AuthorizationPolicy", null)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> store.delete(A, ANY_VERSION)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(store::revision).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(store::advance).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void badKindsAndNamespacesAreRefusedByName() throws Exception {
        try (Store store = open()) {
            assertThatThrownBy(() -> store.list("Bad/Kind", null))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Bad/Kind");
            assertThatThrownBy(() -> store.list("AuthorizationPolicy", "Not_A_Label"))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Not_A_Label");
        }
    }

    /** Runs {@code task} on {@code threads} threads released together; returns their results in thread order. */
    static <T> List<T> runOnThreads(int threads, ThreadTask<T> task) throws Exception {
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<T>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                Callable<T> c = () -> {
                    start.await();
                    return task.run(thread);
                };
                futures.add(pool.submit(c));
            }
            start.countDown();
            List<T> out = new ArrayList<>();
            for (Future<T> f : futures) {
                out.add(f.get());
            }
            return out;
        }
    }

    private static final Instant T0 = Instant.parse("2026-12-07T10:00:00.000001Z");

    private static byte[] auditRecord(int n) {
        return bytes("{\"n\":" + n + "}");
    }

    private static List<String> audit(Store store, Instant since) {
        return store.listAudit(since).stream().map(b -> new String(b, StandardCharsets.UTF_8)).toList();
    }

    @Test
    void theAuditTrailIsListedOldestFirstFromATimeOnAndSurvivesAReopen() throws Exception {
        AuditRetention keepAll = new AuditRetention(100, Duration.ofDays(1));
        Store store = open();
        try {
            assertThat(store.listAudit(null)).isEmpty();
            for (int n = 0; n < 4; n++) {
                store.appendAudit(T0.plusSeconds(n), auditRecord(n), keepAll);
            }
            assertThat(audit(store, null)).containsExactly("{\"n\":0}", "{\"n\":1}", "{\"n\":2}", "{\"n\":3}");
            assertThat(audit(store, T0.plusSeconds(2))).as("at or after").containsExactly("{\"n\":2}", "{\"n\":3}");
            assertThat(audit(store, T0.plusSeconds(4))).isEmpty();
            long revision = store.revision();
            assertThat(store.list("AuthorizationPolicy", null)).as("records are no resources").isEmpty();

            store = reopen(store);
            assertThat(audit(store, null)).hasSize(4).last().isEqualTo("{\"n\":3}");
            assertThat(store.revision()).as("no resource version moved for the file store; etcd's may")
                    .isGreaterThanOrEqualTo(revision);
            Store reopened = store;
            assertThatThrownBy(() -> reopened.appendAudit(T0, bytes("{\"a\":\n1}"), keepAll))
                    .isInstanceOf(IllegalArgumentException.class);
        } finally {
            store.close();
        }
    }

    @Test
    void theAuditTrailKeepsAtMostTheMaximumCountAfterEveryAppend() throws Exception {
        AuditRetention three = new AuditRetention(3, Duration.ofDays(1));
        Store store = open();
        try {
            for (int n = 0; n < 8; n++) {
                store.appendAudit(T0.plusMillis(n), auditRecord(n), three);
                assertThat(store.listAudit(null)).hasSizeLessThanOrEqualTo(3);
            }
            assertThat(audit(store, null)).containsExactly("{\"n\":5}", "{\"n\":6}", "{\"n\":7}");

            store = reopen(store);
            store.trimAudit(T0.plusMillis(8), three);
            assertThat(audit(store, null)).containsExactly("{\"n\":5}", "{\"n\":6}", "{\"n\":7}");
            store.appendAudit(T0.plusMillis(9), auditRecord(9), new AuditRetention(2, Duration.ofDays(1)));
            assertThat(audit(store, null)).as("a smaller bound applies at once").containsExactly("{\"n\":7}",
                    "{\"n\":9}");
        } finally {
            store.close();
        }
    }

    @Test
    void theAuditTrailDropsRecordsOlderThanTheMaximumAgeOnAppendAndOnTrim() throws Exception {
        AuditRetention hour = new AuditRetention(100, Duration.ofHours(1));
        Store store = open();
        try {
            store.appendAudit(T0, auditRecord(0), hour);
            store.appendAudit(T0.plus(Duration.ofMinutes(30)), auditRecord(1), hour);
            store.appendAudit(T0.plus(Duration.ofMinutes(61)), auditRecord(2), hour);
            assertThat(audit(store, null)).containsExactly("{\"n\":1}", "{\"n\":2}");

            store.trimAudit(T0.plus(Duration.ofMinutes(95)), hour);
            assertThat(audit(store, null)).as("nothing written, yet the record aged out").containsExactly("{\"n\":2}");
            store.trimAudit(T0.plus(Duration.ofHours(3)), hour);
            assertThat(store.listAudit(null)).isEmpty();
            store = reopen(store);
            store.trimAudit(T0.plus(Duration.ofHours(3)), hour);
            assertThat(store.listAudit(null)).isEmpty();
        } finally {
            store.close();
        }
    }

    interface ThreadTask<T> {
        T run(int thread) throws Exception;
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String text(StoredResource r) {
        return new String(r.document(), StandardCharsets.UTF_8);
    }
}
