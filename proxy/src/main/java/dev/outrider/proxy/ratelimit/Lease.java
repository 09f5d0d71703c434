package dev.outrider.proxy.ratelimit;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;

/**
 * This sidecar's share of one shared budget (a {@code scope: global} rule, and a key): tokens Redis granted it and
 * it has not spent yet. Requests spend them here, without a call; Redis is asked again in the background when
 * half of the last grant is spent, so under steady load requests do not wait for Redis. Only a request that finds
 * the lease empty waits, for the refill (one call, shared by every request that waits for it). A refusal by Redis
 * is kept until the time Redis gave for the next token: requests until then are refused here, without a call.
 *
 * <p>Size: a refill asks for what this sidecar spent from the lease over the last {@link #HORIZON_NANOS} (20 ms at
 * the rate it saw since the last grant), at least one token and at most {@link #maxTokens}: a quarter of the burst
 * and 20 ms of the rule's rate. A cold key starts with one token, and the lease grows with the load.
 *
 * <p>What a lease holds is used only while Redis has stayed available since it was learned ({@link SharedBudgets#epoch}):
 * after an outage the first request asks Redis again, which may have lost its budgets.
 *
 * <p>Accuracy: every token spent was granted by Redis, where the budget is the same GCRA as the local limiter's.
 * A token is spent at most {@link #TTL_NANOS} after its grant (unspent tokens then expire, and are lost), and one
 * sidecar holds at most 1.5 leases at a time (a refill starts with half the last grant left). So over any window,
 * N sidecars admit at most what the limit admits in that window plus 1.5 × N × {@code maxTokens}; and at most
 * N × {@code maxTokens} tokens per second are lost to expiry (held by a sidecar whose callers stopped), which is
 * the bound by which a busy sidecar can be refused early.
 *
 * <p>Thread-safe: {@link #take} from any event loop (a compare-and-set, no allocation), refills completed on the
 * Redis client's threads.
 */
final class Lease {
    /** A refill asks for what this sidecar would spend in this time at the rate it saw. */
    static final long HORIZON_NANOS = 20_000_000L;
    /** A granted token not spent within this is dropped. */
    static final long TTL_NANOS = 1_000_000_000L;
    /** {@link #take}: no token here, no refusal known: a refill decides. */
    static final long EMPTY = Long.MIN_VALUE;

    /** The Redis key of the shared bucket. */
    final String bucket;
    /** Microseconds per token and burst × interval, as Redis takes them. */
    final long intervalMicros;
    final long capacityMicros;
    /** The most one refill asks for. */
    final long maxTokens;

    private final AtomicLong tokens = new AtomicLong();
    /** Spent since the last grant: the demand a refill is sized on. */
    private final AtomicLong spent = new AtomicLong();
    private final AtomicReference<CompletableFuture<Void>> refill = new AtomicReference<>();
    /** On the limiter's clock; tokens are not spent from this time on. */
    private volatile long expiresAt;
    /** Redis refused: no token before this time (limiter clock). */
    private volatile long refusedUntil;
    /** Tokens Redis could still grant at the last answer, for the quota fields. */
    private volatile long redisRemaining;
    private volatile long grantedAt;
    private volatile long lastGranted;
    /** {@link SharedBudgets#epoch} of what this lease holds. */
    private volatile int epoch;
    /** The last {@link #take}: an idle lease is dropped by the sweeper. */
    private volatile long lastUse;

    Lease(String bucket, LimitRule.Limits limits) {
        this.bucket = bucket;
        this.intervalMicros = Math.max(1, limits.interval() / 1000);
        this.capacityMicros = Math.max(intervalMicros, limits.capacity() / 1000);
        long burst = Math.max(1, limits.limit().burst());
        long perHorizon = Math.max(1, HORIZON_NANOS / Math.max(1, limits.interval()));
        this.maxTokens = Math.max(1, Math.min(burst / 4, perHorizon));
    }

