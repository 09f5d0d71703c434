package dev.outrider.proxy.upstream;

import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class LoadBalancerTest {
    private static List<Endpoint> endpoints(int n) {
        List<Endpoint> list = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            list.add(new Endpoint(new InetSocketAddress("127.0.0.1", 10000 + i)));
        }
        return list;
    }

    @Test
    void skipsTriedEndpointsAndReportsExhaustion() {
        List<Endpoint> eps = endpoints(3);
        long tried = LoadBalancer.markTried(LoadBalancer.markTried(0L, 0), 2);
        for (int i = 0; i < 100; i++) {
            assertThat(LoadBalancer.pick(eps, tried)).isEqualTo(1);
        }
        assertThat(LoadBalancer.pick(eps, LoadBalancer.markTried(tried, 1))).isEqualTo(-1);
    }

    @Test
    void neverPicksTheBusierOfTwoWhenOnlyTwo() {
        List<Endpoint> eps = endpoints(2);
        for (int i = 0; i < 5; i++) {
            eps.get(0).requestStarted();
        }
        for (int i = 0; i < 200; i++) {
            assertThat(LoadBalancer.pick(eps, 0L)).isEqualTo(1);
        }
    }

    @Test
    void theBusiestEndpointIsNeverChosenAndLoadSpreads() {
        List<Endpoint> eps = endpoints(4);
        for (int i = 0; i < 10; i++) {
            eps.get(3).requestStarted();
        }
        int[] counts = new int[4];
        for (int i = 0; i < 4000; i++) {
            counts[LoadBalancer.pick(eps, 0L)]++;
        }
        assertThat(counts[3]).isZero(); // it loses every comparison it takes part in
        assertThat(counts[0]).isGreaterThan(500);
        assertThat(counts[1]).isGreaterThan(500);
        assertThat(counts[2]).isGreaterThan(500);
    }

    @Test
    void singleEndpoint() {
        assertThat(LoadBalancer.pick(endpoints(1), 0L)).isZero();
        assertThat(LoadBalancer.pick(endpoints(1), 1L)).isEqualTo(-1);
    }
}
