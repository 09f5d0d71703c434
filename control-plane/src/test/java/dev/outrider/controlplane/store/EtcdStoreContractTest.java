package dev.outrider.controlplane.store;

import dev.outrider.controlplane.testing.EtcdCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The store contract against {@link EtcdStore} on a real three-member etcd cluster on loopback; each test has
 * its own key prefix, so the tests share one cluster and still start from an empty store.
 */
class EtcdStoreContractTest extends StoreContract {
    private static final AtomicInteger PREFIXES = new AtomicInteger();

    @TempDir
    static Path dir;
    static EtcdCluster etcd;

    private String prefix;

    @BeforeAll
    static void startEtcd() throws Exception {
        etcd = EtcdCluster.start(dir.resolve("etcd"), 3);
    }

    @AfterAll
    static void stopEtcd() {
        if (etcd != null) {
            etcd.close();
        }
    }

    @Override
    Store open() {
        prefix = "/contract-" + PREFIXES.incrementAndGet() + "/";
        return EtcdStore.open(config());
    }

    @Override
    Store reopen(Store store) {
        store.close();
        return EtcdStore.open(config());
    }

    private EtcdStoreConfig config() {
        return new EtcdStoreConfig(EtcdStoreConfig.parseEndpoints(etcd.storeUri()), null, prefix,
                Duration.ofSeconds(10));
    }
}
