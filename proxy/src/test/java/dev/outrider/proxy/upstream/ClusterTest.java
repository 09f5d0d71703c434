package dev.outrider.proxy.upstream;

import dev.outrider.proxy.config.Protocol;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ClusterTest {
    private final Cluster cluster = new Cluster("orders.shop", Protocol.AUTO,
            List.of(new Endpoint(new InetSocketAddress("127.0.0.1", 1))));

    @Test
    void retryBudgetAllowsTheMinimumConcurrency() {
        assertThat(cluster.tryStartRetry(20, 3)).isTrue();
        assertThat(cluster.tryStartRetry(20, 3)).isTrue();
        assertThat(cluster.tryStartRetry(20, 3)).isTrue();
        assertThat(cluster.tryStartRetry(20, 3)).isFalse();
        cluster.retryFinished();
        assertThat(cluster.tryStartRetry(20, 3)).isTrue();
    }

    @Test
    void retryBudgetGrowsWithRequestsInFlight() {
        for (int i = 0; i < 100; i++) {
            cluster.requestStarted();
        }
        int allowed = 0;
        while (cluster.tryStartRetry(20, 3)) {
            allowed++;
        }
        assertThat(allowed).isEqualTo(20);
    }

    @Test
    void zeroBudgetAndZeroMinimumAllowsNoRetry() {
        cluster.requestStarted();
        assertThat(cluster.tryStartRetry(0, 0)).isFalse();
    }

    @Test
    void aClusterNeedsEndpoints() {
        assertThatThrownBy(() -> new Cluster("x", Protocol.HTTP1, List.of()))
                .hasMessageContaining("cluster x has no endpoints");
    }
}
