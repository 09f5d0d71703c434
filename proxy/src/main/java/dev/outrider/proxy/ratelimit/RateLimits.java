package dev.outrider.proxy.ratelimit;

import dev.outrider.proxy.authz.RequestAttributes;
import io.netty.handler.codec.http.HttpHeaders;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.IntConsumer;

/**
 * The RateLimitPolicy rules in force for this workload, compiled into one snapshot: every rule whose match
 * matches a request applies to it, in policy and rule order; the request is admitted only if each enforcing
 * rule admits it. A refusal gives back what the earlier rules took, so a refused request costs the caller
 * nothing. Dry-run rules take and count like the others but never refuse.
 *
 * <p>Immutable; {@link #admit} from any event loop.
 */
public final class RateLimits {
    /** {@link #decide}: every rule admits the request. */
    public static final int ADMITTED = 0;
    /** {@link #decide}: a rule refused it; {@link Admission} says which and why. */
    public static final int REFUSED = 1;
    /** {@link #decide}: the local rules admit it and global rules ask Redis: {@link #resolve} finishes. */
    public static final int PENDING = 2;

    private final RateLimiter owner;
    private final LimitRule[] rules;
    private final List<String> policies;

    RateLimits(RateLimiter owner, List<LimitRule> rules, List<String> policies) {
        this.owner = owner;
        this.rules = rules.toArray(LimitRule[]::new);
        this.policies = List.copyOf(policies);
    }

    public boolean isEmpty() {
        return rules.length == 0;
    }

    /** {@code namespace/name} of the RateLimitPolicies applying to this workload. */
    public List<String> policies() {
        return policies;
    }

    public int ruleCount() {
        return rules.length;
    }

    /**
     * Decides one request, on the limiter's clock.
     *
     * @param a the request channel's admission, reset here; holds the slots to release when admitted
     * @return whether the request may go on
     */
    public boolean admit(RequestAttributes r, Admission a) {
        return admit(r, a, owner.now());
    }

    /** {@link #decide} for limits whose global rules have no Redis (they run their fallback): never pending. */
    boolean admit(RequestAttributes r, Admission a, long now) {
        int decision = decide(r, a, now);
        if (decision == PENDING) {
            throw new IllegalStateException("global rules ask Redis: use decide and resolve");
        }
        return decision == ADMITTED;
    }

    /**
     * Decides one request as far as this sidecar can: {@link #ADMITTED}, {@link #REFUSED}, or {@link #PENDING}
     * when every local rule admits it and global rules wait for Redis ({@link #resolve}). Nothing waits here.
     */
    public int decide(RequestAttributes r, Admission a) {
        return decide(r, a, owner.now());
    }

    int decide(RequestAttributes r, Admission a, long now) {
        a.reset();
        for (LimitRule rule : rules) {
            if (!rule.matches(r)) {
                continue;
            }
            int outcome = rule.acquire(r, a, now);
            if (outcome == LimitRule.DEFERRED) {
                continue; // counted once Redis answered
            }
            rule.counters.count(outcome);
            if (outcome != LimitRule.ADMITTED && !rule.dryRun) {
                a.rollback(now);
                return REFUSED;
            }
        }
        return a.deferredCount() > 0 ? PENDING : ADMITTED;
    }

    /**
     * Finishes a {@link #PENDING} decision: one call to Redis per deferred global rule (a token each), all at once;
     * a rule whose call fails or is late runs its fallback. Then {@code then} runs on {@code executor} with
     * {@link #ADMITTED} or {@link #REFUSED}; on a refusal what the request took is given back (a token Redis
     * granted to another of its rules is not: it is spent, never counted twice).
     */
    public void resolve(Admission a, Executor executor, IntConsumer then) {
        int n = a.deferredCount();
        SharedBudgets shared = owner.shared();
        RedisBudgets budgets = shared == null ? null : shared.current();
        @SuppressWarnings("unchecked")
        CompletableFuture<RedisBudgets.Grant>[] calls = new CompletableFuture[n];
        for (int i = 0; i < n; i++) {
            LimitRule rule = a.deferredRule(i);
            LimitRule.Limits l = rule.sharedFor(a.deferredKey(i));
            long interval = Math.max(1, l.interval() / 1000);
            calls[i] = budgets == null ? CompletableFuture.failedFuture(new IllegalStateException("Redis unavailable"))
                    : shared.take(budgets, rule.bucket(a.deferredKey(i)), interval, Math.max(interval, l.capacity() / 1000));
        }
        CompletableFuture.allOf(calls).handleAsync((ignored, failure) -> {
            then.accept(answered(a, calls));
            return null;
        }, executor);
    }

