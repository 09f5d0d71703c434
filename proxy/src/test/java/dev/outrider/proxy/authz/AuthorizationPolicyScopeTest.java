package dev.outrider.proxy.authz;

import dev.outrider.proxy.config.DefaultAction;
import dev.outrider.core.policy.AuthorizationPolicy;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static dev.outrider.core.policy.AuthorizationPolicy.Action.ALLOW;
import static dev.outrider.core.policy.AuthorizationPolicy.Action.AUDIT;
import static dev.outrider.core.policy.AuthorizationPolicy.Action.DENY;
import static dev.outrider.proxy.authz.Policies.any;
import static dev.outrider.proxy.authz.Policies.cond;
import static dev.outrider.proxy.authz.Policies.from;
import static dev.outrider.proxy.authz.Policies.op;
import static dev.outrider.proxy.authz.Policies.policy;
import static dev.outrider.proxy.authz.Policies.src;
import static dev.outrider.proxy.authz.Policies.to;
import static dev.outrider.proxy.authz.Policies.when;
import static dev.outrider.proxy.authz.TestRequest.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Which policies apply (selectors, root namespace), the default action, AUDIT, dry-run, compile errors. */
class AuthorizationPolicyScopeTest {
    static final Map<String, String> ORDERS = Map.of("app", "orders", "version", "v2");
    static final AuthorizationPolicy ALLOW_ALL = policy("shop/allow-all", ALLOW, any());

    static CompiledPolicies compile(DefaultAction defaultAction, AuthorizationPolicy... policies) {
        return CompiledPolicies.compile(List.of(policies), ORDERS, "shop", "outrider-system", defaultAction);
    }

    static Decision decide(TestRequest request, AuthorizationPolicy... policies) {
        return AuthorizationEngine.authorize(compile(DefaultAction.DENY, policies), request);
    }

    @Test
    void defaultAllowWhenConfiguredAndNoAllowPolicy() {
        Decision d = AuthorizationEngine.authorize(compile(DefaultAction.ALLOW), get("/"));
        assertThat(d.allowed()).isTrue();
        assertThat(d.reason()).isEqualTo("default allow: no policy");
        assertThat(d.policy()).isNull();
        assertThat(d.rule()).isEqualTo(-1);
    }

    @Test
    void defaultAllowStillHonoursDeny() {
        CompiledPolicies p = compile(DefaultAction.ALLOW, policy("shop/deny-delete", DENY, to(op().methods("DELETE").build())));
        assertThat(AuthorizationEngine.authorize(p, get("/")).reason()).isEqualTo("default allow: no policy");
        assertThat(AuthorizationEngine.authorize(p, get("/").method("DELETE")).allowed()).isFalse();
    }

    @Test
    void anAllowPolicyReplacesTheDefault() {
        CompiledPolicies p = compile(DefaultAction.ALLOW, policy("shop/only-post", ALLOW, to(op().methods("POST").build())));
        Decision d = AuthorizationEngine.authorize(p, get("/"));
        assertThat(d.allowed()).isFalse();
        assertThat(d.reason()).isEqualTo("no allow policy matched");
    }

    @Test
    void policyForAnotherWorkloadIsIgnored() {
        Decision d = decide(get("/"), policy("shop/payments", Map.of("app", "payments"), ALLOW, false, any()));
        assertThat(d.reason()).isEqualTo("default deny: no policy");
    }

    @Test
    void selectorMatchingEveryLabelApplies() {
        Decision d = decide(get("/"), policy("shop/orders-v2", Map.of("app", "orders", "version", "v2"), ALLOW, false, any()));
        assertThat(d.reason()).isEqualTo("allow policy shop/orders-v2 rule 0");
        assertThat(d.policy()).isEqualTo("shop/orders-v2");
        assertThat(d.rule()).isZero();
    }

    @Test
    void policyInAnotherNamespaceIsIgnored() {
        Decision d = decide(get("/"), policy("payments/allow-all", ALLOW, any()));
        assertThat(d.reason()).isEqualTo("default deny: no policy");
    }

    @Test
    void rootNamespacePolicyAppliesMeshWide() {
        Decision d = decide(get("/").method("DELETE"), ALLOW_ALL,
                policy("outrider-system/no-delete", DENY, to(op().methods("DELETE").build())));
        assertThat(d.reason()).isEqualTo("deny policy outrider-system/no-delete rule 0");
    }

