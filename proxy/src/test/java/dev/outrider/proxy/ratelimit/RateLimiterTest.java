package dev.outrider.proxy.ratelimit;

import dev.outrider.core.policy.RateLimitPolicy;
import dev.outrider.core.policy.RateLimitPolicy.Key;
import dev.outrider.core.policy.RateLimitPolicy.KeyOverride;
import dev.outrider.core.policy.RateLimitPolicy.Match;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static dev.outrider.proxy.ratelimit.Limits.BY_PRINCIPAL;
import static dev.outrider.proxy.ratelimit.Limits.inFlight;
import static dev.outrider.proxy.ratelimit.Limits.limit;
import static dev.outrider.proxy.ratelimit.Limits.matching;
import static dev.outrider.proxy.ratelimit.Limits.policy;
import static dev.outrider.proxy.ratelimit.Limits.rate;
import static org.assertj.core.api.Assertions.assertThat;

/** Admission, refill, overrides, concurrency, expiry and reloads on a clock the test moves. */
class RateLimiterTest {
    private static final long SECOND = 1_000_000_000L;
    private static final String FRONTEND = "cluster.local/ns/shop/sa/frontend";
    private static final String BATCH = "cluster.local/ns/batch/sa/nightly";

    private final AtomicLong clock = new AtomicLong(1_000 * SECOND);
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final RateLimiter limiter = new RateLimiter(10_000, Duration.ZERO, clock::get, registry);
    private final Admission admission = new Admission();

    @AfterEach
    void close() {
        limiter.close();
    }

    private RateLimits apply(RateLimitPolicy... policies) {
        RateLimits r = limiter.compile(List.of(policies));
        r.inForce();
        return r;
    }

    private int admitted(RateLimits limits, FakeRequest request, int attempts) {
        int n = 0;
        for (int i = 0; i < attempts; i++) {
            if (limits.admit(request, admission)) {
                n++;
                admission.release();
            }
        }
        return n;
    }

    private double count(String policy, String rule, String result, String mode) {
        var c = registry.find("outrider_ratelimit_requests").tags("policy", policy, "rule", rule, "result", result,
                "mode", mode).counter();
        return c == null ? -1 : c.count();
    }

    /**
     * A global rule without a Redis budget runs its policy's fallback: the limit shared by {@code replicas} sidecars
     * in this one's buckets (overrides too), admit, or refuse; its concurrency limit stays.
     */
    @Test
    void aGlobalRuleWithoutRedisRunsItsFallback() {
        FakeRequest r = FakeRequest.from(FRONTEND);
        RateLimits shared = apply(Limits.global("shared", new RateLimitPolicy.Global(RateLimitPolicy.Fallback.LOCAL, 4),
                rate("per-caller", BY_PRINCIPAL, limit(40, Duration.ofSeconds(1), 20),
                        new KeyOverride(BATCH, limit(400, Duration.ofSeconds(1), 400), 0))));
        assertThat(admitted(shared, r, 50)).as("a quarter of the burst").isEqualTo(5);
        clock.addAndGet(SECOND);
        assertThat(admitted(shared, r, 50)).as("a quarter of the rate (10/s), up to the burst").isEqualTo(5);
        assertThat(admitted(shared, FakeRequest.from(BATCH), 500)).as("an override's, divided").isEqualTo(100);

        RateLimits whole = apply(Limits.global("whole", RateLimitPolicy.Global.DEFAULT,
                rate("per-caller", BY_PRINCIPAL, limit(40, Duration.ofSeconds(1), 20))));
        assertThat(admitted(whole, r, 50)).as("default: the whole limit in each sidecar").isEqualTo(20);

        RateLimits admit = apply(Limits.global("open", new RateLimitPolicy.Global(RateLimitPolicy.Fallback.ADMIT, 1),
                new RateLimitPolicy.Rule("per-caller", Match.ANY, BY_PRINCIPAL, limit(1, Duration.ofHours(1), 1), 2,
                        List.of())));
        assertThat(admitted(admit, r, 50)).as("admit: no rate").isEqualTo(50);
        assertThat(admit.admit(r, admission)).isTrue();
        assertThat(admit.admit(r, new Admission())).isTrue();
        assertThat(admit.admit(r, new Admission())).as("the concurrency limit stays").isFalse();
        admission.release();

        RateLimits refuse = apply(Limits.global("closed", new RateLimitPolicy.Global(RateLimitPolicy.Fallback.REFUSE, 1),
                rate("per-caller", BY_PRINCIPAL, limit(1000, Duration.ofSeconds(1), 1000))));
        assertThat(refuse.admit(r, admission)).as("refuse: every request").isFalse();
        assertThat(admission.rateLimited()).isTrue();
        assertThat(admission.retryAfterSeconds()).isEqualTo(1);
        HttpHeaders h = new DefaultHttpHeaders();
        RateLimits.addRefusalHeaders(admission, h);
        assertThat(h.get("ratelimit-policy")).isEqualTo("\"closed/per-caller\";q=1000;w=1");
    }

