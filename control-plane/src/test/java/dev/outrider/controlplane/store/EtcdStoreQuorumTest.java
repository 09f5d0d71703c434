package dev.outrider.controlplane.store;

import dev.outrider.controlplane.testing.EtcdCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link EtcdStore} when etcd members die: with one lost, writes go on once the other two have a leader; a lost
 * quorum is reported (an unconfirmed write as such); its return heals.
 */
@Timeout(120)
class EtcdStoreQuorumTest {
    private static final ResourceKey A = new ResourceKey("Service", "shop", "a");
    private static final ResourceKey B = new ResourceKey("Service", "shop", "b");

    @TempDir
    Path dir;

    @Test
    void oneMemberLostChangesNothingAndALostQuorumIsReportedThenHeals() throws Exception {
        try (EtcdCluster etcd = EtcdCluster.start(dir, 3);
             EtcdStore store = EtcdStore.open(new EtcdStoreConfig(etcd.endpoints(), null, "/quorum/",
                     Duration.ofSeconds(5)))) {
            List<ResourceKey> seen = new CopyOnWriteArrayList<>();
            Store.Watch watch = store.watch(new Store.Listener() {
                @Override
                public void changed(ResourceKey key, StoredResource nowOrNull) {
                    seen.add(key);
                }

                @Override
                public void resync() {
                    // only keys are checked below: a resync says nothing about which changed
                }
            });
            long v1 = store.put(A, bytes("a1"), Store.MUST_NOT_EXIST).resourceVersion();
            await().atMost(Duration.ofSeconds(10)).until(() -> seen.contains(A));

            etcd.kill(0); // whichever member the client used, the other two still form a quorum
            etcd.awaitHealthy(1); // a leader again (a write during the election may wait for it past the timeout)
            etcd.awaitHealthy(2);
            long v2 = store.put(A, bytes("a2"), v1).resourceVersion();
            assertThat(v2).isGreaterThan(v1);
            assertThat(store.get(A).orElseThrow().resourceVersion()).isEqualTo(v2);

            etcd.kill(1);
            assertThatThrownBy(() -> store.put(B, bytes("b1"), Store.ANY_VERSION))
                    .isInstanceOf(StoreTimeoutException.class)
                    .hasMessageContaining("did not confirm put Service/shop/b within 5000 ms")
                    .hasMessageContaining("etcd may still apply it");
            assertThatThrownBy(() -> store.get(A))
                    .isInstanceOf(UncheckedIOException.class)
                    .isNotInstanceOf(StoreTimeoutException.class)
                    .hasMessageContaining("did not answer get Service/shop/a within 5000 ms");

            etcd.restartNoWait(0);
            etcd.restartNoWait(1);
            for (int i = 0; i < 3; i++) {
                etcd.awaitHealthy(i);
            }
            long v3 = 0;
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (v3 == 0 && System.nanoTime() < deadline) {
                try {
                    v3 = store.put(A, bytes("a3"), v2).resourceVersion();
                } catch (StoreTimeoutException | ConflictException e) {
                    throw e;
                } catch (UncheckedIOException e) {
                    Thread.sleep(200); // the client is still reconnecting
                }
            }
            assertThat(v3).as("a write with the last acknowledged version succeeds: nothing acknowledged was lost")
                    .isGreaterThan(v2);
            assertThat(text(store.get(A).orElseThrow())).isEqualTo("a3");

            // The watch outlived the lost quorum: resumed by the client, or started again with a resync.
            seen.clear();
            store.put(B, bytes("b2"), Store.ANY_VERSION);
            await().atMost(Duration.ofSeconds(20)).until(() -> seen.contains(B));
            watch.close();
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String text(StoredResource r) {
        return new String(r.document(), StandardCharsets.UTF_8);
    }
}
