package dev.outrider.bench.ratelimit;

import dev.outrider.core.testing.RedisServer;
import dev.outrider.proxy.ratelimit.RedisBudgets;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * What a global rule's budget costs when every request asks Redis (the design without leases): one
 * {@link RedisBudgets#take} round trip (EVALSHA of the shared-budget script through Lettuce) to a redis-server on
 * loopback, which this benchmark starts and stops. {@code wanted} 1 is one request per call; 10 is a lease of ten
 * tokens, which Redis grants in the same call. Sample time: the distribution of one call's latency, i.e. what a
 * request would wait before going on (JMH prints its percentiles). The bucket never runs dry (10⁹ per second).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
public class RedisTakeBenchmark {
    private static final long INTERVAL_MICROS = 1;
    private static final long CAPACITY_MICROS = 1_000_000_000L;

    @Param({"1", "10"})
    public long wanted;

    private Path dir;
    private RedisServer redis;
    private RedisBudgets budgets;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        dir = Files.createTempDirectory("outrider-redis-bench");
        redis = RedisServer.start(dir);
        budgets = RedisBudgets.connect(redis.uri(), Duration.ofSeconds(1));
        RedisBudgets.Grant first = budgets.take("bench:check", INTERVAL_MICROS, CAPACITY_MICROS, wanted).join();
        if (first.granted() != wanted) {
            throw new IllegalStateException("the bucket granted " + first.granted() + " of " + wanted);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        budgets.close();
        redis.close();
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Benchmark
    public long takeAndWait() {
        return budgets.take("bench:bucket", INTERVAL_MICROS, CAPACITY_MICROS, wanted).join().granted();
    }
}
