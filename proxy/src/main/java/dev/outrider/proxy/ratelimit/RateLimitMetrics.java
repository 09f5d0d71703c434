package dev.outrider.proxy.ratelimit;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Meters of throttling. Labels are bounded by the rules configured, never by client keys.
 * <pre>
 * outrider_ratelimit_requests_total{policy, rule, result, mode}  result: admitted | rate_limited |
 *                                                                concurrency_limited; mode: enforced | dry_run
 * outrider_ratelimit_tracked_keys                                cells held by all key tables (gauge)
 * outrider_ratelimit_tracked_keys_max                            the configured bound (gauge)
 * outrider_ratelimit_overflow_total                              requests counted under a rule's shared
 *                                                                overflow budget because the bound was reached
 * outrider_ratelimit_fallback_total{policy, rule, mode}          requests a global rule decided without Redis
 *                                                                (its fallback: Redis unavailable or too slow)
 * </pre>
 * Per-rule series are registered when a snapshot is compiled and removed once a snapshot without the rule is
 * in force. Threading: counters are thread-safe; registration and removal are synchronized.
 */
final class RateLimitMetrics {
    private final MeterRegistry registry;
    private final Map<String, RuleCounters> byRule = new HashMap<>();

    RateLimitMetrics(MeterRegistry registry, TrackedKeys tracked) {
        this.registry = registry;
        Gauge.builder("outrider_ratelimit_tracked_keys", tracked, TrackedKeys::count)
                .description("Rate-limit cells held for client keys").register(registry);
        Gauge.builder("outrider_ratelimit_tracked_keys_max", tracked, TrackedKeys::max)
                .description("The bound on rate-limit cells (rateLimits.maxTracked)").register(registry);
        FunctionCounter.builder("outrider_ratelimit_overflow", tracked, TrackedKeys::overflowCount)
                .description("Requests counted under a shared overflow budget because the key bound was reached")
                .register(registry);
    }

    /** The counters of one rule in one mode; the same instance for the same rule across snapshots. */
    synchronized RuleCounters countersFor(String policy, String rule, boolean dryRun, boolean global) {
        String mode = dryRun ? "dry_run" : "enforced";
        RuleCounters c = byRule.computeIfAbsent(id(policy, rule, mode), k -> new RuleCounters(
                counter(policy, rule, "admitted", mode), counter(policy, rule, "rate_limited", mode),
                counter(policy, rule, "concurrency_limited", mode), new Counter[1]));
        if (global && c.fallbackHolder[0] == null) {
            c.fallbackHolder[0] = Counter.builder("outrider_ratelimit_fallback")
                    .tag("policy", policy).tag("rule", rule).tag("mode", mode)
                    .description("Requests a global rate-limit rule decided without Redis (its fallback)")
                    .register(registry);
        }
        return c;
    }

    private Counter counter(String policy, String rule, String result, String mode) {
        return Counter.builder("outrider_ratelimit_requests")
                .tag("policy", policy).tag("rule", rule).tag("result", result).tag("mode", mode)
                .description("Inbound requests by rate-limit rule and outcome").register(registry);
    }

    /** Removes the series of every rule not in {@code inForce}. */
    synchronized void retain(Collection<LimitRule> inForce) {
        Set<String> keep = new HashSet<>();
        for (LimitRule r : inForce) {
            keep.add(id(r.policy, r.name, r.dryRun ? "dry_run" : "enforced"));
        }
        byRule.entrySet().removeIf(e -> {
            if (keep.contains(e.getKey())) {
                return false;
            }
            RuleCounters c = e.getValue();
            registry.remove(c.admitted);
            registry.remove(c.rateLimited);
            registry.remove(c.concurrencyLimited);
            if (c.fallbackHolder[0] != null) {
                registry.remove(c.fallbackHolder[0]);
            }
            return true;
        });
    }

    private static String id(String policy, String rule, String mode) {
        return policy + " " + rule + " " + mode;
    }

    /**
     * One rule's counters: admitted, rate limited, concurrency limited, and for a global rule the requests its
     * fallback decided (registered when the rule is first compiled as global).
     */
    record RuleCounters(Counter admitted, Counter rateLimited, Counter concurrencyLimited, Counter[] fallbackHolder) {
        Counter fallback() {
            return fallbackHolder[0];
        }

        void count(int outcome) {
            switch (outcome) {
                case LimitRule.ADMITTED -> admitted.increment();
                case LimitRule.RATE_LIMITED -> rateLimited.increment();
                default -> concurrencyLimited.increment();
            }
        }
    }
}
