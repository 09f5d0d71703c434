package dev.outrider.proxy.ratelimit;

import dev.outrider.core.policy.RateLimitPolicy;
import dev.outrider.core.policy.RateLimitPolicy.Key;
import dev.outrider.proxy.authz.RequestAttributes;
import dev.outrider.proxy.authz.StringMatcher;
import io.micrometer.core.instrument.Counter;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * One rule of a RateLimitPolicy, compiled for a snapshot: its match, its key, its limits (and the
 * overrides'), the long-lived {@link RuleState} holding the budgets, and its counters.
 *
 * <p>A {@code scope: global} rule shares its rate in Redis ({@link SharedBudgets}, {@code rateLimits.redis}):
 * while Redis is available a request spends a token of this sidecar's {@link Lease} of the key's shared budget,
 * or waits for its refill when it is empty ({@link #DEFERRED}); while Redis is not available (none configured,
 * not reachable, slower than its timeout), the rule runs what its policy says to do without Redis
 * ({@code spec.global.fallback}): the limit divided by {@code replicas} in this sidecar's own buckets, admit, or
 * refuse. Its concurrency limit is this sidecar's in every case.
 *
 * <p>Immutable; {@link #acquire} is called from any event loop and allocates nothing (the key is a string
 * the request already holds).
 */
final class LimitRule {
    /** Key values longer than this are counted under the rule's shared empty key, like an absent value. */
    static final int MAX_KEY_LENGTH = 256;
    static final int ADMITTED = 0;
    static final int RATE_LIMITED = 1;
    static final int CONCURRENCY_LIMITED = 2;
    /** A global rule's lease is empty: {@link RateLimits#resolve} waits for its refill. Never counted as such. */
    static final int DEFERRED = 3;
    private static final CompletableFuture<SharedBudgets> NO_REDIS =
            CompletableFuture.failedFuture(new IllegalStateException("Redis is unavailable"));
    /** {@code Retry-After} of a refusal by a global rule whose fallback is {@code refuse}. */
    static final long REFUSE_ALL_WAIT_NANOS = 1_000_000_000L;

    final String policy;
    final String name;
    /** The quota policy's name in the {@code RateLimit-Policy} and {@code RateLimit} fields. */
    final String fieldName;
    final boolean dryRun;
    final boolean legacyHeaders;
    /** The quota left goes on admitted responses too ({@code admittedHeaders}); never for a dry-run rule. */
    final boolean admittedHeaders;
    private final StringMatcher[] methods;
    private final StringMatcher[] notMethods;
    private final StringMatcher[] paths;
    private final StringMatcher[] notPaths;
    private final Key key;
    private final Key.Kind keyKind;
    private final String header;
    private final String[] claimPath;
    /** The rule's limits, as written (a global rule's shared budget). */
    final Limits limits;
    private final Map<String, Limits> sharedOverrides;
    /** Where global rules' budgets are, or null when the sidecar has no Redis. */
    /** Its limiter: the Redis global rules use now ({@link RateLimiter#shared}) and the clock of refills. */
    private final RateLimiter owner;
    private final Function<String, Lease> newLease = this::newLease;
    /** What this sidecar applies with its own buckets: {@link #limits}, or a global rule's fallback. */
    private final Limits localLimits;
    private final Map<String, Limits> localOverrides;
    /** A global rule whose fallback is {@code refuse}: every request it matches is refused. */
    private final boolean refuseAll;
    final boolean global;
    /** A global rule's settings without Redis; null for a local rule. */
    private final RateLimitPolicy.Global globalSettings;
    final RuleState state;
    final RateLimitMetrics.RuleCounters counters;

    /**
     * The limits that apply to a key: the rule's or an override's.
     *
     * @param limit       the rate, or null when the rule has none
     * @param interval    nanoseconds per token
     * @param capacity    {@code burst * interval}
     * @param maxInFlight 0 = no concurrency limit
     */
    record Limits(RateLimitPolicy.Limit limit, long interval, long capacity, int maxInFlight) {
        static Limits of(RateLimitPolicy.Limit limit, int maxInFlight) {
            long interval = limit == null ? 0 : limit.intervalNanos();
            long capacity = limit == null ? 0 : saturatedProduct(limit.burst(), interval);
            return new Limits(limit, interval, capacity, maxInFlight);
        }
    }

    private static long saturatedProduct(long a, long b) {
        try {
            return Math.multiplyExact(a, b);
        } catch (ArithmeticException overflow) {
            return Long.MAX_VALUE / 2; // documents refuse such buckets; stay far from overflow in Gcra
        }
    }

    LimitRule(String policy, String policyName, boolean dryRun, boolean legacyHeaders, boolean admittedHeaders,
              RateLimitPolicy.Global globalSettings, RateLimitPolicy.Rule rule, RuleState state,
              RateLimitMetrics.RuleCounters counters, RateLimiter owner) {
        this.policy = policy;
        this.name = rule.name();
        this.fieldName = policyName + "/" + rule.name();
        this.dryRun = dryRun;
        this.legacyHeaders = legacyHeaders;
        this.admittedHeaders = admittedHeaders && !dryRun;
        this.methods = exact(rule.match().methods());
        this.notMethods = exact(rule.match().notMethods());
        this.paths = patterns(rule.match().paths());
        this.notPaths = patterns(rule.match().notPaths());
        Key key = rule.key();
        this.key = key;
        this.keyKind = key == null ? null : key.kind();
        this.header = key == null ? null : key.header();
        this.claimPath = key == null ? null : key.claimPath().toArray(String[]::new);
        this.limits = Limits.of(rule.limit(), rule.maxInFlight());
        this.global = rule.global();
        this.globalSettings = global ? globalSettings : null;
        RateLimitPolicy.Fallback fallback = global ? globalSettings.fallback() : null;
        int share = fallback == RateLimitPolicy.Fallback.LOCAL ? globalSettings.replicas() : 1;
        this.refuseAll = fallback == RateLimitPolicy.Fallback.REFUSE;
        boolean admitAll = fallback == RateLimitPolicy.Fallback.ADMIT;
        this.localLimits = local(rule.limit(), rule.maxInFlight(), share, admitAll);
        Map<String, Limits> local = new HashMap<>();
        Map<String, Limits> written = new HashMap<>();
        for (RateLimitPolicy.KeyOverride ko : rule.overrides()) {
            RateLimitPolicy.Limit limit = ko.limit() != null ? ko.limit() : rule.limit();
            int maxInFlight = ko.maxInFlight() > 0 ? ko.maxInFlight() : rule.maxInFlight();
            local.put(ko.value(), local(limit, maxInFlight, share, admitAll));
            written.put(ko.value(), Limits.of(limit, maxInFlight));
        }
        this.localOverrides = Map.copyOf(local);
        this.sharedOverrides = global ? Map.copyOf(written) : Map.of();
        this.owner = owner;
        this.state = state;
        this.counters = counters;
    }

    /**
     * The limits this sidecar applies alone: {@code limit} shared by {@code share} sidecars (its rate divided, its
     * burst divided and at least 1), or no rate at all when {@code admitAll}.
     */
    private static Limits local(RateLimitPolicy.Limit limit, int maxInFlight, int share, boolean admitAll) {
        if (limit == null || admitAll) {
            return Limits.of(null, maxInFlight);
        }
        if (share == 1) {
            return Limits.of(limit, maxInFlight);
        }
        return Limits.of(new RateLimitPolicy.Limit(limit.requests(), limit.per().multipliedBy(share),
                Math.max(1, limit.burst() / share)), maxInFlight);
    }

    private static StringMatcher[] exact(List<String> values) {
        return values.stream().map(StringMatcher::exact).toArray(StringMatcher[]::new);
    }

    private static StringMatcher[] patterns(List<String> values) {
        return values.stream().map(v -> StringMatcher.of(v, false)).toArray(StringMatcher[]::new);
    }

    boolean matches(RequestAttributes r) {
        if (methods.length > 0 || notMethods.length > 0) {
            String m = r.method();
            if (methods.length > 0 && !StringMatcher.any(methods, m) || StringMatcher.any(notMethods, m)) {
                return false;
            }
        }
        if (paths.length > 0 || notPaths.length > 0) {
            String p = r.path();
            return (paths.length == 0 || StringMatcher.any(paths, p)) && !StringMatcher.any(notPaths, p);
        }
        return true;
    }

    /** The request's key for this rule; {@code ""} when the request has none; null for a workload-wide rule. */
    String key(RequestAttributes r) {
        if (keyKind == null) {
            return null;
        }
        String v = switch (keyKind) {
            case SOURCE_PRINCIPAL -> r.sourcePrincipal();
            case REQUEST_PRINCIPAL -> r.requestPrincipal();
            case SOURCE_IP -> r.sourceAddress();
            case HEADER -> r.header(header);
            case CLAIM -> scalar(r.claim(claimPath));
        };
        return v == null || v.length() > MAX_KEY_LENGTH ? "" : v;
    }

    /** A claim used as a key: a string, number or boolean; a list or object counts as absent. */
    private static String scalar(Object claim) {
        if (claim instanceof String s) {
            return s;
        }
        return claim instanceof Number || claim instanceof Boolean ? claim.toString() : null;
    }

    /**
     * Admits the request under this rule or says why not. Concurrency first, then rate: a request the rate
     * refuses leaves its concurrency slot at once. A global rule whose Redis is available spends a token of its
     * lease, is refused while Redis's last answer for the key was a refusal, or waits for a refill when the lease
     * is empty ({@link #DEFERRED}: {@link RateLimits#resolve}); without Redis it runs its fallback (and starts a
     * refill as a probe, whose answer makes Redis available again).
     *
     * @return {@link #ADMITTED}, {@link #RATE_LIMITED}, {@link #CONCURRENCY_LIMITED} or {@link #DEFERRED}; what
     *         was taken is recorded in {@code a} (to give back on a later refusal, or at the end of the request)
     */
    int acquire(RequestAttributes r, Admission a, long now) {
        String key = key(r);
        Limits l = localFor(key);
        boolean overridden = l != localLimits;
        Cell held = null;
        if (l.maxInFlight > 0) {
            for (;;) {
                Cell c = key == null ? state.workloadInFlight
                        : overridden ? state.overrideInFlight.get(key) : state.inFlight.cell(key);
                int entered = InFlight.enter(c, l.maxInFlight);
                if (entered == InFlight.RETIRED) {
                    state.inFlight.forget(key, c);
                    continue;
                }
                if (entered == InFlight.FULL) {
                    a.refused(this, CONCURRENCY_LIMITED, 0, l);
                    return CONCURRENCY_LIMITED;
                }
                held = c;
                break;
            }
        }
        SharedBudgets shared = global ? owner.shared() : null;
        if (shared != null) {
            RedisBudgets b = shared.current();
            if (b != null) {
                if (shared.available()) {
                    Lease lease = state.lease(key, newLease);
                    int outcome = leased(key, lease, a, now, shared, b);
                    if (outcome == RATE_LIMITED) {
                        if (held != null) {
                            InFlight.leave(held);
                        }
                        return outcome;
                    }
                    if (held != null) {
                        a.hold(held);
                    }
                    if (outcome == DEFERRED) {
                        a.defer(this, key, lease);
                    }
                    return outcome;
                }
                if (shared.probeDue()) { // a probe: an answer makes Redis available again
                    state.lease(key, newLease).refill(shared, b, owner.clock());
                }
            }
        }
        if (global) {
            counters.fallback().increment();
        }
        int outcome = rate(key, l, overridden, a, now);
        if (outcome != ADMITTED) {
            if (held != null) {
                InFlight.leave(held);
            }
            return outcome;
        }
        if (held != null) {
            a.hold(held);
        }
        return ADMITTED;
    }

    /**
     * A deferred request whose Redis call failed (unavailable, or slower than the timeout): the rule's fallback,
     * in this sidecar's buckets. Its concurrency slot is already held by {@code a}.
     */
    int fallback(String key, Admission a, long now) {
        counters.fallback().increment();
        Limits l = localFor(key);
        return rate(key, l, l != localLimits, a, now);
    }

    /**
     * A token of {@code lease}: {@link #ADMITTED} with one spent (and a refill started when half the last grant
     * is), {@link #RATE_LIMITED} while Redis's last answer for the key was a refusal, or {@link #DEFERRED} when the
     * lease is empty (the caller waits for {@link #refill}).
     *
     * @param b the connected Redis of {@code shared}, for a refill (null: none is started here)
     */
    int leased(String key, Lease lease, Admission a, long now, SharedBudgets shared, RedisBudgets b) {
        long got = lease.take(now, shared.epoch());
        if (got == Lease.EMPTY) {
            return DEFERRED;
        }
        Limits l = sharedFor(key);
        if (got < 0) {
            a.refused(this, RATE_LIMITED, -got, l);
            return RATE_LIMITED;
        }
        if (b != null && lease.low(got)) {
            lease.refill(shared, b, owner.clock());
        }
        if (admittedHeaders) {
            long remaining = lease.remaining(got);
            a.quota(this, l, remaining, Math.max(0, l.capacity - remaining * l.interval));
        }
        return ADMITTED;
    }

    /**
     * {@code lease}'s refill (the one running, or a new one), with the Redis global rules use now; failed at once
     * when Redis is unavailable. {@code then} gets that Redis when the refill completed, for {@link #leased}.
     */
    CompletableFuture<SharedBudgets> refill(Lease lease) {
        SharedBudgets shared = owner.shared();
        RedisBudgets b = shared == null ? null : shared.current();
        return b == null ? NO_REDIS : lease.refill(shared, b, owner.clock()).thenApply(ignored -> shared);
    }

    /** A waiting request whose lease was emptied by others each time it was refilled: refused, for a token's time. */
    int outrun(String key, Admission a) {
        Limits l = sharedFor(key);
        a.refused(this, RATE_LIMITED, l.interval, l);
        return RATE_LIMITED;
    }

    private Lease newLease(String key) {
        return new Lease(bucket(key), sharedFor(key));
    }

    /** The rate part in this sidecar's own buckets (a local rule, or a global rule's fallback). */
    private int rate(String key, Limits l, boolean overridden, Admission a, long now) {
        if (refuseAll) {
            a.refused(this, RATE_LIMITED, REFUSE_ALL_WAIT_NANOS, limits);
            return RATE_LIMITED;
        }
        if (l.limit == null) {
            return ADMITTED;
        }
        for (;;) {
            Cell c = key == null ? state.workloadRate
                    : overridden ? state.overrideRates.get(key) : state.rates.cell(key);
            long got = Gcra.acquire(c, now, l.interval, l.capacity);
            if (got == Gcra.RETIRED) {
                state.rates.forget(key, c);
                continue;
            }
            if (got < 0) {
                a.refused(this, RATE_LIMITED, -got, l);
                return RATE_LIMITED;
            }
            a.took(c, l.interval);
            if (admittedHeaders) {
                a.quota(this, l, got, c.get() - now); // the bucket is full again at its tat
            }
            return ADMITTED;
        }
    }

    /** The limits this sidecar applies alone to {@code key}: an override's or the rule's. */
    private Limits localFor(String key) {
        if (key != null && !localOverrides.isEmpty()) {
            Limits o = localOverrides.get(key);
            if (o != null) {
                return o;
            }
        }
        return localLimits;
    }

    /** The limits as written for {@code key} (a global rule's shared budget): an override's or the rule's. */
    Limits sharedFor(String key) {
        if (key != null && !sharedOverrides.isEmpty()) {
            Limits o = sharedOverrides.get(key);
            if (o != null) {
                return o;
            }
        }
        return limits;
    }

    /**
     * The Redis key of {@code key}'s shared bucket: the policy, the rule and the limit that applies (so a changed
     * limit starts a new bucket, as a changed rule does locally), then the key (the workload's: {@code *}).
     */
    String bucket(String key) {
        Limits l = sharedFor(key);
        return "outrider:ratelimit:" + policy + ":" + name + ":" + l.limit.requests() + "/" + l.limit.per().toNanos()
                + "/" + l.limit.burst() + ":" + (key == null ? "*" : "=" + key);
    }

    /**
     * What this rule does to a request it matches, in words ({@code outrider explain}): its key and the request's
     * value of it, the limits that apply to that value, its scope (for a global rule, where its budget is and its
     * fallback), dry-run.
     */
    String describe(RequestAttributes r) {
        String k = key(r);
        Limits l = sharedFor(k);
        StringBuilder b = new StringBuilder(policy).append(" rule ").append(name).append(": ");
        if (key == null) {
            b.append("one budget for every caller");
        } else {
            b.append("key ").append(key.attribute()).append(" = ").append(k.isEmpty() ? "(none: the shared empty key)"
                    : "'" + k + "'").append(sharedOverrides.containsKey(k) || localOverrides.containsKey(k)
                    ? " (an override)" : "");
        }
        if (l.limit != null) {
            b.append("; ").append(l.limit.requests()).append(" per ")
                    .append(dev.outrider.core.document.Durations.format(l.limit.per())).append(", burst ")
                    .append(l.limit.burst());
        }
        if (l.maxInFlight > 0) {
            b.append("; at most ").append(l.maxInFlight).append(" in flight (this sidecar's)");
        }
        if (global) {
            b.append("; scope global: one budget for every sidecar of the workload, in Redis; without Redis: ")
                    .append(switch (globalSettings.fallback()) {
                        case LOCAL -> globalSettings.replicas() == 1 ? "the limit in each sidecar"
                                : "the limit divided by " + globalSettings.replicas() + " in each sidecar";
                        case ADMIT -> "admit";
                        case REFUSE -> "refuse (429)";
                    });
        } else if (l.limit != null) {
            b.append("; scope local: this sidecar's budget");
        }
        if (dryRun) {
            b.append("; dry-run: counted, never refused");
        }
        return b.toString();
    }

    /** The rate as a quota per whole-second window, for the {@code RateLimit-Policy} field. */
    static long[] quotaPerWindow(RateLimitPolicy.Limit limit) {
        Duration per = limit.per();
        if (per.toNanos() % 1_000_000_000L == 0) {
            return new long[]{limit.requests(), per.toSeconds()};
        }
        long perSecond = Math.max(1, limit.requests() * 1_000_000_000L / per.toNanos());
        return new long[]{perSecond, 1};
    }
}
