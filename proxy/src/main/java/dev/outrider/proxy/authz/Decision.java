package dev.outrider.proxy.authz;

/**
 * The outcome of {@link AuthorizationEngine#authorize}: allowed or denied, which policy and rule decided
 * (or none, for the default and "no allow policy matched"), and why, in words fit for a log line:
 * {@code deny policy shop/x rule 0}, {@code allow policy shop/y rule 2}, {@code no allow policy matched},
 * {@code default deny: no policy}, {@code default allow: no policy}.
 *
 * <p>Two marks ride along without changing the outcome: {@link #audited()} (an AUDIT rule matched; it
 * names the first) and {@link #shadow()} (present when dry-run policies apply to the workload: the decision
 * that would be enforced were they enforced too; {@link #dryRun()} is true on it when a dry-run rule
 * decided it).
 *
 * <p>Decisions are built when policies are compiled, one per rule and one per default outcome, so the
 * common request allocates nothing. A request that an AUDIT rule marks, or whose dry-run outcome differs
 * from the enforced one, gets one small object combining the preallocated parts. Immutable.
 */
public final class Decision {
    private final boolean allowed;
    private final String policy;
    private final int rule;
    private final String reason;
    private final boolean dryRun;
    private final String auditPolicy;
    private final int auditRule;
    private final Decision shadow;
    /** This decision with {@link #shadow()} = itself; built only when dry-run policies apply. */
    final Decision sameShadow;

    /**
     * A preallocated outcome.
     *
     * @param policy           {@code namespace/name}, or null when no policy decided
     * @param rule             rule index within the policy, or -1
     * @param withShadowVariant also build {@link #sameShadow} (dry-run policies apply to the workload)
     */
    Decision(boolean allowed, String policy, int rule, String reason, boolean dryRun, boolean withShadowVariant) {
        this.allowed = allowed;
        this.policy = policy;
        this.rule = rule;
        this.reason = reason;
        this.dryRun = dryRun;
        this.auditPolicy = null;
        this.auditRule = -1;
        this.shadow = null;
        // Last: the variant reads the fields assigned above.
        this.sameShadow = withShadowVariant ? new Decision(this, null, -1, this) : this;
    }

    private Decision(Decision base, String auditPolicy, int auditRule, Decision shadow) {
        this.allowed = base.allowed;
        this.policy = base.policy;
        this.rule = base.rule;
        this.reason = base.reason;
        this.dryRun = base.dryRun;
        this.auditPolicy = auditPolicy;
        this.auditRule = auditRule;
        this.shadow = shadow;
        this.sameShadow = this;
    }

    /** The slow path: an AUDIT mark, or a dry-run outcome that differs from this one. */
    Decision with(CompiledRule audit, Decision shadow) {
        return new Decision(this, audit == null ? null : audit.policyId, audit == null ? -1 : audit.index, shadow);
    }

    static Decision ofRule(boolean allowed, String kind, String policyId, int rule, boolean dryRun,
                           boolean withShadowVariant) {
        String reason = (dryRun ? "dry-run " : "") + kind + " policy " + policyId + " rule " + rule;
        return new Decision(allowed, policyId, rule, reason, dryRun, withShadowVariant);
    }

    public boolean allowed() {
        return allowed;
    }

    /** {@code namespace/name} of the deciding policy; null for a default or "no allow policy matched". */
    public String policy() {
        return policy;
    }

    /** Index of the deciding rule in its policy's {@code rules}; -1 when no rule decided. */
    public int rule() {
        return rule;
    }

    /** Why, e.g. {@code deny policy shop/x rule 0}. */
    public String reason() {
        return reason;
    }

    /** True on a shadow decision that a dry-run policy decided. */
    public boolean dryRun() {
        return dryRun;
    }

    /** An AUDIT rule matched the request: log it as audited. */
    public boolean audited() {
        return auditPolicy != null;
    }

    /** {@code namespace/name} of the first matching AUDIT policy, or null. */
    public String auditPolicy() {
        return auditPolicy;
    }

    /** Index of the first matching AUDIT rule, or -1. */
    public int auditRule() {
        return auditRule;
    }

    /**
     * With dry-run policies applying to the workload: what would be decided were they enforced too (this
     * decision's own outcome when they change nothing). Null when no dry-run policy applies.
     */
    public Decision shadow() {
        return shadow;
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder(allowed ? "ALLOW (" : "DENY (").append(reason).append(')');
        if (auditPolicy != null) {
            b.append(", audited by policy ").append(auditPolicy).append(" rule ").append(auditRule);
        }
        if (shadow != null) {
            b.append(", dry-run: ").append(shadow.allowed ? "ALLOW (" : "DENY (").append(shadow.reason).append(')');
        }
        return b.toString();
    }
}
