package dev.outrider.proxy.ratelimit;

import java.util.Arrays;

/**
 * What throttling took for one request and, when it refused it, why. One instance per request channel,
 * reused request after request (an HTTP/1.1 connection serves one request at a time), so admitting a
 * request allocates nothing once the arrays have grown to the number of rules.
 *
 * <p>Lifecycle: {@link RateLimits#admit} fills it; on refusal the tokens and slots it took were already
 * given back; on admission the request holds its concurrency slots until {@link #release} (the response's
 * end, or the request channel closing).
 *
 * <p>Threading: the request channel's event loop only.
 */
public final class Admission {
    private Cell[] taken = new Cell[2];
    private long[] takenInterval = new long[2];
    private int takenCount;
    private Cell[] held = new Cell[2];
    private int heldCount;

    private LimitRule refusedBy;
    private int refusal;
    private long waitNanos;
    private LimitRule.Limits refusedLimits;
    private LimitRule dryRunRefusedBy;
    private int dryRunRefusal;
    /** The quota left under each rule that puts it on admitted responses ({@code admittedHeaders}). */
    private LimitRule[] quotaRules;
    private LimitRule.Limits[] quotaLimits;
    private long[] quotaRemaining;
    private long[] quotaResetNanos;
    private int quotaCount;
    /** Global rules whose lease was empty ({@link RateLimits#resolve}), with the request's key and the lease. */
    private LimitRule[] deferredRules;
    private String[] deferredKeys;
    private Lease[] deferredLeases;
    private int deferredCount;

    /** Clears the previous request's outcome; its slots must have been released. */
    void reset() {
        takenCount = 0;
        refusedBy = null;
        refusal = LimitRule.ADMITTED;
        waitNanos = 0;
        refusedLimits = null;
        dryRunRefusedBy = null;
        dryRunRefusal = LimitRule.ADMITTED;
        clearQuota();
        clearDeferred();
    }

    /** {@code rule}'s {@code lease} for {@code key} (null: the workload's) was empty: the request waits for it. */
    void defer(LimitRule rule, String key, Lease lease) {
        if (deferredRules == null) {
            deferredRules = new LimitRule[2];
            deferredKeys = new String[2];
            deferredLeases = new Lease[2];
        } else if (deferredCount == deferredRules.length) {
            deferredRules = Arrays.copyOf(deferredRules, deferredCount * 2);
            deferredKeys = Arrays.copyOf(deferredKeys, deferredCount * 2);
            deferredLeases = Arrays.copyOf(deferredLeases, deferredCount * 2);
        }
        deferredRules[deferredCount] = rule;
        deferredKeys[deferredCount] = key;
        deferredLeases[deferredCount++] = lease;
    }

    Lease deferredLease(int i) {
        return deferredLeases[i];
    }

    int deferredCount() {
        return deferredCount;
    }

    LimitRule deferredRule(int i) {
        return deferredRules[i];
    }

    String deferredKey(int i) {
        return deferredKeys[i];
    }

    private void clearDeferred() {
        for (int i = 0; i < deferredCount; i++) {
            deferredRules[i] = null;
            deferredKeys[i] = null;
            deferredLeases[i] = null;
        }
        deferredCount = 0;
    }

    /** Forgets the quota entries (written on the response, or the request went no further). */
    public void clearQuota() {
        for (int i = 0; i < quotaCount; i++) {
            quotaRules[i] = null;
            quotaLimits[i] = null;
        }
        quotaCount = 0;
    }

    /**
     * {@code rule} admitted the request under {@code limits}, leaving {@code remaining} requests admissible at
     * once, its bucket full again in {@code resetNanos}.
     */
    void quota(LimitRule rule, LimitRule.Limits limits, long remaining, long resetNanos) {
        if (quotaRules == null) {
            quotaRules = new LimitRule[2];
            quotaLimits = new LimitRule.Limits[2];
            quotaRemaining = new long[2];
            quotaResetNanos = new long[2];
        } else if (quotaCount == quotaRules.length) {
            quotaRules = Arrays.copyOf(quotaRules, quotaCount * 2);
            quotaLimits = Arrays.copyOf(quotaLimits, quotaCount * 2);
            quotaRemaining = Arrays.copyOf(quotaRemaining, quotaCount * 2);
            quotaResetNanos = Arrays.copyOf(quotaResetNanos, quotaCount * 2);
        }
        quotaRules[quotaCount] = rule;
        quotaLimits[quotaCount] = limits;
        quotaRemaining[quotaCount] = remaining;
        quotaResetNanos[quotaCount++] = Math.max(0, resetNanos);
    }

