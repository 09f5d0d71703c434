package dev.outrider.proxy.ratelimit;

import dev.outrider.core.policy.RateLimitPolicy.Key;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

import static dev.outrider.proxy.ratelimit.Limits.BY_PRINCIPAL;
import static dev.outrider.proxy.ratelimit.Limits.inFlight;
import static dev.outrider.proxy.ratelimit.Limits.limit;
import static dev.outrider.proxy.ratelimit.Limits.policy;
import static dev.outrider.proxy.ratelimit.Limits.rate;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Many threads (standing in for event loops) against the same budgets: no token is lost or counted twice,
 * concurrency slots are never exceeded or leaked, and a flood of distinct keys stays within the bound.
 */
class RateLimiterConcurrencyTest {
    private static final int THREADS = 8;
    private static final int CLIENTS = 50;
    private static final long INTERVAL = 50_000_000L; // 20 per second

    private final AtomicLong clock = new AtomicLong(1_000_000_000_000L);
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final ExecutorService pool = Executors.newFixedThreadPool(THREADS);

    @AfterEach
    void close() throws InterruptedException {
        pool.shutdownNow();
        assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }

    private static String client(int i) {
        return "cluster.local/ns/shop/sa/client-" + i;
    }

    /** Runs {@code body(thread)} on every thread at once and waits for all. */
    private void onAllThreads(ThreadBody body) throws Exception {
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            int thread = t;
            done.add(pool.submit(() -> {
                start.await();
                body.run(thread);
                return null;
            }));
        }
        start.countDown();
        for (Future<?> f : done) {
            f.get(60, TimeUnit.SECONDS);
        }
    }

    @FunctionalInterface
    private interface ThreadBody {
        void run(int thread) throws Exception;
    }

    /** N clients × M requests from T threads at one instant, then after k intervals: exact counts. */
    @Test
    void admissionsAreExactUnderContention() throws Exception {
        try (RateLimiter limiter = new RateLimiter(10_000, Duration.ZERO, clock::get, registry)) {
            RateLimits limits = limiter.compile(List.of(policy("p", false,
                    rate("per-caller", BY_PRINCIPAL, limit(20, Duration.ofSeconds(1), 20)))));
            limits.inForce();
            for (int round = 0; round < 3; round++) {
                AtomicIntegerArray admitted = new AtomicIntegerArray(CLIENTS);
                onAllThreads(t -> {
                    Admission a = new Admission();
                    for (int m = 0; m < 40; m++) {
                        for (int c = 0; c < CLIENTS; c++) {
                            int client = (c + t * 7) % CLIENTS; // threads meet on the same keys in different orders
                            if (limits.admit(FakeRequest.from(client(client)), a)) {
                                admitted.incrementAndGet(client);
                            }
                        }
                    }
                });
                int expected = round == 0 ? 20 : 7; // a full burst, then 7 intervals of refill
                for (int c = 0; c < CLIENTS; c++) {
                    assertThat(admitted.get(c)).as("round %d, client %d", round, c).isEqualTo(expected);
                }
                clock.addAndGet(7 * INTERVAL);
            }
            double limited = registry.get("outrider_ratelimit_requests").tag("result", "rate_limited").counter().count();
            double ok = registry.get("outrider_ratelimit_requests").tag("result", "admitted").counter().count();
            assertThat(ok).isEqualTo(CLIENTS * (20 + 7 + 7));
            assertThat(ok + limited).isEqualTo(3.0 * THREADS * 40 * CLIENTS);
        }
    }

    /**
     * The clock moves while the threads work: admissions never exceed burst + elapsed/interval (no token
     * counted twice) and, with demand all along, fall short by at most the refill tolerance.
     */
    @Test
    void admissionsFollowAMovingClock() throws Exception {
        try (RateLimiter limiter = new RateLimiter(10_000, Duration.ZERO, clock::get, registry)) {
            RateLimits limits = limiter.compile(List.of(policy("p", false,
                    rate("per-caller", BY_PRINCIPAL, limit(20, Duration.ofSeconds(1), 20)),
                    rate("workload", null, limit(1000, Duration.ofSeconds(1), 200)))));
            int steps = 400;
            long start = clock.get();
            AtomicBoolean ticking = new AtomicBoolean(true);
            AtomicIntegerArray admitted = new AtomicIntegerArray(CLIENTS);
            // Demand all along, whatever the scheduler does: the clock moves only after every worker has asked
            // for every client since the last step (a slow or descheduled worker holds the clock, not the test).
            java.util.concurrent.atomic.AtomicLong sweeps = new java.util.concurrent.atomic.AtomicLong();
            Thread ticker = Thread.ofPlatform().start(() -> {
                for (int i = 0; i < steps; i++) {
                    long before = sweeps.get();
                    while (sweeps.get() < before + THREADS) {
                        Thread.onSpinWait();
                    }
                    clock.addAndGet(INTERVAL / 10);
                }
                ticking.set(false);
            });
            onAllThreads(t -> {
                Admission a = new Admission();
                int rounds = 0;
                while (ticking.get() || rounds++ < 20) {
                    for (int c = 0; c < CLIENTS; c++) {
                        if (limits.admit(FakeRequest.from(client(c)), a)) {
                            admitted.incrementAndGet(c);
                        }
                    }
                    sweeps.incrementAndGet();
                }
            });
            ticker.join();
            long elapsed = clock.get() - start;
            long perClientMax = 20 + elapsed / INTERVAL;
            long workloadMax = 200 + elapsed / 1_000_000L;
            long total = 0;
            for (int c = 0; c < CLIENTS; c++) {
                assertThat((long) admitted.get(c)).as("client %d", c).isLessThanOrEqualTo(perClientMax);
                total += admitted.get(c);
            }
            assertThat(total).isLessThanOrEqualTo(workloadMax);
            // the workload rule (1000/s over 2 s = 2,200 with its burst) binds before 50 × 60 per-client tokens
            assertThat(total).isGreaterThanOrEqualTo(workloadMax - 2 * 200);
        }
    }

    /** Slots are never exceeded and never leaked when many threads take and give them back. */
    @Test
    void concurrencySlotsAreExactUnderContention() throws Exception {
        try (RateLimiter limiter = new RateLimiter(10_000, Duration.ZERO, clock::get, registry)) {
            RateLimits limits = limiter.compile(List.of(policy("p", false, inFlight("slots", BY_PRINCIPAL, 3))));
            AtomicInteger holders = new AtomicInteger();
            AtomicInteger maxSeen = new AtomicInteger();
            AtomicInteger admittedCount = new AtomicInteger();
            onAllThreads(t -> {
                Admission a = new Admission();
                FakeRequest r = FakeRequest.from(client(0));
                for (int i = 0; i < 50_000; i++) {
                    if (limits.admit(r, a)) {
                        int h = holders.incrementAndGet();
                        maxSeen.accumulateAndGet(h, Math::max);
                        admittedCount.incrementAndGet();
                        holders.decrementAndGet();
                        a.release();
                    }
                }
            });
            assertThat(maxSeen.get()).isBetween(1, 3);
            assertThat(admittedCount.get()).isPositive();
            Admission[] held = {new Admission(), new Admission(), new Admission(), new Admission()};
            FakeRequest r = FakeRequest.from(client(0));
            assertThat(limits.admit(r, held[0]) && limits.admit(r, held[1]) && limits.admit(r, held[2]))
                    .as("no slot leaked").isTrue();
            assertThat(limits.admit(r, held[3])).as("none created").isFalse();
        }
    }

    /**
     * One million distinct keys (a forged header per request) against a bound of 10,000: the tables never
     * hold more, the flood beyond the bound shares one budget, and a caller tracked before keeps its own.
     */
    @Test
    void aFloodOfDistinctKeysStaysWithinTheBound() throws Exception {
        Key byHeader = new Key(Key.Kind.HEADER, "x-client", null);
        try (RateLimiter limiter = new RateLimiter(10_000, Duration.ZERO, clock::get, registry)) {
            RateLimits limits = limiter.compile(List.of(policy("p", false,
                    rate("per-client", byHeader, limit(5, Duration.ofMinutes(1), 5)))));
            FakeRequest vip = FakeRequest.from(client(0));
            vip.headers = Map.of("x-client", "vip");
            Admission a = new Admission();
            assertThat(limits.admit(vip, a)).isTrue();
            long heapBefore = usedHeapAfterGc();

            AtomicInteger floodAdmitted = new AtomicInteger();
            AtomicLong maxTracked = new AtomicLong();
            int perThread = 1_000_000 / THREADS;
            onAllThreads(t -> {
                Admission mine = new Admission();
                FakeRequest r = FakeRequest.from(client(1));
                for (int i = 0; i < perThread; i++) {
                    r.headers = Map.of("x-client", "forged-" + t + "-" + i);
                    if (limits.admit(r, mine)) {
                        floodAdmitted.incrementAndGet();
                    }
                    if ((i & 1023) == 0) {
                        maxTracked.accumulateAndGet(limiter.trackedKeys(), Math::max);
                    }
                }
            });
            long heapAfter = usedHeapAfterGc();

            assertThat(limiter.trackedKeys()).isEqualTo(10_000);
            assertThat(maxTracked.get()).isLessThanOrEqualTo(10_000);
            // 9,999 new keys got a cell and one request each; the other 990,001 share the overflow budget (5)
            assertThat(floodAdmitted.get()).isEqualTo(9_999 + 5);
            assertThat(registry.get("outrider_ratelimit_overflow").functionCounter().count()).isEqualTo(990_001);
            assertThat(heapAfter - heapBefore).as("retained heap for 10,000 tracked keys, not 1,000,000")
                    .isLessThan(32L << 20);
            int vipAdmitted = 0;
            for (int i = 0; i < 10; i++) {
                if (limits.admit(vip, a)) {
                    vipAdmitted++;
                }
            }
            assertThat(vipAdmitted).as("the caller tracked before the flood kept its own budget").isEqualTo(4);

            clock.addAndGet(Duration.ofMinutes(1).toNanos());
            assertThat(limiter.sweep()).isEqualTo(10_000);
            assertThat(limiter.trackedKeys()).as("refilled keys are forgotten; their slots are free").isZero();
            FakeRequest newcomer = FakeRequest.from(client(2));
            newcomer.headers = Map.of("x-client", "newcomer");
            int n = 0;
            for (int i = 0; i < 10; i++) {
                n += limits.admit(newcomer, a) ? 1 : 0;
            }
            assertThat(n).as("after the sweep a new key gets its own budget again").isEqualTo(5);
        }
    }

    private static long usedHeapAfterGc() {
        var memory = ManagementFactory.getMemoryMXBean();
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return memory.getHeapMemoryUsage().getUsed();
    }
}
