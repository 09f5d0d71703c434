package dev.outrider.proxy.metrics;

import dev.outrider.core.model.SpiffeId;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MeshMetricsTest {
    private static final SpiffeId ORDERS = SpiffeId.ofServiceAccount("cluster.local", "shop", "orders");
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    private MeshMetrics metrics(int maxSeries) {
        return new MeshMetrics(registry, new MeshMetrics.Local("orders", ORDERS), maxSeries);
    }

    private double requests(String... tags) {
        return registry.find("outrider.mesh.requests").tags(tags).counters().stream().mapToDouble(Counter::count).sum();
    }

    @Test
    void labelsComeFromThePeersIdentityAndThisWorkload() {
        MeshMetrics m = metrics(10);
        m.inbound("cluster.local/ns/web/sa/frontend").record(200, 1_000_000, 10, 20);
        m.inbound("cluster.local/ns/web/sa/frontend").record(503, 1_000_000, 0, 0);
        m.inbound(null).record(401, 1_000_000, 0, 0);
        m.outbound("payments.billing", Set.of(SpiffeId.ofServiceAccount("cluster.local", "billing", "payments")))
                .record(200, 1_000_000, 0, 0);
        m.outbound("search.shop", Set.of(SpiffeId.ofServiceAccount("cluster.local", "shop", "search-a"),
                SpiffeId.ofServiceAccount("cluster.local", "shop", "search-b"))).record(200, 1_000_000, 0, 0);
        m.outbound(null, null).record(0, 1_000_000, 0, 0);

        assertThat(requests("direction", "inbound", "source_workload", "frontend", "source_workload_namespace", "web",
                "source_principal", "cluster.local/ns/web/sa/frontend", "destination_service", "orders.shop",
                "destination_workload", "orders", "destination_workload_namespace", "shop", "response_code", "200"))
                .isEqualTo(1);
        assertThat(requests("source_workload", "frontend", "response_code", "503")).isEqualTo(1);
        assertThat(requests("direction", "inbound", "source_workload", "unknown", "source_principal", "unknown",
                "response_code", "401")).as("no certificate: unknown").isEqualTo(1);
        assertThat(requests("direction", "outbound", "source_workload", "orders", "source_principal",
                "cluster.local/ns/shop/sa/orders", "destination_service", "payments.billing", "destination_workload",
                "payments", "destination_workload_namespace", "billing")).isEqualTo(1);
        assertThat(requests("destination_service", "search.shop", "destination_workload", "unknown"))
                .as("several identities: the workload is not known").isEqualTo(1);
        assertThat(requests("direction", "outbound", "destination_service", "unknown", "response_code", "0"))
                .as("no route, no response").isEqualTo(1);
        assertThat(registry.find("outrider.mesh.request.bytes").tag("source_workload", "frontend").counter().count())
                .isEqualTo(10);
        assertThat(registry.find("outrider.mesh.request.duration").tag("source_workload", "frontend").timer().count())
                .isEqualTo(2);
        assertThat(m.seriesCount()).isEqualTo(3);
    }

    @Test
    void beyondTheCapNewPairsShareTheOverflowSeries() {
        MeshMetrics m = metrics(2);
        for (int i = 0; i < 5; i++) {
            m.inbound("cluster.local/ns/shop/sa/caller-" + i).record(200, 1, 0, 0);
        }
        m.inbound("cluster.local/ns/shop/sa/caller-0").record(200, 1, 0, 0);

        assertThat(m.seriesCount()).isEqualTo(2);
        assertThat(requests("source_workload", "caller-0")).as("made before the cap").isEqualTo(2);
        assertThat(requests("source_workload", "caller-1")).isEqualTo(1);
        assertThat(requests("source_workload", "overflow", "source_principal", "overflow")).isEqualTo(3);
        assertThat(registry.find("outrider.mesh.requests").counters()).hasSize(3);
    }

    @Test
    void aFloodOfNewPeersFromManyThreadsNeverPassesTheCap() throws Exception {
        MeshMetrics m = metrics(10);
        int threads = 8;
        CyclicBarrier start = new CyclicBarrier(threads);
        List<Future<?>> done = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            for (int t = 0; t < threads; t++) {
                int base = t * 1000;
                done.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < 500; i++) {
                        m.inbound("cluster.local/ns/flood/sa/peer-" + (base + i)).record(200, 1, 0, 0);
                    }
                    return null;
                }));
            }
        }
        for (Future<?> f : done) {
            f.get();
        }
        assertThat(m.seriesCount()).isEqualTo(10);
        assertThat(registry.find("outrider.mesh.requests").counters()).hasSize(11); // 10 pairs + overflow
        assertThat(requests("source_workload_namespace", "flood")).isEqualTo(10);
        assertThat(requests()).isEqualTo(threads * 500);
    }

    @Test
    void theCapMustBePositive() {
        assertThatThrownBy(() -> metrics(0)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxSeries");
    }
}