    @Test
    void aBurstIsAdmittedThenTheSustainedRate() {
        RateLimits limits = apply(policy("p", false, rate("per-caller", BY_PRINCIPAL, limit(10, Duration.ofSeconds(1), 5))));
        FakeRequest r = FakeRequest.from(FRONTEND);

        assertThat(admitted(limits, r, 20)).isEqualTo(5);
        clock.addAndGet(SECOND / 10 - 1);
        assertThat(admitted(limits, r, 5)).as("just before one interval").isZero();
        clock.addAndGet(1);
        assertThat(admitted(limits, r, 5)).as("one interval: one token").isEqualTo(1);
        clock.addAndGet(3 * SECOND / 10);
        assertThat(admitted(limits, r, 5)).isEqualTo(3);
        clock.addAndGet(60 * SECOND);
        assertThat(admitted(limits, r, 20)).as("an idle minute refills the bucket, no more").isEqualTo(5);
        assertThat(count("shop/p", "per-caller", "admitted", "enforced")).isEqualTo(14);
        assertThat(count("shop/p", "per-caller", "rate_limited", "enforced")).isEqualTo(55 - 14);
    }

    @Test
    void theRefusalSaysWhenToComeBack() {
        RateLimits limits = apply(policy("p", false, rate("per-caller", BY_PRINCIPAL, limit(1, Duration.ofSeconds(30), 2))));
        FakeRequest r = FakeRequest.from(FRONTEND);
        assertThat(admitted(limits, r, 2)).isEqualTo(2);
        assertThat(limits.admit(r, admission)).isFalse();
        assertThat(admission.refused()).isTrue();
        assertThat(admission.rateLimited()).isTrue();
        assertThat(admission.retryAfterSeconds()).isEqualTo(30);
        assertThat(admission.logText()).isEqualTo("rate limited by shop/p rule per-caller");

        HttpHeaders h = new DefaultHttpHeaders();
        RateLimits.addRefusalHeaders(admission, h);
        assertThat(h.get("retry-after")).isEqualTo("30");
        assertThat(h.get("ratelimit-policy")).isEqualTo("\"p/per-caller\";q=1;w=30");
        assertThat(h.get("ratelimit")).isEqualTo("\"p/per-caller\";r=0;t=30");
        assertThat(h.contains("x-ratelimit-limit")).as("legacy fields only when asked").isFalse();

        clock.addAndGet(29 * SECOND + SECOND / 2);
        assertThat(limits.admit(r, admission)).isFalse();
        assertThat(admission.retryAfterSeconds()).as("rounded up").isEqualTo(1);
    }

    @Test
    void legacyFieldsAndSubSecondPeriods() {
        RateLimits limits = apply(Limits.legacy("p", rate("fast", null, limit(50, Duration.ofMillis(500), 1))));
        FakeRequest r = FakeRequest.from(FRONTEND);
        assertThat(admitted(limits, r, 3)).isEqualTo(1);
        assertThat(limits.admit(r, admission)).isFalse();
        HttpHeaders h = new DefaultHttpHeaders();
        RateLimits.addRefusalHeaders(admission, h);
        assertThat(h.get("ratelimit-policy")).isEqualTo("\"p/fast\";q=100;w=1");
        assertThat(h.get("x-ratelimit-limit")).isEqualTo("100");
        assertThat(h.get("x-ratelimit-remaining")).isEqualTo("0");
        assertThat(h.get("x-ratelimit-reset")).isEqualTo("1");
        assertThat(h.get("retry-after")).isEqualTo("1");
    }