    @Test
    void rootNamespacePolicyHonoursItsSelector() {
        Decision d = decide(get("/").method("DELETE"), ALLOW_ALL,
                policy("outrider-system/no-delete", Map.of("app", "payments"), DENY, false, to(op().methods("DELETE").build())));
        assertThat(d.allowed()).isTrue();
    }

    @Test
    void auditMarksWithoutChangingTheDecision() {
        AuthorizationPolicy audit = policy("shop/audit-admin", AUDIT, to(op().paths("/x").build()), to(op().paths("/admin*").build()));
        Decision d = decide(get("/admin/users"), ALLOW_ALL, audit);
        assertThat(d.allowed()).isTrue();
        assertThat(d.reason()).isEqualTo("allow policy shop/allow-all rule 0");
        assertThat(d.audited()).isTrue();
        assertThat(d.auditPolicy()).isEqualTo("shop/audit-admin");
        assertThat(d.auditRule()).isEqualTo(1);
        assertThat(d).hasToString("ALLOW (allow policy shop/allow-all rule 0), audited by policy shop/audit-admin rule 1");

        Decision denied = decide(get("/admin/users"), audit);
        assertThat(denied.allowed()).isFalse();
        assertThat(denied.reason()).isEqualTo("default deny: no policy");
        assertThat(denied.audited()).isTrue();

        Decision unmarked = decide(get("/orders"), ALLOW_ALL, audit);
        assertThat(unmarked.audited()).isFalse();
        assertThat(unmarked.auditPolicy()).isNull();
        assertThat(unmarked.auditRule()).isEqualTo(-1);
    }

    @Test
    void auditPolicyAloneIsNotAnAllowPolicy() {
        Decision d = AuthorizationEngine.authorize(compile(DefaultAction.ALLOW, policy("shop/audit", AUDIT, any())), get("/"));
        assertThat(d.allowed()).isTrue();
        assertThat(d.reason()).isEqualTo("default allow: no policy");
    }

    @Test
    void dryRunDenyIsReportedNotEnforced() {
        AuthorizationPolicy dryDeny = policy("shop/no-admin", null, DENY, true, to(op().paths("/admin*").build()));
        Decision d = decide(get("/admin/users"), ALLOW_ALL, dryDeny);

        assertThat(d.allowed()).isTrue();
        assertThat(d.reason()).isEqualTo("allow policy shop/allow-all rule 0");
        assertThat(d.dryRun()).isFalse();
        assertThat(d.shadow().allowed()).isFalse();
        assertThat(d.shadow().dryRun()).isTrue();
        assertThat(d.shadow().reason()).isEqualTo("dry-run deny policy shop/no-admin rule 0");
        assertThat(d.shadow().policy()).isEqualTo("shop/no-admin");
        assertThat(d).hasToString("ALLOW (allow policy shop/allow-all rule 0), dry-run: DENY (dry-run deny policy shop/no-admin rule 0)");
    }

    @Test
    void dryRunThatChangesNothingShadowsTheEnforcedDecision() {
        AuthorizationPolicy dryDeny = policy("shop/no-admin", null, DENY, true, to(op().paths("/admin*").build()));
        Decision d = decide(get("/orders"), ALLOW_ALL, dryDeny);
        assertThat(d.allowed()).isTrue();
        assertThat(d.shadow().allowed()).isTrue();
        assertThat(d.shadow().reason()).isEqualTo("allow policy shop/allow-all rule 0");
        assertThat(d.shadow().dryRun()).isFalse();
    }

    @Test
    void dryRunAllowUnderDefaultDenyShowsWhatItWouldAllow() {
        AuthorizationPolicy dryAllow = policy("shop/frontend", null, ALLOW, true, from(src().namespaces("shop").build()));

        Decision fromShop = decide(get("/"), dryAllow);
        assertThat(fromShop.allowed()).isFalse();
        assertThat(fromShop.reason()).isEqualTo("default deny: no policy");
        assertThat(fromShop.shadow().allowed()).isTrue();
        assertThat(fromShop.shadow().reason()).isEqualTo("dry-run allow policy shop/frontend rule 0");

        Decision fromElsewhere = decide(get("/").from("cluster.local/ns/x/sa/y", "x"), dryAllow);
        assertThat(fromElsewhere.allowed()).isFalse();
        assertThat(fromElsewhere.shadow().reason()).isEqualTo("no allow policy matched");
    }