    /**
     * Spends one token.
     *
     * @return the tokens left here (0 or more) when one was spent; {@link #EMPTY}; or, while Redis's last answer
     *         was a refusal, minus the nanoseconds until the next token
     */
    long take(long now, int currentEpoch) {
        lastUse = now;
        if (epoch != currentEpoch) {
            return EMPTY; // learned before an outage: Redis decides again
        }
        for (;;) {
            long t = tokens.get();
            if (t <= 0) {
                break;
            }
            if (now - expiresAt >= 0) {
                tokens.compareAndSet(t, 0); // expired: lost (Redis counted them)
                break;
            }
            if (tokens.compareAndSet(t, t - 1)) {
                spent.incrementAndGet();
                return t - 1;
            }
        }
        long until = refusedUntil;
        return now - until < 0 ? -(until - now) : EMPTY;
    }

    /** Whether a refill should start after a take left {@code left}: half of the last grant is spent. */
    boolean low(long left) {
        return left <= lastGranted / 2 && refill.get() == null;
    }

    /** Tokens Redis could still grant, plus those held here: the quota a response reports. */
    long remaining(long left) {
        return left + redisRemaining;
    }

    /**
     * The refill in flight, or a new one: one call to Redis for the tokens this sidecar is expected to spend
     * next. Completes (on a Redis client thread) once the answer is in the lease; exceptionally when Redis did
     * not answer in time or failed.
     */
    CompletableFuture<Void> refill(SharedBudgets shared, RedisBudgets budgets, LongSupplier clock) {
        for (;;) {
            CompletableFuture<Void> running = refill.get();
            if (running != null) {
                return running;
            }
            CompletableFuture<Void> mine = new CompletableFuture<>();
            if (!refill.compareAndSet(null, mine)) {
                continue;
            }
            long wanted = wanted(clock.getAsLong());
            CompletableFuture<RedisBudgets.Grant> call;
            try {
                call = shared.take(budgets, bucket, intervalMicros, capacityMicros, wanted);
            } catch (RuntimeException e) { // whatever happens, the waiting requests get their answer
                call = CompletableFuture.failedFuture(e);
            }
            call.whenComplete((grant, failure) -> {
                if (grant != null) {
                    granted(grant, clock.getAsLong(), shared.epoch());
                }
                refill.set(null);
                if (failure != null) {
                    mine.completeExceptionally(failure);
                } else {
                    mine.complete(null);
                }
            });
            return mine;
        }
    }

    private long wanted(long now) {
        long elapsed = Math.max(1_000_000L, now - grantedAt);
        long demand = (long) Math.ceil((double) spent.get() * HORIZON_NANOS / elapsed);
        return Math.max(1, Math.min(maxTokens, demand));
    }

    private void granted(RedisBudgets.Grant g, long now, int currentEpoch) {
        boolean expired = now - expiresAt >= 0 || epoch != currentEpoch;
        redisRemaining = g.remaining();
        if (g.granted() <= 0) {
            refusedUntil = now + Math.max(1, g.waitMicros()) * 1000;
            if (expired) {
                tokens.set(0);
            }
            epoch = currentEpoch;
            return;
        }
        expiresAt = now + TTL_NANOS; // before the tokens: a take that sees them sees their time
        refusedUntil = now;
        lastGranted = g.granted();
        grantedAt = now;
        spent.set(0);
        if (expired) {
            tokens.set(g.granted());
        } else {
            tokens.addAndGet(g.granted());
        }
        epoch = currentEpoch; // last: a take that sees it sees the rest
    }

    /** Nothing held, nothing known, no refill running: dropping it loses nothing. */
    boolean idle(long now) {
        return refill.get() == null && now - lastUse - TTL_NANOS >= 0 && (tokens.get() == 0 || now - expiresAt >= 0)
                && now - refusedUntil >= 0;
    }
}
