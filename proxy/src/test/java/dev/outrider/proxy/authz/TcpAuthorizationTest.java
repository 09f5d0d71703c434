package dev.outrider.proxy.authz;

import dev.outrider.core.policy.AuthorizationPolicy;
import dev.outrider.proxy.config.DefaultAction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static dev.outrider.core.policy.AuthorizationPolicy.Action.ALLOW;
import static dev.outrider.core.policy.AuthorizationPolicy.Action.AUDIT;
import static dev.outrider.core.policy.AuthorizationPolicy.Action.DENY;
import static dev.outrider.proxy.authz.Policies.any;
import static dev.outrider.proxy.authz.Policies.cond;
import static dev.outrider.proxy.authz.Policies.from;
import static dev.outrider.proxy.authz.Policies.op;
import static dev.outrider.proxy.authz.Policies.policy;
import static dev.outrider.proxy.authz.Policies.rule;
import static dev.outrider.proxy.authz.Policies.src;
import static dev.outrider.proxy.authz.Policies.to;
import static dev.outrider.proxy.authz.Policies.when;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * {@link AuthorizationEngine#authorizeTcp}: Istio's TCP semantics, case by case as its "TCP Traffic" task walks
 * them (tcp-echo on ports 9000 and 9001): only source fields and ports apply; an ALLOW rule with an HTTP-only field
 * matches no connection; a DENY rule's HTTP-only fields are left out (so {@code methods: [GET]} alone denies every
 * connection). The same policies decide an HTTP request as before, which each case checks too.
 */
class TcpAuthorizationTest {
    static final String FRONTEND = "cluster.local/ns/shop/sa/frontend";
    static final String PAYMENTS = "cluster.local/ns/payments/sa/payments";

    static ConnectionAttributes connection(String principal, int port) {
        String ns = principal == null ? null : principal.split("/")[2];
        return new ConnectionAttributes(principal, ns, new byte[]{10, 0, 0, 7}, "10.0.0.7", port);
    }