    @Test
    void dryRunAllowUnderDefaultAllowShowsWhatItWouldDeny() {
        AuthorizationPolicy dryAllow = policy("shop/only-get", null, ALLOW, true, to(op().methods("GET").build()));
        Decision d = AuthorizationEngine.authorize(compile(DefaultAction.ALLOW, dryAllow), get("/").method("POST"));
        assertThat(d.allowed()).isTrue();
        assertThat(d.reason()).isEqualTo("default allow: no policy");
        assertThat(d.shadow().allowed()).isFalse();
        assertThat(d.shadow().reason()).isEqualTo("no allow policy matched");
    }

    @Test
    void istioDryRunAnnotationIsHonoured() {
        AuthorizationPolicy p = new AuthorizationPolicy(
                new dev.outrider.core.policy.ObjectMeta("deny-all", "shop", Map.of("istio.io/dry-run", "true")),
                null, DENY, List.of(any()));
        Decision d = decide(get("/"), ALLOW_ALL, p);
        assertThat(d.allowed()).isTrue();
        assertThat(d.shadow().reason()).isEqualTo("dry-run deny policy shop/deny-all rule 0");
    }

    @Test
    void commonPathReturnsThePreallocatedDecision() {
        CompiledPolicies p = compile(DefaultAction.DENY, ALLOW_ALL, policy("shop/no-admin", DENY, to(op().paths("/admin*").build())));
        assertThat(AuthorizationEngine.authorize(p, get("/a"))).isSameAs(AuthorizationEngine.authorize(p, get("/b")));
        assertThat(AuthorizationEngine.authorize(p, get("/admin"))).isSameAs(AuthorizationEngine.authorize(p, get("/admin/x")));

        CompiledPolicies shadowed = compile(DefaultAction.DENY, ALLOW_ALL,
                policy("shop/dry", null, DENY, true, to(op().paths("/admin*").build())));
        assertThat(AuthorizationEngine.authorize(shadowed, get("/a"))).isSameAs(AuthorizationEngine.authorize(shadowed, get("/b")));
    }

    @Test
    void compileErrorsNameThePolicyAndField() {
        assertThatThrownBy(() -> compile(DefaultAction.DENY, policy("shop/bad-port", ALLOW, to(op().ports("http").build()))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("policy shop/bad-port: rules[0].to[0].operation.ports[0]: 'http' is not a port (0-65535)");
        assertThatThrownBy(() -> compile(DefaultAction.DENY, policy("shop/bad-ip", ALLOW, any(), from(src().ipBlocks("10.0.0.0/33").build()))))
                .hasMessage("policy shop/bad-ip: rules[1].from[0].source.ipBlocks[0]: '10.0.0.0/33' has a prefix length outside 0..32");
        assertThatThrownBy(() -> compile(DefaultAction.DENY, policy("shop/bad-host-ip", ALLOW, from(src().ipBlocks("example.com").build()))))
                .hasMessage("policy shop/bad-host-ip: rules[0].from[0].source.ipBlocks[0]: 'example.com' is not an IP address or CIDR block");
        assertThatThrownBy(() -> compile(DefaultAction.DENY, policy("shop/bad-key", ALLOW, when(cond("connection.sni", List.of("a"), null)))))
                .hasMessage("policy shop/bad-key: rules[0].when[0].key: unsupported key 'connection.sni'");
        assertThatThrownBy(() -> compile(DefaultAction.DENY, policy("shop/bad-claim", ALLOW, when(cond("request.auth.claims[]", List.of("a"), null)))))
                .hasMessageStartingWith("policy shop/bad-claim: rules[0].when[0].key: malformed claim key 'request.auth.claims[]'");
        assertThatThrownBy(() -> compile(DefaultAction.DENY, policy("shop/empty-cond", ALLOW, when(cond("source.ip", null, null)))))
                .hasMessage("policy shop/empty-cond: rules[0].when[0]: one of values or notValues is required");
    }

    @Test
    void policiesOfOtherWorkloadsAreNotCompiled() {
        // A policy that would fail to compile is never looked at when it does not apply here.
        CompiledPolicies p = compile(DefaultAction.DENY, policy("payments/bad", ALLOW, to(op().ports("x").build())));
        assertThat(p.ruleCount()).isZero();
    }
}
