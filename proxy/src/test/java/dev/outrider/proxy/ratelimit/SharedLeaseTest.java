package dev.outrider.proxy.ratelimit;

import dev.outrider.core.policy.RateLimitPolicy;
import dev.outrider.core.testing.RedisServer;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.outrider.proxy.ratelimit.Limits.BY_PRINCIPAL;
import static dev.outrider.proxy.ratelimit.Limits.limit;
import static dev.outrider.proxy.ratelimit.Limits.rate;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Global rules' leases ({@link Lease}) on a real Redis (Debian's redis-server, on loopback), through
 * {@link RateLimits#decide} and {@link RateLimits#resolve} as the request handler calls them: a lease serves many
 * requests per call, a refusal by Redis is kept until its time without further calls, two sidecars share one
 * budget, and what a lease learned before an outage is not used after it.
 */
class SharedLeaseTest {
    private static final String FRONTEND = "cluster.local/ns/shop/sa/frontend";
    private static final AtomicInteger POLICIES = new AtomicInteger();

    @TempDir
    static Path dir;
    static RedisServer redis;

    private final List<Sidecar> sidecars = new ArrayList<>();

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

    @AfterEach
    void close() {
        sidecars.forEach(Sidecar::close);
    }

    /** One sidecar's limiter and its Redis, on the real clock (Redis's budgets are on Redis's). */
    private final class Sidecar {
        final SimpleMeterRegistry registry = new SimpleMeterRegistry();
        final SharedBudgets shared = SharedBudgets.start(redis.uri(), null, Duration.ofSeconds(1), registry);
        final RateLimiter limiter = new RateLimiter(10_000, Duration.ZERO, System::nanoTime, registry, shared);
        final Admission admission = new Admission();
        RateLimits limits;
        int pending;

        Sidecar(RateLimitPolicy policy) {
            sidecars.add(this);
            limits = limiter.compile(List.of(policy));
            limits.inForce();
            await().atMost(Duration.ofSeconds(10)).until(shared::available);
        }

        /** The quota fields the last admitted request's response got ({@code admittedHeaders}). */
        String quota;

        /** One request, waiting for a refill where its lease is empty: whether it was admitted. */
        boolean admit() throws Exception {
            int d = limits.decide(FakeRequest.from(FRONTEND), admission);
            if (d == RateLimits.PENDING) {
                pending++;
                CompletableFuture<Integer> resolved = new CompletableFuture<>();
                limits.resolve(admission, Runnable::run, resolved::complete);
                d = resolved.get(5, TimeUnit.SECONDS);
            }
            if (d == RateLimits.ADMITTED) {
                io.netty.handler.codec.http.HttpHeaders headers = new io.netty.handler.codec.http.DefaultHttpHeaders();
                RateLimits.addQuotaHeaders(admission, headers);
                quota = headers.get("ratelimit");
            }
            admission.release();
            return d == RateLimits.ADMITTED;
        }

        int admitted(int attempts) throws Exception {
            int n = 0;
            for (int i = 0; i < attempts; i++) {
                n += admit() ? 1 : 0;
            }
            return n;
        }

        long redisCalls() {
            Timer t = registry.find("outrider_ratelimit_redis").timer();
            return t == null ? 0 : t.count();
        }

        void close() {
            limiter.close();
            shared.close();
        }
    }

    /** A policy of its own per test: its own bucket in Redis. */
    private static RateLimitPolicy global(RateLimitPolicy.Limit limit) {
        return Limits.global("leases-" + POLICIES.incrementAndGet(), RateLimitPolicy.Global.DEFAULT,
                rate("per-caller", BY_PRINCIPAL, limit));
    }

    @Test
    void aLeaseServesManyRequestsPerCallToRedis() throws Exception {
        // 1,000/s: a lease is at most 20 ms of it (20 tokens); requests come faster than Redis answers
        Sidecar s = new Sidecar(global(limit(1000, Duration.ofSeconds(1), 1000)));
        assertThat(s.admitted(400)).as("within the burst").isEqualTo(400);
        assertThat(s.redisCalls()).as("calls for 400 requests").isBetween(20L, 60L);
        assertThat(s.pending).as("requests that waited for a refill").isLessThan(60);
    }

    @Test
    void aRefusalByRedisIsKeptUntilItsTimeWithoutFurtherCalls() throws Exception {
        Sidecar s = new Sidecar(global(limit(5, Duration.ofHours(1), 5)));
        assertThat(s.admitted(5)).isEqualTo(5);
        assertThat(s.admit()).as("the sixth: Redis refuses").isFalse();
        long calls = s.redisCalls();
        assertThat(s.admitted(100)).isZero();
        assertThat(s.redisCalls()).as("refused here, until the next token (12 minutes)").isEqualTo(calls);
        assertThat(s.pending).as("only the first requests waited for Redis").isLessThanOrEqualTo(6);
    }

    @Test
    void admittedResponsesCountTheSharedQuotaDown() throws Exception {
        String name = "leases-" + POLICIES.incrementAndGet();
        RateLimitPolicy policy = new RateLimitPolicy(new dev.outrider.core.policy.ObjectMeta(name, "shop",
                java.util.Map.of()), dev.outrider.core.policy.WorkloadSelector.ALL, false, true,
                RateLimitPolicy.Global.DEFAULT, List.of(new RateLimitPolicy.Rule("per-caller", RateLimitPolicy.Match.ANY,
                BY_PRINCIPAL, limit(5, Duration.ofHours(1), 5), 0, List.of(), RateLimitPolicy.Scope.GLOBAL)));
        Sidecar s = new Sidecar(policy);
        List<String> fields = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            assertThat(s.admit()).isTrue();
            fields.add(s.quota.replaceFirst(";t=\\d+$", ""));
        }
        String field = "\"" + name + "/per-caller\";r=";
        assertThat(fields).containsExactly(field + 4, field + 3, field + 2, field + 1, field + 0);
    }

    /** A dry-run global rule takes from the shared budget and counts its refusals, but refuses nothing. */
    @Test
    void aDryRunGlobalRuleCountsButNeverRefuses() throws Exception {
        String name = "leases-" + POLICIES.incrementAndGet();
        RateLimitPolicy policy = new RateLimitPolicy(new dev.outrider.core.policy.ObjectMeta(name, "shop",
                java.util.Map.of(dev.outrider.core.policy.ObjectMeta.DRY_RUN, "true")),
                dev.outrider.core.policy.WorkloadSelector.ALL, false, false, RateLimitPolicy.Global.DEFAULT,
                List.of(new RateLimitPolicy.Rule("per-caller", RateLimitPolicy.Match.ANY, BY_PRINCIPAL,
                        limit(3, Duration.ofHours(1), 3), 0, List.of(), RateLimitPolicy.Scope.GLOBAL)));
        Sidecar s = new Sidecar(policy);
        assertThat(s.admitted(6)).isEqualTo(6);
        var refused = s.registry.find("outrider_ratelimit_requests").tags("policy", "shop/" + name, "rule",
                "per-caller", "result", "rate_limited", "mode", "dry_run").counter();
        assertThat(refused).isNotNull();
        assertThat(refused.count()).as("Redis refused the last three").isEqualTo(3);
    }

    @Test
    void twoSidecarsShareOneBudget() throws Exception {
        RateLimitPolicy policy = global(limit(40, Duration.ofHours(1), 40));
        Sidecar a = new Sidecar(policy);
        Sidecar b = new Sidecar(policy);
        int admitted = 0;
        for (int i = 0; i < 60; i++) {
            admitted += (i % 2 == 0 ? a : b).admit() ? 1 : 0;
        }
        assertThat(admitted).as("40 an hour: one token per lease at this rate, so exactly the budget").isEqualTo(40);
    }

    /**
     * Two sidecars taking as fast as they can from one budget (100/s, burst 200: leases of up to 2 tokens, 20 ms of
     * the rate): the admitted total is the budget within the documented bound, 1.5 leases per sidecar (each on its
     * own would admit the whole budget), and a refusal by Redis is kept (fewer calls than requests).
     */
    @Test
    void twoSidecarsWithLeasesOfManyTokensStayWithinTheBound() throws Exception {
        RateLimitPolicy policy = global(limit(100, Duration.ofSeconds(1), 200));
        Sidecar a = new Sidecar(policy);
        Sidecar b = new Sidecar(policy);
        long start = System.nanoTime();
        int admitted = 0;
        for (int i = 0; i < 300; i++) {
            admitted += a.admit() ? 1 : 0;
            admitted += b.admit() ? 1 : 0;
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        int slack = 2 * 3; // 1.5 leases of at most 2 tokens on each of 2 sidecars
        assertThat(admitted).as("of 600 in %.3f s: 200, plus 100/s, within %d", seconds, slack)
                .isBetween(200 - slack, (int) (200 + 100 * seconds) + slack);
        assertThat(a.redisCalls() + b.redisCalls()).as("calls for 600 requests").isLessThan(300);
    }

    @Test
    void afterAnOutageWhatALeaseLearnedIsNotUsed() throws Exception {
        // fallback refuse: whatever is admitted was admitted by Redis
        Sidecar s = new Sidecar(Limits.global("leases-" + POLICIES.incrementAndGet(),
                new RateLimitPolicy.Global(RateLimitPolicy.Fallback.REFUSE, 1),
                rate("per-caller", BY_PRINCIPAL, limit(3, Duration.ofHours(1), 3))));
        assertThat(s.admitted(4)).isEqualTo(3); // the fourth was refused by Redis: kept for 20 minutes
        redis.kill();
        redis.restart(); // empty: a fresh budget
        int[] admitted = {0};
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() -> {
            admitted[0] += s.admit() ? 1 : 0; // refused while Redis is unavailable, with a refill as a probe
            return s.shared.available();
        });
        assertThat(admitted[0] + s.admitted(5)).as("Redis's fresh budget, not the refusal learned before the outage")
                .isEqualTo(3);
    }
}
