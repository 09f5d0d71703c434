package dev.outrider.proxy.authz;

/**
 * One rule of one policy, compiled: {@code from} (any clause, each clause every field), {@code to} (the
 * same) and {@code when} (every condition); an empty {@code from} or {@code to} does not constrain, so a rule
 * with nothing set ({@code rules: [{}]}) matches every request. Carries its preallocated {@link Decision}.
 * Immutable.
 */
final class CompiledRule {
    final String policyId;
    final int index;
    private final AttributeMatcher[][] from;
    private final AttributeMatcher[][] to;
    private final AttributeMatcher[] when;
    /** What this rule decides when it matches (null for AUDIT rules, which only mark). */
    final Decision decision;

    CompiledRule(String policyId, int index, AttributeMatcher[][] from, AttributeMatcher[][] to,
                 AttributeMatcher[] when, Decision decision) {
        this.policyId = policyId;
        this.index = index;
        this.from = from;
        this.to = to;
        this.when = when;
        this.decision = decision;
    }

    boolean matches(RequestAttributes r) {
        return anyClause(from, r) && anyClause(to, r) && AttributeMatcher.all(when, r);
    }

    private static boolean anyClause(AttributeMatcher[][] clauses, RequestAttributes r) {
        if (clauses.length == 0) {
            return true;
        }
        for (AttributeMatcher[] clause : clauses) {
            if (AttributeMatcher.all(clause, r)) {
                return true;
            }
        }
        return false;
    }

    /** The first rule that matches, in order; null when none does. */
    static CompiledRule first(CompiledRule[] rules, RequestAttributes r) {
        for (CompiledRule rule : rules) {
            if (rule.matches(r)) {
                return rule;
            }
        }
        return null;
    }
}
