package dev.outrider.proxy.ratelimit;

import java.util.HashMap;
import java.util.Map;

/**
 * The budgets of one rule, which outlive the snapshot that compiled it: a new snapshot whose rule is the
 * same (same policy, same rule content) gets the same {@code RuleState}, so a reload does not reset anyone's
 * budget. A changed rule gets a new one: its callers start with full buckets under the new limit.
 *
 * <p>Thread-safe: the cells and tables are; {@link #retired} is written under the limiter's lock.
 */
final class RuleState {
    /** Per key, for rules with a key; unused (empty) otherwise. */
    final KeyTable rates;
    final KeyTable inFlight;
    /** The one budget of a rule without a key. */
    final Cell workloadRate = new Cell();
    final Cell workloadInFlight = new Cell();
    /** Cells of the override values: fixed, never swept, outside the bound. */
    final Map<String, Cell> overrideRates;
    final Map<String, Cell> overrideInFlight;
    /** No snapshot in force uses this rule any more: swept until empty, then dropped. */
    volatile boolean retired;

    RuleState(TrackedKeys tracked, Iterable<String> overrideValues) {
        this.rates = new KeyTable(tracked);
        this.inFlight = new KeyTable(tracked);
        Map<String, Cell> r = new HashMap<>();
        Map<String, Cell> f = new HashMap<>();
        for (String v : overrideValues) {
            r.put(v, new Cell());
            f.put(v, new Cell());
        }
        this.overrideRates = Map.copyOf(r);
        this.overrideInFlight = Map.copyOf(f);
    }

    /** Retires idle cells of both tables; returns how many. */
    int sweep(long now) {
        return rates.sweep(tat -> Gcra.idle(tat, now)) + inFlight.sweep(InFlight::idle);
    }

    boolean isEmpty() {
        return rates.isEmpty() && inFlight.isEmpty();
    }
}