    @Test
    void eachCallerHasItsOwnBudgetAndAnOverrideItsOwnLimit() {
        RateLimits limits = apply(policy("p", false, rate("per-caller", BY_PRINCIPAL, limit(3, Duration.ofSeconds(1), 3),
                new KeyOverride("cluster.local/ns/batch/sa/nightly", limit(100, Duration.ofSeconds(1), 100), 0))));
        assertThat(admitted(limits, FakeRequest.from(FRONTEND), 10)).isEqualTo(3);
        assertThat(admitted(limits, FakeRequest.from("cluster.local/ns/shop/sa/other"), 10)).isEqualTo(3);
        assertThat(admitted(limits, FakeRequest.from(BATCH), 200)).isEqualTo(100);
        assertThat(admitted(limits, FakeRequest.from(null), 10)).as("no certificate: one shared budget").isEqualTo(3);
        assertThat(admitted(limits, FakeRequest.from(null), 10)).isZero();
    }

    @Test
    void aRuleWithoutAKeyLimitsTheWorkloadAsAWhole() {
        RateLimits limits = apply(policy("p", false, rate("all", null, limit(5, Duration.ofSeconds(1), 5))));
        int n = 0;
        for (int i = 0; i < 10; i++) {
            n += admitted(limits, FakeRequest.from("cluster.local/ns/shop/sa/c" + i), 1);
        }
        assertThat(n).isEqualTo(5);
        assertThat(limiter.trackedKeys()).as("no per-key cells").isZero();
    }

    @Test
    void keysFromHeadersClaimsRequestPrincipalAndAddress() {
        Key header = new Key(Key.Kind.HEADER, "x-tenant", null);
        Key claim = new Key(Key.Kind.CLAIM, null, List.of("tenant"));
        RateLimits limits = apply(policy("h", false, rate("tenant", header, limit(1, Duration.ofSeconds(1), 1))),
                policy("c", false, rate("claim", claim, limit(2, Duration.ofSeconds(1), 2))),
                policy("ip", false, rate("ip", Key.of(Key.Kind.SOURCE_IP), limit(4, Duration.ofSeconds(1), 4))));
        FakeRequest a = FakeRequest.from(FRONTEND);
        a.headers = Map.of("x-tenant", "a");
        a.claims = Map.of("tenant", 7);
        FakeRequest b = FakeRequest.from(FRONTEND);
        b.headers = Map.of("x-tenant", "b");
        b.claims = Map.of("tenant", 8);
        assertThat(admitted(limits, a, 3)).isEqualTo(1);
        assertThat(admitted(limits, b, 3)).isEqualTo(1);
        FakeRequest tooLong = FakeRequest.from(FRONTEND);
        tooLong.headers = Map.of("x-tenant", "x".repeat(LimitRule.MAX_KEY_LENGTH + 1));
        FakeRequest none = FakeRequest.from(FRONTEND);
        assertThat(admitted(limits, none, 3)).as("absent header: the shared empty key").isEqualTo(1);
        assertThat(admitted(limits, tooLong, 3)).as("an oversized value counts as absent").isZero();
        FakeRequest other = FakeRequest.from(FRONTEND);
        other.headers = Map.of("x-tenant", "c");
        other.address = "10.0.0.9";
        assertThat(admitted(limits, other, 5)).isEqualTo(1);
        assertThat(count("shop/c", "claim", "admitted", "enforced")).as("a (7), b (8), none and other (both absent: one shared key)").isEqualTo(4);
        assertThat(count("shop/ip", "ip", "admitted", "enforced")).isEqualTo(4);
        FakeRequest d = FakeRequest.from(FRONTEND);
        d.headers = Map.of("x-tenant", "d");
        d.claims = Map.of("tenant", 9);
        FakeRequest e = FakeRequest.from(FRONTEND);
        e.headers = Map.of("x-tenant", "e");
        e.claims = Map.of("tenant", 10);
        assertThat(admitted(limits, d, 1)).as("10.0.0.1's fourth").isEqualTo(1);
        assertThat(admitted(limits, e, 1)).as("10.0.0.1's fifth").isZero();
        assertThat(count("shop/ip", "ip", "rate_limited", "enforced")).isEqualTo(1);
    }

