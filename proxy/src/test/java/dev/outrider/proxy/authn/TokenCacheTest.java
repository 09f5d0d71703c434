package dev.outrider.proxy.authn;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.outrider.proxy.authn.JwtVerifier.Options;
import dev.outrider.proxy.authn.JwtVerifier.Result;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static dev.outrider.proxy.authn.TestTokens.NOW;
import static dev.outrider.proxy.authn.TestTokens.claims;
import static dev.outrider.proxy.authn.TestTokens.inlineRule;
import static dev.outrider.proxy.authn.TestTokens.policy;
import static org.assertj.core.api.Assertions.assertThat;

class TokenCacheTest {
    private static final TestTokens KEYS = new TestTokens("c");
    private static final JwtVerifier VERIFIER =
            JwtVerifier.compile(List.of(policy(inlineRule(KEYS.publicSet(), List.of()))), null, Options.defaults());

    private final AtomicInteger calls = new AtomicInteger();
    private final TokenVerifier counting = (token, now) -> {
        calls.incrementAndGet();
        return VERIFIER.verify(token, now);
    };
    private final AtomicLong nanos = new AtomicLong();
    private final Ticker ticker = nanos::get;

    @Test
    void repeatedTokenIsVerifiedOnce() {
        TokenCache cache = new TokenCache(counting, 100, Duration.ofHours(1), ticker);
        String token = KEYS.es256(claims().build());
        Result first = cache.verify(token, NOW);
        for (int i = 0; i < 10; i++) {
            assertThat(cache.verify(token, NOW + i)).isSameAs(first);
        }
        assertThat(calls.get()).isEqualTo(1);
        cache.verify(KEYS.rs256(claims().build()), NOW);
        assertThat(calls.get()).isEqualTo(2);
    }

    /** A token longer than the per-thread scratch array at first, then a short one: each keyed by its own bytes. */
    @Test
    void longTokensAndShortOnesAfterThemAreKeyedByTheirOwnBytes() {
        TokenCache cache = new TokenCache(counting, 100, Duration.ofHours(1), ticker);
        String big = KEYS.es256(claims().claim("padding", "p".repeat(3000)).build());
        assertThat(big.length()).isGreaterThan(4000);
        Result first = cache.verify(big, NOW);
        assertThat(first).isInstanceOf(Result.Valid.class);
        assertThat(cache.verify(big, NOW)).isSameAs(first);
        String small = KEYS.es256(claims().build());
        Result second = cache.verify(small, NOW);
        assertThat(second).isInstanceOf(Result.Valid.class).isNotSameAs(first);
        assertThat(cache.verify(small, NOW)).isSameAs(second);
        assertThat(cache.verify(big, NOW)).isSameAs(first);
        assertThat(calls.get()).isEqualTo(2);
    }

    @Test
    void refusalsAreNotCached() {
        TokenCache cache = new TokenCache(counting, 100, Duration.ofHours(1), ticker);
        String bad = KEYS.es256(claims().issuer("https://other.test").build());
        cache.verify(bad, NOW);
        cache.verify(bad, NOW);
        assertThat(calls.get()).isEqualTo(2);
        assertThat(cache.size()).isZero();
    }

    @Test
    void entryExpiresAtTheTokensExp() {
        TokenCache cache = new TokenCache(counting, 100, Duration.ofHours(1), ticker);
        String token = KEYS.es256(claims().expirationTime(new Date((NOW + 100) * 1000)).build());
        cache.verify(token, NOW);
        nanos.addAndGet(Duration.ofSeconds(99).toNanos());
        cache.verify(token, NOW + 99);
        assertThat(calls.get()).isEqualTo(1);
        nanos.addAndGet(Duration.ofSeconds(1).toNanos());
        cache.cleanUp();
        assertThat(cache.size()).isZero();
        // After exp the verifier decides again (here still within the clock skew) and nothing is cached.
        assertThat(cache.verify(token, NOW + 100)).isInstanceOf(Result.Valid.class);
        assertThat(calls.get()).isEqualTo(2);
        assertThat(cache.size()).isZero();
        assertThat(((Result.Invalid) cache.verify(token, NOW + 160)).reason()).isEqualTo("token expired");
    }

    @Test
    void hitPastExpGoesBackToTheVerifierWhateverCaffeinesClockSays() {
        TokenCache cache = new TokenCache(counting, 100, Duration.ofHours(1), ticker);
        String token = KEYS.es256(claims().expirationTime(new Date((NOW + 100) * 1000)).build());
        cache.verify(token, NOW);
        assertThat(((Result.Invalid) cache.verify(token, NOW + 200)).reason()).isEqualTo("token expired");
        assertThat(calls.get()).isEqualTo(2);
    }

    @Test
    void lifetimeIsCappedByMaxTtl() {
        TokenCache cache = new TokenCache(counting, 100, Duration.ofSeconds(10), ticker);
        String token = KEYS.es256(claims().build()); // exp in 600 s
        cache.verify(token, NOW);
        nanos.addAndGet(Duration.ofSeconds(10).toNanos());
        cache.verify(token, NOW + 10);
        assertThat(calls.get()).isEqualTo(2);
    }

    @Test
    void sizeIsBounded() {
        TokenCache cache = new TokenCache(counting, 10, Duration.ofHours(1), ticker);
        for (int i = 0; i < 50; i++) {
            cache.verify(KEYS.es256(claims().claim("n", i).build()), NOW);
        }
        cache.cleanUp();
        assertThat(cache.size()).isLessThanOrEqualTo(10);
    }
}
