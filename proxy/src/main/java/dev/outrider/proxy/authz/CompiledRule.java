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
    /** Some field or condition of the rule is HTTP-only ({@link AttributeMatcher#httpOnly}). */
    private final boolean httpOnlyFields;
    /** The rule without its HTTP-only fields and conditions (the same arrays when it has none). */
    private final AttributeMatcher[][] tcpFrom;
    private final AttributeMatcher[][] tcpTo;
    private final AttributeMatcher[] tcpWhen;

    CompiledRule(String policyId, int index, AttributeMatcher[][] from, AttributeMatcher[][] to,
                 AttributeMatcher[] when, Decision decision) {
        this.policyId = policyId;
        this.index = index;
        this.from = from;
        this.to = to;
        this.when = when;
        this.decision = decision;
        this.tcpFrom = withoutHttpOnly(from);
        this.tcpTo = withoutHttpOnly(to);
        this.tcpWhen = withoutHttpOnly(when);
        this.httpOnlyFields = tcpFrom != from || tcpTo != to || tcpWhen != when;
    }

    /**
     * Istio's TCP semantics (its "TCP Traffic" task and "plain TCP protocols" concept): only {@code from.source}
     * fields other than request principals, {@code to.operation} ports and the conditions on source and
     * destination port apply to a connection. A rule with an HTTP-only field is invalid for TCP: in an ALLOW
     * (or AUDIT) policy it matches no connection ({@code dropHttpOnly} false); in a DENY policy its HTTP-only
     * fields are left out and the rest decides ({@code dropHttpOnly} true), which is more restrictive: a DENY
     * rule with only {@code methods} denies every connection.
     */
    boolean matchesTcp(RequestAttributes r, boolean dropHttpOnly) {
        if (!httpOnlyFields) {
            return matches(r);
        }
        return dropHttpOnly && anyClause(tcpFrom, r) && anyClause(tcpTo, r) && AttributeMatcher.all(tcpWhen, r);
    }

    private static AttributeMatcher[][] withoutHttpOnly(AttributeMatcher[][] clauses) {
        AttributeMatcher[][] out = clauses;
        for (int i = 0; i < clauses.length; i++) {
            AttributeMatcher[] kept = withoutHttpOnly(clauses[i]);
            if (kept != clauses[i]) {
                if (out == clauses) {
                    out = clauses.clone();
                }
                out[i] = kept;
            }
        }
        return out;
    }

    private static AttributeMatcher[] withoutHttpOnly(AttributeMatcher[] ms) {
        for (AttributeMatcher m : ms) {
            if (m.httpOnly()) {
                return java.util.Arrays.stream(ms).filter(x -> !x.httpOnly()).toArray(AttributeMatcher[]::new);
            }
        }
        return ms;
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

    /** The first rule that matches a TCP connection ({@link #matchesTcp}); null when none does. */
    static CompiledRule firstTcp(CompiledRule[] rules, RequestAttributes r, boolean dropHttpOnly) {
        for (CompiledRule rule : rules) {
            if (rule.matchesTcp(r, dropHttpOnly)) {
                return rule;
            }
        }
        return null;
    }

    /**
     * The first matching rule: of an HTTP request ({@code tcp} false), or of a TCP connection in a DENY policy
     * ({@code deny}) or an ALLOW/AUDIT one.
     */
    static CompiledRule first(CompiledRule[] rules, RequestAttributes r, boolean tcp, boolean deny) {
        return tcp ? firstTcp(rules, r, deny) : first(rules, r);
    }
}
