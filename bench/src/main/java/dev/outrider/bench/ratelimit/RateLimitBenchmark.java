package dev.outrider.bench.ratelimit;

import dev.outrider.core.policy.ObjectMeta;
import dev.outrider.core.policy.RateLimitPolicy;
import dev.outrider.core.policy.RateLimitPolicy.Key;
import dev.outrider.core.policy.RateLimitPolicy.Limit;
import dev.outrider.core.policy.RateLimitPolicy.Match;
import dev.outrider.core.policy.RateLimitPolicy.Rule;
import dev.outrider.core.policy.WorkloadSelector;
import dev.outrider.proxy.authz.RequestAttributes;
import dev.outrider.proxy.ratelimit.Admission;
import dev.outrider.proxy.ratelimit.RateLimiter;
import dev.outrider.proxy.ratelimit.RateLimits;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.infra.ThreadParams;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@link RateLimits#admit} through the public API only: a {@link RateLimiter} on {@code System::nanoTime}
 * with a {@link SimpleMeterRegistry} (the per-rule counters are incremented on every call, as in the proxy),
 * one compiled {@link RateLimits} per scenario, and one {@link Admission} per thread (as per request channel).
 *
 * <ul>
 * <li>{@link #acquirePerCaller}: one rule keyed on {@code source.principal}, a limit no request reaches
 *     (10⁹ per second, burst 10⁹), one caller: the admitted path, one thread.
 * <li>{@link #acquirePerCallerTwoThreadsSameKey}: the same with two threads and the same caller, so both
 *     compare-and-set the same cell (contended).
 * <li>{@link #acquirePerCallerTwoThreadsOwnKey}: the same rule with two threads, each its own caller (own
 *     cell; the rule's counters are still shared).
 * <li>{@link #acquireRefused}: 1 request per 24 h, burst 1, emptied at set-up: every call is refused (429 path).
 * <li>{@link #acquireWithConcurrencyLimit}: a per-caller rate and {@code maxInFlight}: admit, then release.
 * <li>{@link #acquireWorkloadAndCallerRules}: a per-caller rule, a workload-wide rule and a rule matching
 *     only POST (the requests are GET), in one policy.
 * </ul>
 * Set-up checks every scenario's outcome once; tear-down checks that no admitted scenario was refused during
 * the run and that the refused one admitted nothing after set-up. Expected: 0 B/op.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class RateLimitBenchmark {
    static final String PRINCIPAL = "cluster.local/ns/shop/sa/frontend";
    private static final Limit UNREACHABLE = new Limit(1_000_000_000L, Duration.ofSeconds(1), 1_000_000_000L);
    private static final Key BY_CALLER = Key.of(Key.Kind.SOURCE_PRINCIPAL);

    /** The limiter and the compiled snapshots, shared by the threads of a run. */
    @State(Scope.Benchmark)
    public static class Limiter {
        SimpleMeterRegistry registry;
        RateLimiter limiter;
        RateLimits perCaller;
        RateLimits refusing;
        RateLimits concurrency;
        RateLimits workloadAndCaller;
        /** per-caller, its policy asking for the quota on admitted responses ({@code admittedHeaders}). */
        RateLimits quotaFields;
        /** Refusals of the scenarios that admit every request; the refusing scenario's admissions. */
        Counter[] shouldStayZero;
        Counter[] refusingAdmitted;

        @Setup
        public void setUp() {
            registry = new SimpleMeterRegistry();
            limiter = new RateLimiter(10_000, Duration.ZERO, System::nanoTime, registry);
            perCaller = limiter.compile(List.of(policy("per-caller",
                    new Rule("per-caller", null, BY_CALLER, UNREACHABLE, 0, null))));
            refusing = limiter.compile(List.of(policy("refusing",
                    new Rule("one-a-day", null, BY_CALLER, new Limit(1, Duration.ofHours(24), 1), 0, null))));
            concurrency = limiter.compile(List.of(policy("concurrency",
                    new Rule("per-caller", null, BY_CALLER, UNREACHABLE, 1_000_000, null))));
            workloadAndCaller = limiter.compile(List.of(policy("workload-and-caller",
                    new Rule("per-caller", null, BY_CALLER, UNREACHABLE, 0, null),
                    new Rule("workload", null, null, UNREACHABLE, 0, null),
                    new Rule("posts", new Match(List.of("POST"), null, null, null), BY_CALLER,
                            new Limit(1, Duration.ofHours(24), 1), 0, null))));

            quotaFields = limiter.compile(List.of(new RateLimitPolicy(new ObjectMeta("quota-fields", "bench", null),
                    WorkloadSelector.ALL, false, true, List.of(new Rule("per-caller", null, BY_CALLER, UNREACHABLE, 0,
                    null)))));

            Request caller = new Request(PRINCIPAL);
            Admission a = new Admission();
            check(perCaller.admit(caller, a), true, "per-caller");
            check(refusing.admit(caller, a), true, "refusing (the one request of the day)");
            check(refusing.admit(caller, a), false, "refusing");
            check(concurrency.admit(caller, a), true, "concurrency");
            a.release();
            check(workloadAndCaller.admit(caller, a), true, "workload-and-caller");
            check(quotaFields.admit(caller, a), true, "quota-fields");
            check(a.hasQuota(), true, "quota-fields: the quota kept for the response");

            shouldStayZero = counters(List.of("per-caller", "concurrency", "workload-and-caller", "quota-fields"),
                    "rate_limited", "concurrency_limited");
            refusingAdmitted = counters(List.of("refusing"), "admitted");
            if (shouldStayZero.length != 12 || refusingAdmitted.length != 1) { // 1 + 1 + 3 + 1 rules, two results each
                throw new IllegalStateException("counters not found: " + shouldStayZero.length + ", " + refusingAdmitted.length);
            }
        }

        @TearDown
        public void tearDown() {
            // sums counters found at set-up: tear-down runs inside the last measured iteration, so it allocates nothing
            if (sum(shouldStayZero) != 0) {
                throw new IllegalStateException(sum(shouldStayZero) + " requests refused in scenarios that admit every one");
            }
            if (sum(refusingAdmitted) != 1) {
                throw new IllegalStateException("refusing: admitted more than the set-up's one request");
            }
            limiter.close();
        }

        private static double sum(Counter[] counters) {
            double n = 0;
            for (Counter c : counters) {
                n += c.count();
            }
            return n;
        }

        private Counter[] counters(List<String> policies, String... results) {
            List<Counter> found = new ArrayList<>();
            for (String p : policies) {
                for (String result : results) {
                    found.addAll(registry.find("outrider_ratelimit_requests").tag("policy", "bench/" + p)
                            .tag("result", result).counters());
                }
            }
            return found.toArray(Counter[]::new);
        }
    }

    /** One request channel: its admission (never shared between threads) and its requests. */
    @State(Scope.Thread)
    public static class Channel {
        final Admission admission = new Admission();
        /** Every thread as the same caller. */
        final Request sameCaller = new Request(PRINCIPAL);
        /** Each thread a caller of its own. */
        Request ownCaller;

        @Setup
        public void setUp(Limiter l, ThreadParams thread) {
            ownCaller = new Request("cluster.local/ns/shop/sa/client-" + thread.getThreadIndex());
            // the caller's cell is made here, on this thread, not during measurement
            check(l.perCaller.admit(ownCaller, admission), true, "own caller");
        }
    }

    @Benchmark
    public boolean acquirePerCaller(Limiter l, Channel c) {
        return l.perCaller.admit(c.sameCaller, c.admission);
    }

    @Benchmark
    @Threads(2)
    public boolean acquirePerCallerTwoThreadsSameKey(Limiter l, Channel c) {
        return l.perCaller.admit(c.sameCaller, c.admission);
    }

    @Benchmark
    @Threads(2)
    public boolean acquirePerCallerTwoThreadsOwnKey(Limiter l, Channel c) {
        return l.perCaller.admit(c.ownCaller, c.admission);
    }

    @Benchmark
    public boolean acquireRefused(Limiter l, Channel c) {
        return l.refusing.admit(c.sameCaller, c.admission);
    }

    @Benchmark
    public boolean acquireWithConcurrencyLimit(Limiter l, Channel c) {
        boolean admitted = l.concurrency.admit(c.sameCaller, c.admission);
        c.admission.release();
        return admitted;
    }

    @Benchmark
    public boolean acquireWorkloadAndCallerRules(Limiter l, Channel c) {
        return l.workloadAndCaller.admit(c.sameCaller, c.admission);
    }

    /** The admission keeps the quota left for the response's fields (written on the response, not measured here). */
    @Benchmark
    public boolean acquirePerCallerKeepingQuotaFields(Limiter l, Channel c) {
        return l.quotaFields.admit(c.sameCaller, c.admission);
    }

    private static RateLimitPolicy policy(String name, Rule... rules) {
        return new RateLimitPolicy(new ObjectMeta(name, "bench", null), WorkloadSelector.ALL, false, false, List.of(rules));
    }

    private static void check(boolean admitted, boolean expected, String what) {
        if (admitted != expected) {
            throw new IllegalStateException(what + ": " + (admitted ? "admitted" : "refused") + ", expected "
                    + (expected ? "admitted" : "refused"));
        }
    }

    /** A request as the inbound handler presents it: every attribute already held, nothing computed. */
    static final class Request implements RequestAttributes {
        private final String principal;

        Request(String principal) {
            this.principal = principal;
        }

        @Override public String sourcePrincipal() { return principal; }
        @Override public String sourceNamespace() { return "shop"; }
        @Override public byte[] sourceIp() { return null; }
        @Override public String sourceAddress() { return "10.1.2.3"; }
        @Override public String requestPrincipal() { return null; }
        @Override public Object claim(String[] path) { return null; }
        @Override public List<String> audiences() { return List.of(); }
        @Override public String method() { return "GET"; }
        @Override public String host() { return "orders.shop.svc.cluster.local:8080"; }
        @Override public int port() { return 8080; }
        @Override public String path() { return "/api/orders/12345"; }
        @Override public String header(CharSequence lowerCaseName) { return null; }
    }
}
