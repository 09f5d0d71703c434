package dev.outrider.proxy.policy;

import dev.outrider.proxy.authz.Decision;
import io.micrometer.core.instrument.Counter;

import java.util.Map;

/**
 * The decision counters of one snapshot's policies, looked up by the deciding policy's id (a map read, no
 * allocation). Immutable; any event loop may count.
 */
public final class DecisionMeters {
    private final Map<String, Counter[]> byPolicy;
    private final Counter[] none;

    DecisionMeters(Map<String, Counter[]> byPolicy, Counter[] none) {
        this.byPolicy = byPolicy;
        this.none = none;
    }

    /** Counts the enforced decision, and the dry-run one when dry-run policies apply. */
    public void count(Decision d) {
        counters(d.policy())[d.allowed() ? 0 : 1].increment();
        Decision shadow = d.shadow();
        if (shadow != null) {
            counters(shadow.policy())[shadow.allowed() ? 2 : 3].increment();
        }
    }

    private Counter[] counters(String policy) {
        if (policy == null) {
            return none;
        }
        Counter[] c = byPolicy.get(policy);
        return c != null ? c : none;
    }
}
