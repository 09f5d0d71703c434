package dev.outrider.proxy.ratelimit;

import dev.outrider.core.testing.RedisCluster;
import dev.outrider.core.testing.RedisServer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The shared budget script on a real Redis (Debian's redis-server, on loopback): burst, refill, leases of several
 * tokens, two sidecars' clients drawing on one bucket, a Redis that forgot its scripts, and an outage.
 */
class RedisBudgetsTest {
    private static final AtomicInteger BUCKETS = new AtomicInteger();
    private static final Duration TIMEOUT = Duration.ofSeconds(2);

    @TempDir
    static Path dir;
    static RedisServer redis;

    @BeforeAll
    static void start() throws Exception {
        redis = RedisServer.start(dir.resolve("redis"));
    }

    @AfterAll
    static void stop() {
        if (redis != null) {
            redis.close();
        }
    }

    private static String bucket() {
        return "outrider:test:" + BUCKETS.incrementAndGet();
    }

    private static RedisBudgets.Grant take(RedisBudgets b, String bucket, long interval, long burst, long wanted)
            throws Exception {
        return b.take(bucket, interval, burst * interval, wanted).get(5, TimeUnit.SECONDS);
    }

    @Test
    void aBurstIsGrantedThenTheWaitForTheNextToken() throws Exception {
        long interval = 60_000_000; // one token a minute: no refill during the test
        try (RedisBudgets b = RedisBudgets.connect(redis.uri(), TIMEOUT)) {
            String bucket = bucket();
            for (int left = 4; left >= 0; left--) {
                assertThat(take(b, bucket, interval, 5, 1)).isEqualTo(new RedisBudgets.Grant(1, left, 0));
            }
            RedisBudgets.Grant refused = take(b, bucket, interval, 5, 1);
            assertThat(refused.granted()).isZero();
            assertThat(refused.waitMicros()).as("about one interval").isBetween(interval - 5_000_000, interval);
        }
    }

    @Test
    void aLeaseTakesWhatIsLeftUpToWhatItAsksAndTheBucketRefills() throws Exception {
        long interval = 20_000; // 50 per second
        try (RedisBudgets b = RedisBudgets.connect(redis.uri(), TIMEOUT)) {
            String bucket = bucket();
            assertThat(take(b, bucket, interval, 12, 5).granted()).isEqualTo(5);
            assertThat(take(b, bucket, interval, 12, 5).granted()).isEqualTo(5);
            assertThat(take(b, bucket, interval, 12, 5).granted()).as("the last two").isBetween(2L, 3L);
            Thread.sleep(300); // 15 intervals: full again (12)
            assertThat(take(b, bucket, interval, 12, 20).granted()).as("never beyond the burst").isEqualTo(12);
        }
    }

    /** Two sidecars' clients on one bucket: together they get the burst, and no token twice. */
    @Test
    void twoClientsShareOneBucket() throws Exception {
        long interval = 60_000_000;
        try (RedisBudgets a = RedisBudgets.connect(redis.uri(), TIMEOUT);
             RedisBudgets b = RedisBudgets.connect(redis.uri(), TIMEOUT)) {
            String bucket = bucket();
            List<CompletableFuture<RedisBudgets.Grant>> takes = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                takes.add((i % 2 == 0 ? a : b).take(bucket, interval, 100 * interval, 1));
            }
            long granted = 0;
            for (CompletableFuture<RedisBudgets.Grant> t : takes) {
                granted += t.get(5, TimeUnit.SECONDS).granted();
            }
            assertThat(granted).isEqualTo(100);
        }
    }

    @Test
    void aRedisThatForgotTheScriptIsGivenItAgain() throws Exception {
        try (RedisBudgets b = RedisBudgets.connect(redis.uri(), TIMEOUT);
             RedisClient admin = RedisClient.create(redis.uri());
             StatefulRedisConnection<String, String> c = admin.connect()) {
            String bucket = bucket();
            assertThat(take(b, bucket, 60_000_000, 3, 1).granted()).isEqualTo(1);
            c.sync().scriptFlush();
            assertThat(take(b, bucket, 60_000_000, 3, 1)).isEqualTo(new RedisBudgets.Grant(1, 1, 0));
            assertThat(take(b, bucket, 60_000_000, 3, 1)).isEqualTo(new RedisBudgets.Grant(1, 0, 0));
        }
    }

    /** Redis down: a take fails at once, not after queueing; back up: takes succeed again, without a new client. */
    @Test
    void anOutageFailsTakesQuicklyAndTheConnectionComesBack() throws Exception {
        try (RedisServer own = RedisServer.start(dir.resolve("outage"));
             RedisBudgets b = RedisBudgets.connect(own.uri(), TIMEOUT)) {
            String bucket = bucket();
            assertThat(take(b, bucket, 1_000, 10, 1).granted()).isEqualTo(1);
            own.kill();
            await().atMost(Duration.ofSeconds(5)).until(() -> !b.connected());
            long start = System.nanoTime();
            assertThatThrownBy(() -> b.take(bucket, 1_000, 10_000, 1).get(5, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class);
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).as("rejected, not queued")
                    .isLessThan(TIMEOUT.toMillis());
            own.restart();
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).untilAsserted(() ->
                    assertThat(take(b, bucket, 1_000, 10, 1).granted()).isEqualTo(1));
        }
    }

    @Test
    void badArgumentsAreRefusedNamingThem() throws Exception {
        try (RedisBudgets b = RedisBudgets.connect(redis.uri(), TIMEOUT)) {
            assertThatThrownBy(() -> b.take("k", 0, 10, 1)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("interval 0");
            assertThatThrownBy(() -> b.take("k", 10, 5, 1)).hasMessageContaining("capacity >= interval");
            assertThatThrownBy(() -> RedisBudgets.connect(redis.uri(), Duration.ZERO))
                    .hasMessageContaining("timeout must be positive");
        }
    }

    /**
     * A Redis Cluster of three masters: each bucket is taken on the node of its key's slot (a plain client would
     * get MOVED for two thirds of them), with the same answers as one server.
     */
    @Test
    void aRedisClusterTakesEachBucketOnItsNode(@TempDir Path clusterDir) throws Exception {
        long interval = 60_000_000; // one token a minute: no refill during the test
        try (RedisCluster cluster = RedisCluster.start(clusterDir);
             RedisBudgets b = RedisBudgets.connect(cluster.uri(), null, TIMEOUT, true)) {
            for (int i = 0; i < 12; i++) {
                String bucket = bucket();
                assertThat(take(b, bucket, interval, 3, 2).granted()).as(bucket).isEqualTo(2);
                assertThat(take(b, bucket, interval, 3, 2).granted()).as(bucket).isEqualTo(1);
                RedisBudgets.Grant refused = take(b, bucket, interval, 3, 1);
                assertThat(refused.granted()).isZero();
                assertThat(refused.waitMicros()).isPositive();
            }
        }
    }

    /** Through a Redis Sentinel: the client asks it for the primary named in the URI and takes there. */
    @Test
    void aSentinelLeadsToThePrimary(@TempDir Path sentinelDir) throws Exception {
        long interval = 60_000_000;
        try (RedisServer sentinel = RedisServer.startSentinel(sentinelDir, redis.port(), "budgets");
             RedisBudgets b = RedisBudgets.connect(sentinel.sentinelUri("budgets"), TIMEOUT)) {
            String bucket = bucket();
            assertThat(take(b, bucket, interval, 2, 5).granted()).isEqualTo(2);
            try (RedisClient direct = RedisClient.create(redis.uri());
                 StatefulRedisConnection<String, String> c = direct.connect()) {
                assertThat(c.sync().exists(bucket)).as("the bucket is on the primary the Sentinel named").isEqualTo(1);
            }
        }
    }
}