    static Stream<Arguments> cases() {
        AuthorizationPolicy allowPorts = policy("shop/tcp", ALLOW, to(op().ports("9000", "9001").build()));
        AuthorizationPolicy allowGetOn9000 = policy("shop/tcp", ALLOW, to(op().methods("GET").ports("9000").build()));
        AuthorizationPolicy denyGet = policy("shop/tcp", DENY, to(op().methods("GET").build()));
        AuthorizationPolicy denyGetOn9000 = policy("shop/tcp", DENY, to(op().methods("GET").ports("9000").build()));
        AuthorizationPolicy allowAll = policy("shop/all", ALLOW, any());
        AuthorizationPolicy allowFrontend = policy("shop/frontend", ALLOW,
                rule(List.of(src().principals(FRONTEND).build()), List.of(op().ports("9000").build()), List.of()));
        return Stream.of(
                arguments("ALLOW ports: 9000 allowed", List.of(allowPorts), connection(FRONTEND, 9000),
                        "ALLOW: allow policy shop/tcp rule 0"),
                arguments("ALLOW ports: 9002 not in the rule", List.of(allowPorts), connection(FRONTEND, 9002),
                        "DENY: no allow policy matched"),
                arguments("ALLOW with methods: the rule is invalid for TCP", List.of(allowGetOn9000),
                        connection(FRONTEND, 9000), "DENY: no allow policy matched"),
                arguments("ALLOW with paths in another clause of the same rule", List.of(policy("shop/tcp", ALLOW,
                        rule(List.of(), List.of(op().ports("9000").build(), op().paths("/x").build()), List.of()))),
                        connection(FRONTEND, 9000), "DENY: no allow policy matched"),
                arguments("ALLOW with requestPrincipals", List.of(policy("shop/jwt", ALLOW,
                        from(src().requestPrincipals("*").build()))), connection(FRONTEND, 9000),
                        "DENY: no allow policy matched"),
                arguments("ALLOW with a request.headers condition", List.of(policy("shop/h", ALLOW,
                        when(cond("request.headers[x-a]", List.of("1"), null)))), connection(FRONTEND, 9000),
                        "DENY: no allow policy matched"),
                arguments("ALLOW with hosts", List.of(policy("shop/h", ALLOW, to(op().hosts("orders").build()))),
                        connection(FRONTEND, 9000), "DENY: no allow policy matched"),
                arguments("ALLOW with a request.auth.claims condition", List.of(policy("shop/c", ALLOW,
                        when(cond("request.auth.claims[groups]", List.of("admin"), null)))),
                        connection(FRONTEND, 9000), "DENY: no allow policy matched"),
                arguments("an invalid ALLOW rule does not hide a valid one", List.of(allowGetOn9000, allowPorts),
                        connection(FRONTEND, 9001), "ALLOW: allow policy shop/tcp rule 0"),
                arguments("principal and port allowed", List.of(allowFrontend), connection(FRONTEND, 9000),
                        "ALLOW: allow policy shop/frontend rule 0"),
                arguments("another principal", List.of(allowFrontend), connection(PAYMENTS, 9000),
                        "DENY: no allow policy matched"),
                arguments("no principal (no certificate)", List.of(allowFrontend), connection(null, 9000),
                        "DENY: no allow policy matched"),
                arguments("source.namespace and destination.port conditions apply", List.of(policy("shop/w", ALLOW,
                        rule(List.of(), List.of(), List.of(cond("source.namespace", List.of("shop"), null),
                                cond("destination.port", List.of("9000"), null))))),
                        connection(FRONTEND, 9000), "ALLOW: allow policy shop/w rule 0"),
                arguments("DENY with methods only: every connection denied", List.of(allowAll, denyGet),
                        connection(FRONTEND, 9001), "DENY: deny policy shop/tcp rule 0"),
                arguments("DENY methods + ports 9000: 9000 denied", List.of(allowAll, denyGetOn9000),
                        connection(FRONTEND, 9000), "DENY: deny policy shop/tcp rule 0"),
                arguments("DENY methods + ports 9000: 9001 allowed", List.of(allowAll, denyGetOn9000),
                        connection(FRONTEND, 9001), "ALLOW: allow policy shop/all rule 0"),
                arguments("DENY notRequestPrincipals: left out, so deny all", List.of(allowAll, policy("shop/d", DENY,
                        from(src().notRequestPrincipals("*").build()))), connection(FRONTEND, 9000),
                        "DENY: deny policy shop/d rule 0"),
                arguments("DENY header condition with a principal: the principal decides", List.of(allowAll,
                        policy("shop/d", DENY, rule(List.of(src().principals(PAYMENTS).build()), List.of(),
                                List.of(cond("request.headers[x-a]", List.of("1"), null))))),
                        connection(FRONTEND, 9000), "ALLOW: allow policy shop/all rule 0"),
                arguments("DENY header condition with a principal: that principal denied", List.of(allowAll,
                        policy("shop/d", DENY, rule(List.of(src().principals(PAYMENTS).build()), List.of(),
                                List.of(cond("request.headers[x-a]", List.of("1"), null))))),
                        connection(PAYMENTS, 9000), "DENY: deny policy shop/d rule 0"),
                arguments("DENY without HTTP fields: as for HTTP", List.of(allowAll, policy("shop/d", DENY,
                        to(op().notPorts("9000").build()))), connection(FRONTEND, 9001),
                        "DENY: deny policy shop/d rule 0"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void decidesConnections(String name, List<AuthorizationPolicy> policies, ConnectionAttributes connection,
                            String expected) {
        Decision d = AuthorizationEngine.authorizeTcp(compile(policies), connection);

        assertThat((d.allowed() ? "ALLOW: " : "DENY: ") + d.reason()).isEqualTo(expected);
    }

    @Test
    void httpRequestsKeepTheirSemantics() {
        CompiledPolicies p = compile(List.of(policy("shop/tcp", ALLOW, to(op().methods("GET").ports("9000").build())),
                policy("shop/d", DENY, to(op().methods("DELETE").build()))));

        assertThat(AuthorizationEngine.authorize(p, TestRequest.get("/").port(9000)).allowed())
                .as("GET on 9000 over HTTP matches the rule").isTrue();
        assertThat(AuthorizationEngine.authorizeTcp(p, connection(FRONTEND, 9000)).reason())
                .as("over TCP the DENY rule's methods are left out").isEqualTo("deny policy shop/d rule 0");
    }

    @Test
    void auditRulesWithHttpFieldsDoNotMarkConnections() {
        CompiledPolicies p = compile(List.of(policy("shop/all", ALLOW, any()),
                policy("shop/audit-get", AUDIT, to(op().methods("GET").build())),
                policy("shop/audit-9000", AUDIT, to(op().ports("9000").build()))));

        Decision d = AuthorizationEngine.authorizeTcp(p, connection(FRONTEND, 9000));

        assertThat(d.allowed()).isTrue();
        assertThat(d.auditPolicy()).isEqualTo("shop/audit-9000");
    }

    @Test
    void dryRunDenyWithHttpFieldsShadowsEveryConnection() {
        CompiledPolicies p = compile(List.of(policy("shop/all", ALLOW, any()),
                policy("shop/dry", Map.of(), DENY, true, to(op().paths("/admin").build()))));

        Decision d = AuthorizationEngine.authorizeTcp(p, connection(FRONTEND, 9000));

        assertThat(d.allowed()).isTrue();
        assertThat(d.shadow()).isNotNull();
        assertThat(d.shadow().allowed()).isFalse();
    }

    private static CompiledPolicies compile(List<AuthorizationPolicy> policies) {
        return CompiledPolicies.compile(policies, Map.of("app", "orders"), "shop", "outrider-system",
                DefaultAction.DENY);
    }
}
