package dev.outrider.proxy.ratelimit;

import static java.util.Objects.requireNonNull;

/**
 * Connection limits per source identity, for the TCP ports: new connections per second ({@link Gcra}, with a
 * burst) and open connections ({@link InFlight}) of one caller. The cells live in a {@link RuleState} the
 * {@link RateLimiter} sweeps and bounds like a rule's ({@link RateLimiter#sourceLimits}), so a flood of
 * distinct identities neither grows memory nor gets a fresh budget each.
 *
 * <p>Thread-safe, lock-free: any event loop admits and releases at once.
 */
public final class SourceLimits {
    /** Why a connection was refused; the {@code reason} tag of the TCP refusal counter. */
    public enum Refusal {
        /** The caller opened more than {@code connectionsPerSecond} (plus its burst). */
        SOURCE_RATE,
        /** The caller has {@code maxConnectionsPerSource} open. */
        SOURCE_LIMIT
    }

    /** An admitted connection's hold on its caller's open-connection count; released once, when it closes. */
    public static final class Permit {
        private final Cell open;
        private boolean released;

        private Permit(Cell open) {
            this.open = open;
        }

        /** Gives the connection's place back; only the first call counts. Event loop of its connection only. */
        public void release() {
            if (!released) {
                released = true;
                InFlight.leave(open);
            }
        }
    }

    /** What {@link #admit} decided: a permit, or the refusal. */
    public record Admission(Permit permit, Refusal refusal) {
        public boolean admitted() {
            return permit != null;
        }
    }

    private static final Admission RATE_REFUSED = new Admission(null, Refusal.SOURCE_RATE);
    private static final Admission LIMIT_REFUSED = new Admission(null, Refusal.SOURCE_LIMIT);
    /** The key of connections without a caller identity (plaintext inbound, development only). */
    private static final String ANONYMOUS = "";

    private final RateLimiter limiter;
    private final RuleState state;
    private final long interval;
    private final long capacity;
    private final long maxOpen;

    SourceLimits(RateLimiter limiter, RuleState state, long connectionsPerSecond, long burst, long maxOpen) {
        if (connectionsPerSecond < 1 || connectionsPerSecond > 1_000_000_000L || burst < 1 || maxOpen < 1) {
            throw new IllegalArgumentException("source limits must be positive: " + connectionsPerSecond + "/s, burst "
                    + burst + ", " + maxOpen + " open");
        }
        this.limiter = requireNonNull(limiter, "limiter");
        this.state = requireNonNull(state, "state");
        this.interval = 1_000_000_000L / connectionsPerSecond;
        this.capacity = burst * interval;
        this.maxOpen = maxOpen;
    }

    /**
     * Admits a new connection of {@code source} (a principal; null: no identity): takes a token of its rate,
     * then a place among its open connections; a connection refused for being one too many gives its token
     * back, so only connections that were let in use up the rate.
     */
    public Admission admit(String source) {
        String key = source == null ? ANONYMOUS : source;
        long now = limiter.now();
        Cell rate;
        for (;;) {
            rate = state.rates.cell(key);
            long r = Gcra.acquire(rate, now, interval, capacity);
            if (r == Gcra.RETIRED) {
                state.rates.forget(key, rate);
                continue;
            }
            if (r < 0) {
                return RATE_REFUSED;
            }
            break;
        }
        for (;;) {
            Cell open = state.inFlight.cell(key);
            switch (InFlight.enter(open, maxOpen)) {
                case InFlight.ENTERED:
                    return new Admission(new Permit(open), null);
                case InFlight.FULL:
                    Gcra.refund(rate, now, interval);
                    return LIMIT_REFUSED;
                default:
                    state.inFlight.forget(key, open);
            }
        }
    }
}
