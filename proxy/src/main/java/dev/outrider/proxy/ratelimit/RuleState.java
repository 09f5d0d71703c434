package dev.outrider.proxy.ratelimit;

import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

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
    /** A global rule's leases ({@link Lease}) per key; under the same bound as the cells. */
    private final ConcurrentHashMap<String, Lease> leases = new ConcurrentHashMap<>();
    /** A global rule without a key: its one lease, made on first use. */
    private volatile Lease workloadLease;
    private final TrackedKeys tracked;
    /** No snapshot in force uses this rule any more: swept until empty, then dropped. */
    volatile boolean retired;

    RuleState(TrackedKeys tracked, Iterable<String> overrideValues) {
        this.tracked = tracked;
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

    /**
     * The lease of {@code key} (null: the workload's), made by {@code make} when there is none; a new one that is
     * not kept when the bound on tracked keys is reached (its request asks Redis for itself).
     */
    Lease lease(String key, Function<String, Lease> make) {
        if (key == null) {
            Lease l = workloadLease;
            if (l == null) {
                synchronized (this) {
                    l = workloadLease;
                    if (l == null) {
                        workloadLease = l = make.apply(null);
                    }
                }
            }
            return l;
        }
        Lease l = leases.get(key);
        if (l != null) {
            return l;
        }
        Lease created = make.apply(key);
        if (!tracked.tryTake()) {
            tracked.overflowed();
            return created;
        }
        Lease raced = leases.putIfAbsent(key, created);
        if (raced != null) {
            tracked.giveBack();
            return raced;
        }
        return created;
    }

    /** Retires idle cells of both tables and drops idle leases; returns how many. */
    int sweep(long now) {
        int dropped = 0;
        for (Iterator<Lease> it = leases.values().iterator(); it.hasNext(); ) {
            if (it.next().idle(now)) {
                it.remove();
                tracked.giveBack();
                dropped++;
            }
        }
        return rates.sweep(tat -> Gcra.idle(tat, now)) + inFlight.sweep(InFlight::idle) + dropped;
    }

    boolean isEmpty() {
        return rates.isEmpty() && inFlight.isEmpty() && leases.isEmpty();
    }
}
