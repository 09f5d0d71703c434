package dev.outrider.proxy.ratelimit;

import dev.outrider.proxy.authz.RequestAttributes;
import io.netty.handler.codec.http.HttpHeaders;

import java.util.List;

/**
 * The RateLimitPolicy rules in force for this workload, compiled into one snapshot: every rule whose match
 * matches a request applies to it, in policy and rule order; the request is admitted only if each enforcing
 * rule admits it. A refusal gives back what the earlier rules took, so a refused request costs the caller
 * nothing. Dry-run rules take and count like the others but never refuse.
 *
 * <p>Immutable; {@link #admit} from any event loop.
 */
public final class RateLimits {
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

    boolean admit(RequestAttributes r, Admission a, long now) {
        a.reset();
        for (LimitRule rule : rules) {
            if (!rule.matches(r)) {
                continue;
            }
            int outcome = rule.acquire(r, a, now);
            rule.counters.count(outcome);
            if (outcome != LimitRule.ADMITTED && !rule.dryRun) {
                a.rollback(now);
                return false;
            }
        }
        return true;
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
