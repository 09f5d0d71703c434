package dev.outrider.bench.ratelimit;

import dev.outrider.core.testing.RedisServer;
import dev.outrider.proxy.ratelimit.RedisBudgets;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import redis.clients.jedis.RedisClient;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The shared-budget call ({@code gcra.lua} by EVALSHA, one token) through the two well-kept Java Redis clients, to a
 * redis-server on loopback which this benchmark starts: Lettuce (non-blocking on Netty, what {@link RedisBudgets}
 * uses; the caller waits on the future here, which Lettuce completes on its event loop) and Jedis (blocking, one
 * pooled connection per calling thread), called by the benchmark thread itself and, as a sidecar would have to
 * (never on an event loop), on a worker thread. Sample time: one call's latency.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
public class RedisClientsBenchmark {
    private static final long INTERVAL_MICROS = 1;
    private static final long CAPACITY_MICROS = 1_000_000_000L;
    private static final List<String> KEYS = List.of("bench:clients");
    private static final List<String> ARGS = List.of(Long.toString(INTERVAL_MICROS), Long.toString(CAPACITY_MICROS),
            "1");

    private Path dir;
    private RedisServer redis;
    private RedisBudgets lettuce;
    private RedisClient jedis;
    private String sha;
    private java.util.concurrent.ExecutorService worker;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        dir = Files.createTempDirectory("outrider-redis-clients-bench");
        redis = RedisServer.start(dir);
        lettuce = RedisBudgets.connect(redis.uri(), Duration.ofSeconds(1));
        jedis = RedisClient.create("127.0.0.1", redis.port());
        sha = jedis.scriptLoad(script());
        worker = java.util.concurrent.Executors.newSingleThreadExecutor();
        if (lettuceTake() != 1 || jedisTake() != 1) {
            throw new IllegalStateException("the bucket did not grant a token");
        }
    }

    private static String script() throws IOException {
        try (InputStream in = RedisBudgets.class.getResourceAsStream("gcra.lua")) {
            if (in == null) {
                throw new IllegalStateException("gcra.lua is not on the class path");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        worker.shutdownNow();
        jedis.close();
        lettuce.close();
        redis.close();
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Benchmark
    public long lettuceTake() {
        return lettuce.take(KEYS.getFirst(), INTERVAL_MICROS, CAPACITY_MICROS, 1).join().granted();
    }

    /** Jedis as a sidecar would have to use it: on a worker thread (never an event loop), the caller waiting. */
    @Benchmark
    public long jedisTakeOnAWorker() {
        return java.util.concurrent.CompletableFuture.supplyAsync(this::jedisTake, worker).join();
    }

    @Benchmark
    public long jedisTake() {
        @SuppressWarnings("unchecked")
        List<Long> answer = (List<Long>) jedis.evalsha(sha, KEYS, ARGS);
        return answer.getFirst();
    }
}
