package dev.outrider.proxy.policy;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import static java.util.Objects.requireNonNull;

/**
 * Meters of authentication, authorization and policy reloads. Fixed series are registered at start; the
 * per-policy series when a snapshot is compiled ({@link #decisionMeters}) and removed once a snapshot
 * without that policy is in force ({@link #retain}). Labels are bounded by the policies configured, never
 * by clients, tokens or paths.
 * <pre>
 * outrider_authn_requests_total{result}                   valid | invalid | keys_unavailable | none (no token)
 * outrider_authz_decisions_total{decision, policy, mode}  allow | deny; namespace/name or "none" (a default
 *                                                         or no allow policy matched); enforced | dry_run
 * outrider_policy_reloads_total{result}                   applied | refused
 * outrider_policy_rules                                   rules compiled for this workload (gauge)
 * </pre>
 * Threading: counters are thread-safe; {@link #decisionMeters} and {@link #retain} run on the one thread
 * that compiles snapshots and are synchronized against each other only.
 */
public final class PolicyMetrics {
    static final String NONE = "none";

    private final MeterRegistry registry;
    private final Counter authnValid;
    private final Counter authnInvalid;
    private final Counter authnKeysUnavailable;
    private final Counter authnNone;
    private final Counter reloadsApplied;
    private final Counter reloadsRefused;
    private final AtomicLong rules = new AtomicLong();
    /** Per policy id: allow, deny, dry-run allow, dry-run deny. */
    private final Map<String, Counter[]> byPolicy = new HashMap<>();

    public PolicyMetrics(MeterRegistry registry) {
        this.registry = requireNonNull(registry, "registry");
        authnValid = authn("valid");
        authnInvalid = authn("invalid");
        authnKeysUnavailable = authn("keys_unavailable");
        authnNone = authn("none");
        reloadsApplied = reloads("applied");
        reloadsRefused = reloads("refused");
        Gauge.builder("outrider_policy_rules", rules, AtomicLong::get)
                .description("Authorization rules compiled for this workload").register(registry);
        countersFor(NONE);
    }

    private Counter authn(String result) {
        return Counter.builder("outrider_authn_requests").tag("result", result)
                .description("Inbound requests by JWT authentication outcome").register(registry);
    }

    private Counter reloads(String result) {
        return Counter.builder("outrider_policy_reloads").tag("result", result)
                .description("Policy snapshots applied or refused").register(registry);
    }

    private synchronized Counter[] countersFor(String policy) {
        return byPolicy.computeIfAbsent(policy, p -> new Counter[]{
                decision("allow", p, "enforced"), decision("deny", p, "enforced"),
                decision("allow", p, "dry_run"), decision("deny", p, "dry_run")});
    }

    private Counter decision(String decision, String policy, String mode) {
        return Counter.builder("outrider_authz_decisions")
                .tag("decision", decision).tag("policy", policy).tag("mode", mode)
                .description("Inbound authorization decisions by deciding policy").register(registry);
    }

    /** Registers (or finds) the counters of these policies, for a snapshot about to be applied. */
    DecisionMeters decisionMeters(Collection<String> policyIds) {
        Map<String, Counter[]> m = new HashMap<>();
        for (String id : policyIds) {
            m.put(id, countersFor(id));
        }
        return new DecisionMeters(Map.copyOf(m), countersFor(NONE));
    }

    /**
     * After {@code applied} is in force: drops the series of policies it no longer has, and retires the
     * rate-limit rules it no longer uses.
     */
    public synchronized void retain(PolicySnapshot applied) {
        Set<String> keep = new HashSet<>(applied.policies());
        keep.add(NONE);
        byPolicy.entrySet().removeIf(e -> {
            if (keep.contains(e.getKey())) {
                return false;
            }
            for (Counter c : e.getValue()) {
                registry.remove(c);
            }
            return true;
        });
        rules.set(applied.authorization().ruleCount());
        applied.rateLimits().inForce();
    }

    public void reloadApplied() {
        reloadsApplied.increment();
    }

    public void reloadRefused() {
        reloadsRefused.increment();
    }

    public void authnValid() {
        authnValid.increment();
    }

    public void authnInvalid() {
        authnInvalid.increment();
    }

    public void authnKeysUnavailable() {
        authnKeysUnavailable.increment();
    }

    public void authnNone() {
        authnNone.increment();
    }
}
