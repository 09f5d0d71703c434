package dev.outrider.proxy.ratelimit;

import dev.outrider.core.policy.RateLimitPolicy;
import dev.outrider.core.snapshot.RedisSettings;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

import static java.util.Objects.requireNonNull;

/**
 * Per-client throttling for one sidecar: compiles RateLimitPolicy documents into {@link RateLimits} for a
 * policy snapshot, and owns what outlives snapshots: the budgets of each rule ({@link RuleState}, kept across
 * reloads while the rule is unchanged), the bound on tracked keys and the sweeper.
 *
 * <p>The sweeper is one thread for the whole sidecar (no timer or thread per key): every
 * {@code sweepInterval} it retires cells that hold nothing a fresh cell would not (full buckets, zero
 * requests in flight), which gives their slots back to the bound, and drops the tables of retired rules once
 * they are empty. It also logs, at most once a minute, when the bound was reached.
 *
 * <p>Threading: {@link #compile} runs on the thread that compiles snapshots, {@link #inForce} after a
 * snapshot is applied, {@link #sweep} on the sweeper; they share {@link #states} under this object's lock.
 * Event loops never take that lock.
 */
public final class RateLimiter implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RateLimiter.class);
    private static final long FULL_WARNING_INTERVAL = TimeUnit.MINUTES.toNanos(1);

    private final LongSupplier clock;
    private final long origin;
    private final TrackedKeys tracked;
    private final RateLimitMetrics metrics;
    /** Guarded by this. */
    private final Map<RuleIdentity, RuleState> states = new HashMap<>();
    /** The budgets of {@link SourceLimits} made by {@link #sourceLimits}: swept, never retired. Guarded by this. */
    private final List<RuleState> fixed = new ArrayList<>();
    private final ScheduledExecutorService sweeper;
    /** The Redis global rules use now: the bootstrap file's, or the control plane's; null: none. */
    private volatile SharedBudgets shared;
    /** {@link #shared} was given at construction (the bootstrap file's): the control plane's is not used. */
    private final boolean sharedGiven;
    /** What the control plane passed on last. Guarded by this. */
    private RedisSettings controlPlaneRedis;
    private final MeterRegistry registry;
    /** {@link #now} as a supplier, for work that completes off the event loops (a lease's refill). */
    private final LongSupplier limiterClock = this::now;
    /** Global rules whose fallback was logged. Guarded by this. */
    private final Set<RuleIdentity> warnedGlobal = new HashSet<>();
    /** Guarded by this. */
    private long lastOverflow;
    private long lastWarning = -FULL_WARNING_INTERVAL;

    /** A rule's identity across snapshots: a changed rule is a new rule. */
    private record RuleIdentity(String policy, RateLimitPolicy.Rule rule) {
    }

    /**
     * @param maxTracked    the bound on cells of all key tables together
     * @param sweepInterval how often idle cells are retired; zero = never by itself (tests call {@link #sweep})
     * @param clock         nanoseconds, monotonic ({@code System::nanoTime})
     */
    public RateLimiter(long maxTracked, Duration sweepInterval, LongSupplier clock, MeterRegistry registry) {
        this(maxTracked, sweepInterval, clock, registry, null);
    }

    /**
     * @param shared where global rules keep their budgets ({@code rateLimits.redis}; closed with this limiter), or
     *               null: none, or what the control plane passes on ({@link #controlPlaneRedis})
     */
    public RateLimiter(long maxTracked, Duration sweepInterval, LongSupplier clock, MeterRegistry registry,
                       SharedBudgets shared) {
        this.shared = shared;
        this.sharedGiven = shared != null;
        this.registry = requireNonNull(registry, "registry");
        this.clock = requireNonNull(clock, "clock");
        this.origin = clock.getAsLong() - 1; // now() starts at 1: a new cell (0) is a full bucket
        this.tracked = new TrackedKeys(maxTracked);
        this.metrics = new RateLimitMetrics(requireNonNull(registry, "registry"), tracked);
        if (sweepInterval.isZero()) {
            this.sweeper = null;
        } else {
            this.sweeper = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "outrider-ratelimit-sweeper");
                t.setDaemon(true);
                return t;
            });
            long every = sweepInterval.toNanos();
            sweeper.scheduleWithFixedDelay(this::sweepQuietly, every, every, TimeUnit.NANOSECONDS);
        }
    }

    /** Where global rules keep their budgets now, or null. */
    SharedBudgets shared() {
        return shared;
    }

    /**
     * The Redis global rules use now, for {@code /config}: its URI, where it came from ({@code bootstrap} or
     * {@code control plane}), its timeout and whether it answers.
     */
    public record RedisInUse(String uri, String source, Duration timeout, boolean available) {
    }

    /** {@link RedisInUse}, or null: none (global rules run their fallback). */
    public RedisInUse redisInUse() {
        SharedBudgets s = shared;
        return s == null ? null : new RedisInUse(s.uri(), sharedGiven ? "bootstrap" : "control plane", s.timeout(),
                s.available());
    }

    /** {@link #now} as a supplier, for refills that complete off the event loops. */
    LongSupplier clock() {
        return limiterClock;
    }

    /**
     * The Redis the control plane passes on in a snapshot (null: none): used unless the bootstrap file named one;
     * a change connects to the new one (in the background) and closes the old one. A password file that cannot be
     * read leaves global rules on their fallback, said in the log, until a snapshot names another Redis.
     */
    public synchronized void controlPlaneRedis(RedisSettings settings) {
        if (sharedGiven) {
            if (settings != null && !settings.equals(controlPlaneRedis)) {
                log.info("rate limits: the control plane passes on Redis {}; this sidecar keeps rateLimits.redis from"
                        + " its bootstrap file", settings.uri());
            }
            controlPlaneRedis = settings;
            return;
        }
        if (java.util.Objects.equals(settings, controlPlaneRedis)) {
            return;
        }
        controlPlaneRedis = settings;
        SharedBudgets old = shared;
        shared = null;
        if (old != null) {
            old.close(); // first: its meters go, the new one registers its own
        }
        if (settings == null) {
            log.info("rate limits: the control plane passes on no Redis any more; global rules run their fallback");
            return;
        }
        try {
            shared = SharedBudgets.start(settings, registry);
            log.info("rate limits: global rules keep their budgets in Redis {}, from the control plane",
                    settings.uri());
        } catch (java.io.IOException | RuntimeException e) {
            log.error("rate limits: cannot use Redis {} from the control plane ({}); global rules run their fallback",
                    settings.uri(), e.getMessage());
        }
    }

    long now() {
        return clock.getAsLong() - origin;
    }

    /**
     * Compiles the RateLimitPolicies that apply to this workload (already selected), reusing the budgets of
     * rules that are unchanged. Nothing is retired here: that waits for {@link #inForce}.
     */
    public synchronized RateLimits compile(List<RateLimitPolicy> policies) {
        List<LimitRule> rules = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        for (RateLimitPolicy p : policies) {
            String id = p.metadata().id();
            ids.add(id);
            for (RateLimitPolicy.Rule rule : p.rules()) {
                RuleState state = states.computeIfAbsent(new RuleIdentity(id, rule), k -> new RuleState(tracked,
                        rule.overrides().stream().map(RateLimitPolicy.KeyOverride::value).toList()));
                state.retired = false;
                if (rule.global() && shared == null && warnedGlobal.add(new RuleIdentity(id, rule))) {
                    log.warn("RateLimitPolicy {} rule {} has scope: global, and this sidecar has no Redis"
                            + " (rateLimits.redis): it applies the policy's fallback ({}{})", id, rule.name(),
                            p.global().fallback().name().toLowerCase(Locale.ROOT),
                            p.global().fallback() == RateLimitPolicy.Fallback.LOCAL
                                    ? ": the limit divided by " + p.global().replicas() + ", in this sidecar" : "");
                }
                rules.add(new LimitRule(id, p.metadata().name(), p.metadata().dryRun(), p.legacyHeaders(),
                        p.admittedHeaders(), p.global(), rule, state,
                        metrics.countersFor(id, rule.name(), p.metadata().dryRun(), rule.global()), this));
            }
        }
        return new RateLimits(this, rules, ids);
    }

    /**
     * Per-source connection limits (the TCP ports' {@code maxConnectionsPerSource} and
     * {@code connectionsPerSecond}): keyed cells like a rule's, under the same bound on tracked keys and swept
     * by the same sweeper, kept for the sidecar's life.
     */
    public synchronized SourceLimits sourceLimits(long connectionsPerSecond, long burst, long maxOpen) {
        RuleState state = new RuleState(tracked, List.of());
        fixed.add(state);
        return new SourceLimits(this, state, connectionsPerSecond, burst, maxOpen);
    }

    /** {@code applied} is in force: every rule it does not use is retired, and its counters removed. */
    synchronized void inForce(RateLimits applied) {
        Set<RuleState> used = new HashSet<>();
        for (LimitRule r : applied.rules()) {
            used.add(r.state);
        }
        for (RuleState s : states.values()) {
            s.retired = !used.contains(s);
        }
        metrics.retain(List.of(applied.rules()));
    }

    /**
     * Retires idle cells in every table and drops retired rules whose tables are empty.
     *
     * @return how many cells were retired
     */
    public int sweep() {
        List<RuleState> all = new ArrayList<>();
        synchronized (this) {
            all.addAll(states.values());
            all.addAll(fixed);
        }
        long now = now();
        int retired = 0;
        for (RuleState s : all) {
            retired += s.sweep(now);
        }
        synchronized (this) {
            states.values().removeIf(s -> s.retired && s.isEmpty());
            warnedGlobal.retainAll(states.keySet());
        }
        warnIfFull(now);
        return retired;
    }

    private void sweepQuietly() {
        try {
            sweep();
        } catch (RuntimeException e) {
            log.error("rate-limit sweep failed; retrying at the next interval", e);
        }
    }

    private synchronized void warnIfFull(long now) {
        long overflow = tracked.overflowCount();
        if (overflow != lastOverflow && now - lastWarning >= FULL_WARNING_INTERVAL) {
            log.warn("rate limiting tracks its maximum of {} client keys: {} requests of new keys were counted"
                    + " under each rule's shared overflow budget; idle keys free their slots as their budgets"
                    + " refill. Raise rateLimits.maxTracked if this is normal load, or key rules on an"
                    + " authenticated identity (source.principal) rather than on headers",
                    tracked.max(), overflow - lastOverflow);
            lastOverflow = overflow;
            lastWarning = now;
        }
    }

    /** Cells currently held by all key tables. */
    public long trackedKeys() {
        return tracked.count();
    }

    /** Rules whose budgets are kept (in force, or retired and not yet empty). */
    public synchronized int ruleStates() {
        return states.size();
    }

    @Override
    public void close() {
        if (sweeper != null) {
            sweeper.shutdownNow();
        }
        SharedBudgets s;
        synchronized (this) {
            s = shared;
            shared = null;
        }
        if (s != null) {
            s.close();
        }
    }
}
