package dev.outrider.controlplane.ca;

import dev.outrider.controlplane.store.EtcdStore;
import dev.outrider.controlplane.store.EtcdStoreConfig;
import dev.outrider.controlplane.testing.EtcdCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Join tokens shared by control-plane replicas through one etcd store (a real member): each replica accepts
 * the others' tokens, and a single-use token is spent once among all of them, also when presented to two at once.
 */
@Timeout(60)
class JoinTokensReplicasTest {
    private static final WorkloadIdentity ORDERS = new WorkloadIdentity("cluster.local", "shop", "orders");
    private static final AtomicInteger PREFIXES = new AtomicInteger();

    @TempDir
    static Path dir;
    static EtcdCluster etcd;

    @BeforeAll
    static void startEtcd() throws Exception {
        etcd = EtcdCluster.start(dir, 1);
    }

    @AfterAll
    static void stopEtcd() {
        if (etcd != null) {
            etcd.close();
        }
    }

    private static EtcdStore store(String prefix) {
        return EtcdStore.open(new EtcdStoreConfig(etcd.endpoints(), null, prefix, Duration.ofSeconds(10)));
    }

    @Test
    void aTokenIssuedByOneReplicaIsAcceptedByAnotherAndSpentOnce() throws Exception {
        String prefix = "/tokens-" + PREFIXES.incrementAndGet() + "/";
        try (EtcdStore storeOne = store(prefix); EtcdStore storeTwo = store(prefix)) {
            JoinTokens one = new JoinTokens(Clock.systemUTC(), storeOne);
            JoinTokens two = new JoinTokens(Clock.systemUTC(), storeTwo); // started before the token exists
            String once = one.issue(ORDERS, Duration.ofHours(1), true).token().value();
            String reusable = one.issue(ORDERS, Duration.ofHours(1), false).token().value();

            assertThat(two.check(once)).isEqualTo(ORDERS);
            assertThat(two.spend(once)).isEqualTo(ORDERS);
            assertThatThrownBy(() -> one.spend(once)).isInstanceOf(CaException.class)
                    .hasMessage("join token refused: already used (single use)");
            assertThatThrownBy(() -> two.spend(once)).hasMessage("join token refused: already used (single use)");

            assertThat(two.spend(reusable)).isEqualTo(ORDERS);
            assertThat(one.spend(reusable)).isEqualTo(ORDERS);
            assertThatThrownBy(() -> two.check("not-a-token")).hasMessage("join token refused: unknown");
        }
    }

    @Test
    void presentedToThreeReplicasAtOnceASingleUseTokenIsSpentOnce() throws Exception {
        String prefix = "/race-" + PREFIXES.incrementAndGet() + "/";
        List<EtcdStore> stores = List.of(store(prefix), store(prefix), store(prefix));
        try (ExecutorService pool = Executors.newFixedThreadPool(stores.size())) {
            List<JoinTokens> replicas = stores.stream().map(s -> new JoinTokens(Clock.systemUTC(), s)).toList();
            for (int round = 0; round < 10; round++) {
                String token = replicas.get(round % 3).issue(ORDERS, Duration.ofHours(1), true).token().value();
                CountDownLatch go = new CountDownLatch(1);
                List<Future<Boolean>> attempts = new ArrayList<>();
                for (JoinTokens replica : replicas) {
                    attempts.add(pool.submit(() -> {
                        go.await();
                        try {
                            replica.spend(token);
                            return true;
                        } catch (CaException refused) {
                            assertThat(refused).hasMessage("join token refused: already used (single use)");
                            return false;
                        }
                    }));
                }
                go.countDown();
                int spent = 0;
                for (Future<Boolean> attempt : attempts) {
                    spent += attempt.get() ? 1 : 0;
                }
                assertThat(spent).as("round %d", round).isEqualTo(1);
            }
        } finally {
            stores.forEach(EtcdStore::close);
        }
    }
}
