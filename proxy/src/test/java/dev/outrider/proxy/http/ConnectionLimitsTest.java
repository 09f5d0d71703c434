package dev.outrider.proxy.http;

import dev.outrider.core.model.SpiffeId;
import dev.outrider.proxy.metrics.Direction;
import dev.outrider.proxy.metrics.ProxyMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The connection counters: never above a limit under concurrent acquires from many threads (the listener's
 * connections live on several event loops), and back to zero, with no identity left in the map, once every
 * connection is released. {@link DownstreamConnections} releases what it admitted when the channel closes.
 */
class ConnectionLimitsTest {
    private static final SpiffeId A = SpiffeId.parse("spiffe://cluster.local/ns/shop/sa/a");
    private static final SpiffeId B = SpiffeId.parse("spiffe://cluster.local/ns/shop/sa/b");

    @Test
    void listenerLimitRefusesBeyondItAndCountsNothingForARefusal() {
        ConnectionLimits<SpiffeId> limits = new ConnectionLimits<>(2, 10);
        assertThat(limits.tryAcquire()).isTrue();
        assertThat(limits.tryAcquire()).isTrue();
        assertThat(limits.tryAcquire()).isFalse();
        assertThat(limits.open()).isEqualTo(2);
        limits.release();
        assertThat(limits.tryAcquire()).isTrue();
    }

    @Test
    void perPeerLimitIsPerIdentityAndForgetsAnIdentityAtZero() {
        ConnectionLimits<SpiffeId> limits = new ConnectionLimits<>(100, 2);
        assertThat(limits.tryAcquire(A)).isTrue();
        assertThat(limits.tryAcquire(A)).isTrue();
        assertThat(limits.tryAcquire(A)).isFalse();
        assertThat(limits.tryAcquire(B)).isTrue();
        assertThat(limits.open(A)).isEqualTo(2);
        limits.release(A);
        limits.release(A);
        limits.release(B);
        assertThat(limits.trackedPeers()).isZero();
        assertThat(limits.tryAcquire(A)).isTrue();
    }

    @Test
    void concurrentAcquiresNeverExceedTheLimitsAndAllReleasesReturnToZero() throws Exception {
        int threads = 8;
        int rounds = 20_000;
        ConnectionLimits<SpiffeId> limits = new ConnectionLimits<>(50, 7);
        SpiffeId[] peers = {A, B};
        AtomicInteger maxSeenTotal = new AtomicInteger();
        AtomicInteger maxSeenPeer = new AtomicInteger();
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int seed = t;
                done.add(pool.submit(() -> {
                    go.await();
                    List<SpiffeId> held = new ArrayList<>();
                    int heldTotal = 0;
                    for (int i = 0; i < rounds; i++) {
                        SpiffeId peer = peers[(seed + i) % 2];
                        if ((i + seed) % 3 != 2) {
                            if (limits.tryAcquire()) {
                                heldTotal++;
                                maxSeenTotal.accumulateAndGet(limits.open(), Math::max);
                                if (limits.tryAcquire(peer)) {
                                    held.add(peer);
                                    maxSeenPeer.accumulateAndGet(limits.open(peer), Math::max);
                                }
                            }
                        } else {
                            if (!held.isEmpty()) {
                                limits.release(held.removeLast());
                            }
                            if (heldTotal > 0) {
                                limits.release();
                                heldTotal--;
                            }
                        }
                    }
                    for (SpiffeId p : held) {
                        limits.release(p);
                    }
                    for (int i = 0; i < heldTotal; i++) {
                        limits.release();
                    }
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(maxSeenTotal.get()).isBetween(1, 50);
        assertThat(maxSeenPeer.get()).isBetween(1, 7);
        assertThat(limits.open()).isZero();
        assertThat(limits.trackedPeers()).isZero();
    }

    @Test
    void downstreamConnectionsReleaseWhatTheyAdmittedWhenTheChannelCloses() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        DownstreamConnections connections = new DownstreamConnections(Direction.INBOUND, new ProxyMetrics(registry),
                2, 1);
        EmbeddedChannel first = new EmbeddedChannel();
        EmbeddedChannel second = new EmbeddedChannel();
        EmbeddedChannel third = new EmbeddedChannel();
        try {
            assertThat(connections.admit(first)).isTrue();
            assertThat(connections.admit(second)).isTrue();
            assertThat(connections.admit(third)).isFalse();
            assertThat(third.isOpen()).as("refused: closed").isFalse();
            assertThat(connections.admitPeer(first, A)).isTrue();
            assertThat(connections.admitPeer(second, A)).isFalse();
            assertThat(second.isOpen()).isFalse();
            assertThat(connections.admitted()).as("the closed second connection is released").isEqualTo(1);

            first.close();
            assertThat(connections.admitted()).isZero();
            assertThat(connections.admitted(A)).isZero();
            assertThat(connections.trackedPeers()).isZero();
            assertThat(refused(registry, "listener_limit")).isEqualTo(1);
            assertThat(refused(registry, "peer_limit")).isEqualTo(1);
        } finally {
            first.finishAndReleaseAll();
            second.finishAndReleaseAll();
            third.finishAndReleaseAll();
        }
    }

    private static double refused(SimpleMeterRegistry registry, String reason) {
        return registry.get("outrider.connections.refused").tag("direction", "inbound").tag("reason", reason)
                .counter().count();
    }
}