    @Test
    void onlyMatchingRequestsAreCounted() {
        RateLimits limits = apply(policy("p", false, matching("writes",
                new Match(List.of("POST"), null, List.of("/api/*"), List.of("/api/health")), BY_PRINCIPAL,
                limit(1, Duration.ofSeconds(1), 1))));
        FakeRequest get = FakeRequest.from(FRONTEND);
        assertThat(admitted(limits, get, 5)).isEqualTo(5);
        FakeRequest post = FakeRequest.from(FRONTEND);
        post.method = "POST";
        assertThat(admitted(limits, post, 5)).isEqualTo(1);
        post.path = "/api/health";
        assertThat(admitted(limits, post, 5)).isEqualTo(5);
        post.path = "/other";
        assertThat(admitted(limits, post, 5)).isEqualTo(5);
    }

    @Test
    void aRefusalGivesBackWhatEarlierRulesTook() {
        RateLimits limits = apply(policy("p", false,
                rate("per-caller", BY_PRINCIPAL, limit(10, Duration.ofSeconds(1), 10)),
                rate("workload", null, limit(2, Duration.ofSeconds(1), 2))));
        FakeRequest r = FakeRequest.from(FRONTEND);
        assertThat(admitted(limits, r, 8)).isEqualTo(2);
        // 6 refusals by the workload rule: the per-caller rule's tokens came back, 8 of 10 remain
        clock.addAndGet(SECOND);
        int n = 0;
        for (int i = 0; i < 20; i++) {
            clock.addAndGet(SECOND); // the workload rule refills fully each time; per-caller at 10/s too
            n += admitted(limits, r, 1);
        }
        assertThat(n).isEqualTo(20);
        assertThat(count("shop/p", "workload", "rate_limited", "enforced")).isEqualTo(6);
    }

    @Test
    void aRateRefusalAfterACountedRequestKeepsTheBucketExact() {
        RateLimits limits = apply(policy("p", false,
                rate("per-caller", BY_PRINCIPAL, limit(2, Duration.ofSeconds(1), 2)),
                rate("workload", null, limit(100, Duration.ofSeconds(1), 1))));
        FakeRequest r = FakeRequest.from(FRONTEND);
        assertThat(admitted(limits, r, 5)).as("the workload rule admits one at once").isEqualTo(1);
        clock.addAndGet(SECOND / 100);
        assertThat(admitted(limits, r, 5)).isEqualTo(1);
        clock.addAndGet(SECOND / 100);
        assertThat(admitted(limits, r, 5)).as("per-caller: 2 used; the refused ones took nothing").isZero();
    }

    @Test
    void concurrencyIsLimitedPerKeyAndReleasedAtTheEnd() {
        RateLimits limits = apply(policy("p", false, inFlight("slots", BY_PRINCIPAL, 2,
                new KeyOverride(BATCH, null, 3))));
        FakeRequest r = FakeRequest.from(FRONTEND);
        Admission a1 = new Admission();
        Admission a2 = new Admission();
        Admission a3 = new Admission();
        assertThat(limits.admit(r, a1)).isTrue();
        assertThat(limits.admit(r, a2)).isTrue();
        assertThat(limits.admit(r, a3)).isFalse();
        assertThat(a3.rateLimited()).as("a concurrency refusal").isFalse();
        assertThat(a3.retryAfterSeconds()).isEqualTo(1);
        assertThat(a3.logText()).isEqualTo("concurrency limited by shop/p rule slots");
        assertThat(limits.admit(FakeRequest.from("cluster.local/ns/shop/sa/other"), new Admission())).isTrue();
        a1.release();
        a1.release(); // idempotent: the slot is not given back twice
        assertThat(limits.admit(r, a3)).isTrue();
        assertThat(limits.admit(r, new Admission())).isFalse();
        FakeRequest batch = FakeRequest.from(BATCH);
        assertThat(limits.admit(batch, new Admission())).isTrue();
        assertThat(limits.admit(batch, new Admission())).isTrue();
        assertThat(limits.admit(batch, new Admission())).isTrue();
        assertThat(limits.admit(batch, new Admission())).isFalse();
        assertThat(count("shop/p", "slots", "concurrency_limited", "enforced")).isEqualTo(3);
    }

