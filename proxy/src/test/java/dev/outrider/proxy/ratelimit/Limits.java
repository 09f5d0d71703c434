package dev.outrider.proxy.ratelimit;

import dev.outrider.core.policy.ObjectMeta;
import dev.outrider.core.policy.RateLimitPolicy;
import dev.outrider.core.policy.RateLimitPolicy.Key;
import dev.outrider.core.policy.RateLimitPolicy.KeyOverride;
import dev.outrider.core.policy.RateLimitPolicy.Limit;
import dev.outrider.core.policy.RateLimitPolicy.Match;
import dev.outrider.core.policy.RateLimitPolicy.Rule;
import dev.outrider.core.policy.WorkloadSelector;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/** Builders for RateLimitPolicy records in tests. */
final class Limits {
    static final Key BY_PRINCIPAL = Key.of(Key.Kind.SOURCE_PRINCIPAL);

    private Limits() {
    }

    static RateLimitPolicy policy(String name, boolean dryRun, Rule... rules) {
        Map<String, String> annotations = dryRun ? Map.of(ObjectMeta.DRY_RUN, "true") : Map.of();
        return new RateLimitPolicy(new ObjectMeta(name, "shop", annotations), WorkloadSelector.ALL, false, false,
                List.of(rules));
    }

    static RateLimitPolicy legacy(String name, Rule... rules) {
        return new RateLimitPolicy(new ObjectMeta(name, "shop", Map.of()), WorkloadSelector.ALL, true, false, List.of(rules));
    }

    /** A policy whose rules are all {@code scope: global}, with {@code global} as its settings without Redis. */
    static RateLimitPolicy global(String name, RateLimitPolicy.Global global, Rule... rules) {
        List<Rule> globals = java.util.Arrays.stream(rules).map(r -> new Rule(r.name(), r.match(), r.key(), r.limit(),
                r.maxInFlight(), r.overrides(), RateLimitPolicy.Scope.GLOBAL)).toList();
        return new RateLimitPolicy(new ObjectMeta(name, "shop", Map.of()), WorkloadSelector.ALL, false, false, global,
                globals);
    }

    /** {@code requests} per {@code per}, burst {@code burst}. */
    static Limit limit(long requests, Duration per, long burst) {
        return new Limit(requests, per, burst);
    }

    static Rule rate(String name, Key key, Limit limit, KeyOverride... overrides) {
        return new Rule(name, Match.ANY, key, limit, 0, List.of(overrides));
    }

    static Rule inFlight(String name, Key key, int max, KeyOverride... overrides) {
        return new Rule(name, Match.ANY, key, null, max, List.of(overrides));
    }

    static Rule matching(String name, Match match, Key key, Limit limit) {
        return new Rule(name, match, key, limit, 0, List.of());
    }
}
