package dev.outrider.proxy.authz;

import dev.outrider.proxy.config.DefaultAction;
import dev.outrider.core.policy.AuthorizationPolicy;
import dev.outrider.core.policy.AuthorizationPolicy.Action;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static java.util.Objects.requireNonNull;

/**
 * The AuthorizationPolicies that apply to one workload, compiled once per snapshot into matchers and
 * preallocated {@link Decision}s, grouped the way {@link AuthorizationEngine} evaluates them: enforced DENY,
 * enforced ALLOW, AUDIT, and the dry-run DENY and ALLOW that only produce the shadow decision.
 *
 * <p>A policy applies when its selector selects the workload's labels and it lives in the workload's
 * namespace or in the mesh's root namespace (which makes it mesh-wide), and names no {@code targetRefs} (those apply
 * to calls to ServiceEntries: {@link #compileTargeting}). Rules keep their policy's order
 * and policies the order of the list, so the decision names the first matching rule in that order.
 *
 * <p>Immutable and safe to share between event loops once published (e.g. through the snapshot's
 * {@code AtomicReference}).
 */
public final class CompiledPolicies {
    final CompiledRule[] deny;
    final CompiledRule[] allow;
    final CompiledRule[] audit;
    final CompiledRule[] dryRunDeny;
    final CompiledRule[] dryRunAllow;
    /** Dry-run policies apply: every decision carries a shadow. */
    final boolean shadowed;
    /** An enforced ALLOW policy applies (even one with no rules): the default action is not used. */
    final boolean hasAllow;
    /** An enforced or dry-run ALLOW policy applies (for the shadow decision). */
    final boolean hasAllowWithDryRun;
    final Decision noAllowMatched;
    final Decision noPolicy;
    private final DefaultAction defaultAction;
    private final int ruleCount;

    private CompiledPolicies(Builder b, DefaultAction defaultAction) {
        this.deny = b.deny.toArray(CompiledRule[]::new);
        this.allow = b.allow.toArray(CompiledRule[]::new);
        this.audit = b.audit.toArray(CompiledRule[]::new);
        this.dryRunDeny = b.dryRunDeny.toArray(CompiledRule[]::new);
        this.dryRunAllow = b.dryRunAllow.toArray(CompiledRule[]::new);
        this.shadowed = b.shadowed;
        this.hasAllow = b.hasAllow;
        this.hasAllowWithDryRun = b.hasAllow || b.hasDryRunAllow;
        this.noAllowMatched = new Decision(false, null, -1, "no allow policy matched", false, shadowed);
        boolean allowByDefault = defaultAction == DefaultAction.ALLOW;
        this.noPolicy = new Decision(allowByDefault, null, -1,
                allowByDefault ? "default allow: no policy" : "default deny: no policy", false, shadowed);
        this.defaultAction = defaultAction;
        this.ruleCount = deny.length + allow.length + audit.length + dryRunDeny.length + dryRunAllow.length;
    }

    /**
     * Compiles the policies that apply to a workload.
     *
     * @param policies          every AuthorizationPolicy of the snapshot (others are skipped)
     * @param workloadLabels    the workload's labels, for selectors
     * @param workloadNamespace the workload's namespace
     * @param rootNamespace     the mesh's root namespace: its policies apply in every namespace
     * @param defaultAction     what decides when no ALLOW policy applies and no DENY rule matched
     * @throws IllegalArgumentException naming the policy and field ({@code policy shop/x: rules[0].to[0].operation.ports[1]: ...})
     *                                  when a value cannot be compiled
     */
    public static CompiledPolicies compile(List<AuthorizationPolicy> policies, Map<String, String> workloadLabels,
                                           String workloadNamespace, String rootNamespace,
                                           DefaultAction defaultAction) {
        requireNonNull(policies, "policies");
        requireNonNull(workloadLabels, "workloadLabels");
        requireNonNull(workloadNamespace, "workloadNamespace");
        requireNonNull(rootNamespace, "rootNamespace");
        requireNonNull(defaultAction, "defaultAction");
        List<AuthorizationPolicy> applying = new ArrayList<>();
        for (AuthorizationPolicy p : policies) {
            String ns = p.metadata().namespace();
            if (!p.targetsServiceEntries() && (ns.equals(workloadNamespace) || ns.equals(rootNamespace))
                    && p.selector().selects(workloadLabels)) {
                applying.add(p);
            }
        }
        return compileApplying(applying, defaultAction);
    }

    /**
     * Compiles the policies whose {@code targetRefs} name one ServiceEntry, for the calling sidecar's outbound path:
     * the same engine and semantics, with Istio's default for a target without policies, allow (the allow-list is
     * the ServiceEntry set); an ALLOW policy among them makes calls that match none of its rules denied.
     *
     * @param targeting the policies targeting the entry (the caller selects them)
     * @throws IllegalArgumentException naming the policy and field when a value cannot be compiled
     */
    public static CompiledPolicies compileTargeting(List<AuthorizationPolicy> targeting) {
        return compileApplying(List.copyOf(requireNonNull(targeting, "targeting")), DefaultAction.ALLOW);
    }

    private static CompiledPolicies compileApplying(List<AuthorizationPolicy> applying, DefaultAction defaultAction) {
        boolean shadowed = false;
        for (AuthorizationPolicy p : applying) {
            shadowed |= p.metadata().dryRun() && p.action() != Action.AUDIT;
        }
        Builder b = new Builder(shadowed);
        for (AuthorizationPolicy p : applying) {
            try {
                b.add(p);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("policy " + p.metadata().id() + ": " + e.getMessage(), e);
            }
        }
        return new CompiledPolicies(b, defaultAction);
    }

    public DefaultAction defaultAction() {
        return defaultAction;
    }

    /** Rules compiled for this workload, all actions and dry-run included. */
    public int ruleCount() {
        return ruleCount;
    }

    private static final class Builder {
        final List<CompiledRule> deny = new ArrayList<>();
        final List<CompiledRule> allow = new ArrayList<>();
        final List<CompiledRule> audit = new ArrayList<>();
        final List<CompiledRule> dryRunDeny = new ArrayList<>();
        final List<CompiledRule> dryRunAllow = new ArrayList<>();
        final boolean shadowed;
        boolean hasAllow;
        boolean hasDryRunAllow;

        Builder(boolean shadowed) {
            this.shadowed = shadowed;
        }

        /**
         * Dry-run applies to ALLOW and DENY (as in Istio); an AUDIT policy enforces nothing, so a dry-run
         * AUDIT policy marks like any other.
         */
        void add(AuthorizationPolicy p) {
            String id = p.metadata().id();
            boolean dryRun = p.metadata().dryRun() && p.action() != Action.AUDIT;
            List<CompiledRule> into = switch (p.action()) {
                case DENY -> dryRun ? dryRunDeny : deny;
                case ALLOW -> dryRun ? dryRunAllow : allow;
                case AUDIT -> audit;
            };
            if (p.action() == Action.ALLOW) {
                if (dryRun) {
                    hasDryRunAllow = true;
                } else {
                    hasAllow = true;
                }
            }
            for (int i = 0; i < p.rules().size(); i++) {
                Decision d = switch (p.action()) {
                    case DENY -> Decision.ofRule(false, "deny", id, i, dryRun, shadowed && !dryRun);
                    case ALLOW -> Decision.ofRule(true, "allow", id, i, dryRun, shadowed && !dryRun);
                    case AUDIT -> null;
                };
                into.add(RuleCompiler.compile(id, i, p.rules().get(i), d));
            }
        }
    }
}