    @Test
    void aRateRefusalLeavesTheConcurrencySlotItTook() {
        RateLimitPolicy.Rule both = new RateLimitPolicy.Rule("both", Match.ANY, BY_PRINCIPAL,
                limit(1, Duration.ofSeconds(1), 1), 1, List.of());
        RateLimits limits = apply(policy("p", false, both));
        FakeRequest r = FakeRequest.from(FRONTEND);
        Admission held = new Admission();
        assertThat(limits.admit(r, held)).isTrue();
        held.release();
        assertThat(limits.admit(r, admission)).as("rate").isFalse();
        assertThat(admission.rateLimited()).isTrue();
        clock.addAndGet(SECOND);
        assertThat(limits.admit(r, admission)).as("the refused request's slot was given back").isTrue();
    }

    @Test
    void dryRunCountsAndAdmits() {
        RateLimits limits = apply(policy("p", true, rate("per-caller", BY_PRINCIPAL, limit(1, Duration.ofSeconds(1), 1))));
        FakeRequest r = FakeRequest.from(FRONTEND);
        assertThat(admitted(limits, r, 3)).isEqualTo(3);
        assertThat(admission.dryRunRefused()).isTrue();
        assertThat(admission.refused()).isFalse();
        assertThat(admission.logText()).isEqualTo("dry run: rate limited by shop/p rule per-caller");
        assertThat(count("shop/p", "per-caller", "admitted", "dry_run")).isEqualTo(1);
        assertThat(count("shop/p", "per-caller", "rate_limited", "dry_run")).isEqualTo(2);
        assertThat(count("shop/p", "per-caller", "rate_limited", "enforced")).isEqualTo(-1);
    }

    @Test
    void idleKeysAreForgottenOnlyOnceForgettingLosesNothing() {
        RateLimits limits = apply(policy("p", false, rate("per-caller", BY_PRINCIPAL, limit(1, Duration.ofSeconds(10), 2)),
                inFlight("slots", BY_PRINCIPAL, 5)));
        FakeRequest r = FakeRequest.from(FRONTEND);
        assertThat(limits.admit(r, admission)).isTrue(); // holds a slot, bucket 1 of 2 used
        assertThat(limiter.trackedKeys()).isEqualTo(2);
        assertThat(limiter.sweep()).isZero();
        admission.release();
        assertThat(limiter.sweep()).as("the slot counter at zero goes; the bucket is not full").isEqualTo(1);
        clock.addAndGet(10 * SECOND - 1);
        assertThat(limiter.sweep()).isZero();
        clock.addAndGet(1);
        assertThat(limiter.sweep()).isEqualTo(1);
        assertThat(limiter.trackedKeys()).isZero();
        assertThat(admitted(limits, r, 5)).as("a fresh cell is a full bucket, like the one forgotten").isEqualTo(2);
    }

    @Test
    void aReloadKeepsTheBudgetsOfUnchangedRules() {
        RateLimitPolicy v1 = policy("p", false, rate("per-caller", BY_PRINCIPAL, limit(3, Duration.ofMinutes(1), 3)));
        RateLimits first = apply(v1);
        FakeRequest r = FakeRequest.from(FRONTEND);
        assertThat(admitted(first, r, 5)).isEqualTo(3);

        RateLimits second = apply(policy("p", true, rate("per-caller", BY_PRINCIPAL, limit(3, Duration.ofMinutes(1), 3))),
                policy("q", false, rate("other", null, limit(100, Duration.ofSeconds(1), 100))));
        assertThat(admitted(second, r, 5)).as("same rule (now dry run): the spent budget stays spent").isEqualTo(5);
        assertThat(admission.dryRunRefused()).isTrue();
        RateLimits third = apply(v1);
        assertThat(admitted(third, r, 1)).isZero();
        assertThat(count("shop/p", "per-caller", "admitted", "dry_run")).as("dry-run series removed").isEqualTo(-1);
        assertThat(count("shop/q", "other", "admitted", "enforced")).isEqualTo(-1);

        RateLimits changed = apply(policy("p", false, rate("per-caller", BY_PRINCIPAL, limit(4, Duration.ofMinutes(1), 4))));
        assertThat(admitted(changed, r, 5)).as("a changed rule starts afresh").isEqualTo(4);
        assertThat(limiter.ruleStates()).as("the old rules are retired, not yet swept").isEqualTo(3);
        clock.addAndGet(Duration.ofMinutes(2).toNanos());
        limiter.sweep();
        assertThat(limiter.ruleStates()).as("the retired rule is dropped once empty").isEqualTo(1);
    }
}
