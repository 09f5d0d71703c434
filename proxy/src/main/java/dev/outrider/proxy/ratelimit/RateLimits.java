package dev.outrider.proxy.ratelimit;

import dev.outrider.proxy.authz.RequestAttributes;
import io.netty.handler.codec.http.HttpHeaders;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
    private static final Logger log = LoggerFactory.getLogger(RateLimits.class);
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

    /** Each rule that matches {@code r}, in order, with what it does to it ({@code outrider explain}). */
    public List<String> explain(RequestAttributes r) {
        List<String> lines = new java.util.ArrayList<>();
        for (LimitRule rule : rules) {
            if (rule.matches(r)) {
                lines.add(rule.describe(r));
            }
        }
        return lines;
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
     * Finishes a {@link #PENDING} decision: each global rule whose lease was empty waits for its refill (one call to
     * Redis per lease, shared by every request waiting for it), then spends a token of it, or is refused when Redis
     * refused; a rule whose refill failed or was late runs its fallback. Then {@code then} runs on {@code executor}
     * with {@link #ADMITTED} or {@link #REFUSED}; on a refusal what the request took is given back (a token spent
     * from a lease for another of its rules is not: Redis counted it).
     */
    public void resolve(Admission a, Executor executor, IntConsumer then) {
        new Resolution(a, executor, then).start();
    }

    /** A request waiting for the refills of its rules' leases; used on the request's event loop only. */
    private final class Resolution {
        /** A lease emptied by other requests before this one got a token is refilled at most this often. */
        private static final int MAX_ATTEMPTS = 3;
        private final Admission a;
        private final Executor executor;
        private final IntConsumer then;
        private int waiting;
        private boolean refused;

        Resolution(Admission a, Executor executor, IntConsumer then) {
            this.a = a;
            this.executor = executor;
            this.then = then;
        }

        void start() {
            int n = a.deferredCount();
            waiting = n;
            for (int i = 0; i < n; i++) {
                ask(i, 1);
            }
        }

        private void ask(int i, int attempt) {
            CompletableFuture<SharedBudgets> refill;
            try {
                refill = a.deferredRule(i).refill(a.deferredLease(i));
            } catch (RuntimeException e) { // whatever happens, the request gets its decision (the fallback)
                refill = CompletableFuture.failedFuture(e);
            }
            refill.whenCompleteAsync((shared, failure) -> answered(i, attempt, shared, failure), executor);
        }

        private void answered(int i, int attempt, SharedBudgets shared, Throwable failure) {
            LimitRule rule = a.deferredRule(i);
            String key = a.deferredKey(i);
            try {
                long now = owner.now();
                int outcome = failure != null ? rule.fallback(key, a, now)
                        : rule.leased(key, a.deferredLease(i), a, now, shared, null);
                if (outcome == LimitRule.DEFERRED) {
                    if (attempt < MAX_ATTEMPTS) {
                        ask(i, attempt + 1);
                        return;
                    }
                    outcome = rule.outrun(key, a);
                }
                rule.counters.count(outcome);
                refused |= outcome != LimitRule.ADMITTED && !rule.dryRun;
            } catch (RuntimeException e) { // a bug must not leave the request waiting: refused, and said
                log.error("rate limits: deciding a request after its lease was refilled failed; refused", e);
                refused = true;
            }
            if (--waiting == 0) {
                if (refused) {
                    a.rollback(owner.now());
                }
                then.accept(refused ? REFUSED : ADMITTED);
            }
        }
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