    /** Whether an admitted request has quota fields for its response ({@link RateLimits#addQuotaHeaders}). */
    public boolean hasQuota() {
        return quotaCount > 0 && refusedBy == null;
    }

    int quotaCount() {
        return quotaCount;
    }

    LimitRule quotaRule(int i) {
        return quotaRules[i];
    }

    LimitRule.Limits quotaLimits(int i) {
        return quotaLimits[i];
    }

    long quotaRemaining(int i) {
        return quotaRemaining[i];
    }

    long quotaResetNanos(int i) {
        return quotaResetNanos[i];
    }

    void took(Cell cell, long interval) {
        if (takenCount == taken.length) {
            taken = Arrays.copyOf(taken, takenCount * 2);
            takenInterval = Arrays.copyOf(takenInterval, takenCount * 2);
        }
        taken[takenCount] = cell;
        takenInterval[takenCount++] = interval;
    }

    void hold(Cell cell) {
        if (heldCount == held.length) {
            held = Arrays.copyOf(held, heldCount * 2);
        }
        held[heldCount++] = cell;
    }

    void refused(LimitRule rule, int why, long waitNanos, LimitRule.Limits limits) {
        if (rule.dryRun) {
            if (dryRunRefusedBy == null) {
                dryRunRefusedBy = rule;
                dryRunRefusal = why;
            }
            return;
        }
        this.refusedBy = rule;
        this.refusal = why;
        this.waitNanos = waitNanos;
        this.refusedLimits = limits;
    }

    /** An enforcing rule refused: gives back every token and slot this request took from earlier rules. */
    void rollback(long now) {
        for (int i = 0; i < takenCount; i++) {
            Gcra.refund(taken[i], now, takenInterval[i]);
            taken[i] = null;
        }
        takenCount = 0;
        clearDeferred();
        release();
    }

    /** The request ended: leaves its concurrency slots. Idempotent. */
    public void release() {
        for (int i = 0; i < heldCount; i++) {
            InFlight.leave(held[i]);
            held[i] = null;
        }
        heldCount = 0;
    }

    /** Whether the request holds concurrency slots to {@link #release}. */
    public boolean holdsSlots() {
        return heldCount > 0;
    }

    /** Whether an enforcing rule refused the request. */
    public boolean refused() {
        return refusedBy != null;
    }

    /** A rate limit refused it (429); otherwise a concurrency limit (503). Only when {@link #refused()}. */
    public boolean rateLimited() {
        return refusal == LimitRule.RATE_LIMITED;
    }

    /** Whole seconds until a retry may be admitted: at least 1. */
    public long retryAfterSeconds() {
        return Math.max(1, (waitNanos + 999_999_999L) / 1_000_000_000L);
    }

    /** For the access log: which rule refused (or would have, in dry run), or null when none did. */
    public String logText() {
        if (refusedBy != null) {
            return describe(refusedBy, refusal);
        }
        return dryRunRefusedBy == null ? null : "dry run: " + describe(dryRunRefusedBy, dryRunRefusal);
    }

    /** The policy ({@code namespace/name}) of the rule that refused the request, or would have in dry run; or null. */
    public String refusingPolicy() {
        LimitRule r = refusedBy != null ? refusedBy : dryRunRefusedBy;
        return r == null ? null : r.policy;
    }

    /** The name of the rule that refused the request, or would have in dry run; or null. */
    public String refusingRule() {
        LimitRule r = refusedBy != null ? refusedBy : dryRunRefusedBy;
        return r == null ? null : r.name;
    }

    /** Whether a dry-run rule would have refused the request (it was admitted). */
    public boolean dryRunRefused() {
        return dryRunRefusedBy != null;
    }

    private static String describe(LimitRule rule, int why) {
        return (why == LimitRule.RATE_LIMITED ? "rate limited by " : "concurrency limited by ")
                + rule.policy + " rule " + rule.name;
    }

    LimitRule refusedBy() {
        return refusedBy;
    }

    LimitRule.Limits refusedLimits() {
        return refusedLimits;
    }
}