    /** On the request's event loop: each deferred rule's answer, or its fallback where Redis gave none. */
    private int answered(Admission a, CompletableFuture<RedisBudgets.Grant>[] calls) {
        long now = owner.now();
        boolean refused = false;
        for (int i = 0; i < calls.length; i++) {
            LimitRule rule = a.deferredRule(i);
            String key = a.deferredKey(i);
            RedisBudgets.Grant g = calls[i].isCompletedExceptionally() ? null : calls[i].join();
            int outcome = g == null ? rule.fallback(key, a, now)
                    : rule.answered(key, g.granted() > 0, g.remaining(), g.waitMicros() * 1000, a);
            rule.counters.count(outcome);
            refused |= outcome != LimitRule.ADMITTED && !rule.dryRun;
        }
        if (refused) {
            a.rollback(now);
            return REFUSED;
        }
        return ADMITTED;
    }

    /**
     * Adds the fields of a refusal to the 429 or 503 response: {@code Retry-After}; for a rate limit, the
     * {@code RateLimit-Policy} and {@code RateLimit} fields of draft-ietf-httpapi-ratelimit-headers
     * (-08 onward) naming the refusing rule, and the older {@code X-RateLimit-*} fields when its policy asks.
     */
    public static void addRefusalHeaders(Admission a, HttpHeaders headers) {
        long retry = a.retryAfterSeconds();
        headers.set("retry-after", retry);
        LimitRule rule = a.refusedBy();
        if (!a.rateLimited() || rule == null) {
            return;
        }
        long[] quota = LimitRule.quotaPerWindow(a.refusedLimits().limit());
        String name = "\"" + rule.fieldName + "\"";
        headers.set("ratelimit-policy", name + ";q=" + quota[0] + ";w=" + quota[1]);
        headers.set("ratelimit", name + ";r=0;t=" + retry);
        if (rule.legacyHeaders) {
            headers.set("x-ratelimit-limit", quota[0]);
            headers.set("x-ratelimit-remaining", 0);
            headers.set("x-ratelimit-reset", retry);
        }
    }

    /**
     * Adds the quota left to an admitted request's response, for the rules whose policy asks for it
     * ({@code admittedHeaders}): one {@code RateLimit-Policy} and one {@code RateLimit} list member per rule, in
     * rule order, e.g. {@code "orders-limits/per-caller";q=100;w=1} and {@code "orders-limits/per-caller";r=41;t=1}
     * ({@code r}: requests admissible at once; {@code t}: whole seconds until the bucket is full again). The
     * fields are added, not set: members the application sent stay (a structured-field list spread over several
     * field lines is one list). Then forgets the entries, so one admission's quota goes on one response.
     */
    public static void addQuotaHeaders(Admission a, HttpHeaders headers) {
        if (!a.hasQuota()) {
            return;
        }
        for (int i = 0; i < a.quotaCount(); i++) {
            LimitRule rule = a.quotaRule(i);
            long[] quota = LimitRule.quotaPerWindow(a.quotaLimits(i).limit());
            String name = "\"" + rule.fieldName + "\"";
            long reset = (a.quotaResetNanos(i) + 999_999_999L) / 1_000_000_000L;
            headers.add("ratelimit-policy", name + ";q=" + quota[0] + ";w=" + quota[1]);
            headers.add("ratelimit", name + ";r=" + a.quotaRemaining(i) + ";t=" + reset);
        }
        a.clearQuota();
    }

    /**
     * Called once this snapshot is in force: rules no longer used are retired (swept until empty) and
     * their counters removed.
     */
    public void inForce() {
        owner.inForce(this);
    }

    LimitRule[] rules() {
        return rules;
    }
}
