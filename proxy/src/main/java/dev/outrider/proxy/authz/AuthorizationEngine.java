package dev.outrider.proxy.authz;

import dev.outrider.proxy.config.DefaultAction;

/**
 * Decides a request against the policies compiled for the workload, with Istio's semantics:
 * <ol>
 *   <li>AUDIT rules only mark the decision ({@link Decision#audited()}); they never change it.</li>
 *   <li>A matching DENY rule denies.</li>
 *   <li>Else, if ALLOW policies apply to the workload, a matching ALLOW rule allows and none denies
 *       ({@code no allow policy matched}; an ALLOW policy without rules, {@code spec: {}}, allows nothing).</li>
 *   <li>Else the configured {@link DefaultAction} decides (Outrider's default: deny).</li>
 * </ol>
 * Dry-run DENY and ALLOW policies are evaluated too, into {@link Decision#shadow()}: the same steps with
 * them enforced alongside the others. They never change the enforced decision.
 *
 * <p>A pure function, callable from any thread. It returns a decision preallocated at compile time unless
 * an AUDIT rule matches or the dry-run outcome differs from the enforced one (then one small object).
 */
public final class AuthorizationEngine {
    private AuthorizationEngine() {
    }

    public static Decision authorize(CompiledPolicies policies, RequestAttributes request) {
        return decide(policies, request, false);
    }

    /**
     * Decides a TCP connection (a tunnel to one of the application's TCP ports) with Istio's TCP semantics: the
     * same policies and steps, with each rule matched by {@link CompiledRule#matchesTcp}: a rule with an
     * HTTP-only field never matches in an ALLOW or AUDIT policy, and is matched without those fields in a DENY
     * policy. {@code connection} carries the source (principal, namespace, address) and the destination port;
     * its HTTP attributes are absent.
     */
    public static Decision authorizeTcp(CompiledPolicies policies, RequestAttributes connection) {
        return decide(policies, connection, true);
    }

    private static Decision decide(CompiledPolicies policies, RequestAttributes request, boolean tcp) {
        CompiledRule denied = CompiledRule.first(policies.deny, request, tcp, true);
        CompiledRule allowed = null;
        Decision enforced;
        if (denied != null) {
            enforced = denied.decision;
        } else if (policies.hasAllow) {
            allowed = CompiledRule.first(policies.allow, request, tcp, false);
            enforced = allowed != null ? allowed.decision : policies.noAllowMatched;
        } else {
            enforced = policies.noPolicy;
        }
        Decision shadow = policies.shadowed ? shadow(policies, request, denied, allowed, enforced, tcp) : null;
        CompiledRule audit = policies.audit.length == 0 ? null
                : CompiledRule.first(policies.audit, request, tcp, false);
        if (audit == null) {
            if (shadow == null) {
                return enforced;
            }
            if (shadow == enforced) {
                return enforced.sameShadow;
            }
        }
        return enforced.with(audit, shadow);
    }

    /** The decision with dry-run policies enforced too; reuses what the enforced pass already found. */
    private static Decision shadow(CompiledPolicies policies, RequestAttributes request, CompiledRule denied,
                                   CompiledRule allowed, Decision enforced, boolean tcp) {
        if (denied != null) {
            return enforced;
        }
        CompiledRule dryDenied = CompiledRule.first(policies.dryRunDeny, request, tcp, true);
        if (dryDenied != null) {
            return dryDenied.decision;
        }
        if (!policies.hasAllowWithDryRun) {
            return enforced; // the default, as enforced
        }
        if (allowed != null) {
            return enforced;
        }
        CompiledRule dryAllowed = CompiledRule.first(policies.dryRunAllow, request, tcp, false);
        return dryAllowed != null ? dryAllowed.decision : policies.noAllowMatched;
    }
}
