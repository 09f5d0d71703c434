package dev.outrider.proxy.authz;

import dev.outrider.proxy.config.DefaultAction;
import dev.outrider.core.policy.AuthorizationPolicy;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static dev.outrider.core.policy.AuthorizationPolicy.Action.ALLOW;
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
import static dev.outrider.proxy.authz.TestRequest.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * Istio's documented AuthorizationPolicy examples and the edges of each field, as a table: policies, one
 * request, the expected outcome and reason. The workload is {@code app=orders} in {@code shop}; default deny.
 */
class AuthorizationEngineTest {
    static final String FRONTEND = "cluster.local/ns/shop/sa/frontend";
    static final String PAYMENTS = "cluster.local/ns/payments/sa/payments";

    static Stream<Arguments> cases() {
        AuthorizationPolicy allowAll = policy("shop/allow-all", ALLOW, any());
        AuthorizationPolicy allowFrontend = policy("shop/frontend", ALLOW, from(src().principals(FRONTEND).build()));
        AuthorizationPolicy allowGetInfo = policy("shop/get-info", ALLOW, rule(
                List.of(src().principals("cluster.local/ns/shop/sa/sleep").build()),
                List.of(op().methods("GET").paths("/info*").build()), List.of()));
        AuthorizationPolicy denyDelete = policy("shop/deny-delete", DENY, to(op().methods("DELETE").build()));
        AuthorizationPolicy healthExempt = policy("shop/only-shop", DENY, rule(
                List.of(src().notNamespaces("shop").build()), List.of(op().notPaths("/healthz").build()), List.of()));
        AuthorizationPolicy requireJwt = policy("shop/require-jwt", ALLOW, from(src().requestPrincipals("*").build()));
        AuthorizationPolicy denyNoJwt = policy("shop/deny-no-jwt", DENY, from(src().notRequestPrincipals("*").build()));
        AuthorizationPolicy admins = policy("shop/admins", ALLOW,
                when(cond("request.auth.claims[groups]", List.of("admin"), null)));
        AuthorizationPolicy cidr = policy("shop/cidr", ALLOW, from(src().ipBlocks("10.0.0.0/8", "2001:db8::/32").build()));
        AuthorizationPolicy hosts = policy("shop/hosts", ALLOW, to(op().hosts("orders.shop.svc.cluster.local").build()));
        AuthorizationPolicy ports = policy("shop/ports", ALLOW, to(op().ports("8080").build()));
        String gw = "cluster.local/ns/istio-system/sa/gateway";
        return Stream.of(
                // The empty cases.
                arguments("no policy: default deny", List.of(), get("/"), "DENY: default deny: no policy"),
                arguments("allow-nothing (spec: {})", List.of(policy("shop/allow-nothing", ALLOW)), get("/"),
                        "DENY: no allow policy matched"),
                arguments("deny-all (rules: [{}])", List.of(allowAll, policy("shop/deny-all", DENY, any())), get("/"),
                        "DENY: deny policy shop/deny-all rule 0"),
                arguments("allow-all", List.of(allowAll), get("/"), "ALLOW: allow policy shop/allow-all rule 0"),
                arguments("empty DENY policy denies nothing", List.of(policy("shop/deny-none", DENY)), get("/"),
                        "DENY: default deny: no policy"),
                // principals and namespaces
                arguments("principal allowed", List.of(allowFrontend), get("/"), "ALLOW: allow policy shop/frontend rule 0"),
                arguments("other principal", List.of(allowFrontend), get("/").from(PAYMENTS, "payments"),
                        "DENY: no allow policy matched"),
                arguments("spiffe:// written in the policy", List.of(policy("shop/p", ALLOW,
                        from(src().principals("spiffe://" + FRONTEND).build()))), get("/"), "ALLOW: allow policy shop/p rule 0"),
                arguments("principal suffix", List.of(policy("shop/p", ALLOW,
                        from(src().principals("*/sa/frontend").build()))), get("/"), "ALLOW: allow policy shop/p rule 0"),
                arguments("principals * needs a peer identity", List.of(policy("shop/p", ALLOW,
                        from(src().principals("*").build()))), get("/").from(null, null), "DENY: no allow policy matched"),
                arguments("notPrincipals matches an absent identity", List.of(policy("shop/p", ALLOW,
                        from(src().notPrincipals(FRONTEND).build()))), get("/").from(null, null), "ALLOW: allow policy shop/p rule 0"),
                arguments("namespace allowed", List.of(policy("shop/ns", ALLOW, from(src().namespaces("payments").build()))),
                        get("/").from(PAYMENTS, "payments"), "ALLOW: allow policy shop/ns rule 0"),
                arguments("namespace not allowed", List.of(policy("shop/ns", ALLOW, from(src().namespaces("payments").build()))),
                        get("/"), "DENY: no allow policy matched"),
                arguments("sources OR", List.of(policy("shop/or", ALLOW, from(src().namespaces("payments").build(),
                        src().principals(FRONTEND).build()))), get("/"), "ALLOW: allow policy shop/or rule 0"),
                // Istio's httpbin example: principal AND method AND path
                arguments("sleep GET /info*", List.of(allowGetInfo), get("/info/x").from("cluster.local/ns/shop/sa/sleep", "shop"),
                        "ALLOW: allow policy shop/get-info rule 0"),
                arguments("sleep POST /info", List.of(allowGetInfo), get("/info").method("POST").from("cluster.local/ns/shop/sa/sleep", "shop"),
                        "DENY: no allow policy matched"),
                arguments("sleep GET /other", List.of(allowGetInfo), get("/other").from("cluster.local/ns/shop/sa/sleep", "shop"),
                        "DENY: no allow policy matched"),
                arguments("frontend GET /info", List.of(allowGetInfo), get("/info"), "DENY: no allow policy matched"),
                // methods: exact and case-sensitive
                arguments("deny DELETE", List.of(allowAll, denyDelete), get("/").method("DELETE"),
                        "DENY: deny policy shop/deny-delete rule 0"),
                arguments("GET passes deny DELETE", List.of(allowAll, denyDelete), get("/"), "ALLOW: allow policy shop/allow-all rule 0"),
                arguments("methods are case-sensitive", List.of(allowAll, denyDelete), get("/").method("delete"),
                        "ALLOW: allow policy shop/allow-all rule 0"),
                arguments("notMethods", List.of(policy("shop/ro", ALLOW, to(op().notMethods("POST", "PUT", "DELETE").build()))),
                        get("/").method("PUT"), "DENY: no allow policy matched"),
                // paths
                arguments("path exact", List.of(policy("shop/p", ALLOW, to(op().paths("/api/orders").build()))),
                        get("/api/orders"), "ALLOW: allow policy shop/p rule 0"),
                arguments("path exact is not prefix", List.of(policy("shop/p", ALLOW, to(op().paths("/api/orders").build()))),
                        get("/api/orders/1"), "DENY: no allow policy matched"),
                arguments("path suffix", List.of(policy("shop/p", ALLOW, to(op().paths("*.png").build()))),
                        get("/img/a.png"), "ALLOW: allow policy shop/p rule 0"),
                arguments("path *", List.of(policy("shop/p", ALLOW, to(op().paths("*").build()))),
                        get("/x"), "ALLOW: allow policy shop/p rule 0"),
                // notPaths: deny outside shop, except the health check
                arguments("health check exempt", List.of(allowAll, healthExempt), get("/healthz").from(gw, "istio-system"),
                        "ALLOW: allow policy shop/allow-all rule 0"),
                arguments("other path from outside denied", List.of(allowAll, healthExempt), get("/api").from(gw, "istio-system"),
                        "DENY: deny policy shop/only-shop rule 0"),
                arguments("inside shop not denied", List.of(allowAll, healthExempt), get("/api"),
                        "ALLOW: allow policy shop/allow-all rule 0"),
                // request principals
                arguments("requestPrincipals * with a JWT", List.of(requireJwt), get("/").jwt("issuer.example.com/alice"),
                        "ALLOW: allow policy shop/require-jwt rule 0"),
                arguments("requestPrincipals * without a JWT", List.of(requireJwt), get("/"), "DENY: no allow policy matched"),
                arguments("notRequestPrincipals * denies without a JWT", List.of(allowAll, denyNoJwt), get("/"),
                        "DENY: deny policy shop/deny-no-jwt rule 0"),
                arguments("notRequestPrincipals * passes a JWT", List.of(allowAll, denyNoJwt), get("/").jwt("iss/sub"),
                        "ALLOW: allow policy shop/allow-all rule 0"),
                arguments("requestPrincipals exact iss/sub", List.of(policy("shop/alice", ALLOW,
                        from(src().requestPrincipals("issuer.example.com/alice").build()))), get("/").jwt("issuer.example.com/bob"),
                        "DENY: no allow policy matched"),
                // claims
                arguments("claims[groups] contains admin", List.of(admins), get("/").jwt("i/s").claim(List.of("dev", "admin"), "groups"),
                        "ALLOW: allow policy shop/admins rule 0"),
                arguments("claims[groups] without admin", List.of(admins), get("/").jwt("i/s").claim(List.of("dev"), "groups"),
                        "DENY: no allow policy matched"),
                arguments("claims[groups] string", List.of(admins), get("/").jwt("i/s").claim("admin", "groups"),
                        "ALLOW: allow policy shop/admins rule 0"),
                arguments("claims absent", List.of(admins), get("/"), "DENY: no allow policy matched"),
                arguments("nested claim", List.of(policy("shop/n", ALLOW, when(cond("request.auth.claims[realm][roles]",
                        List.of("ops"), null)))), get("/").claim(List.of("ops"), "realm", "roles"), "ALLOW: allow policy shop/n rule 0"),
                arguments("boolean claim", List.of(policy("shop/b", ALLOW, when(cond("request.auth.claims[email_verified]",
                        List.of("true"), null)))), get("/").claim(Boolean.TRUE, "email_verified"), "ALLOW: allow policy shop/b rule 0"),
                arguments("numeric claim", List.of(policy("shop/n", ALLOW, when(cond("request.auth.claims[level]",
                        List.of("3"), null)))), get("/").claim(3L, "level"), "ALLOW: allow policy shop/n rule 0"),
                arguments("claim notValues", List.of(allowAll, policy("shop/nv", DENY, when(cond("request.auth.claims[groups]",
                        null, List.of("admin"))))), get("/").claim(List.of("dev"), "groups"), "DENY: deny policy shop/nv rule 0"),
                arguments("values and notValues both hold", List.of(policy("shop/vn", ALLOW, when(cond("request.headers[x-env]",
                        List.of("prod*"), List.of("prod-eu"))))), get("/").header("x-env", "prod-eu"), "DENY: no allow policy matched"),
                // other condition keys
                arguments("header key is case-insensitive", List.of(policy("shop/h", ALLOW, when(cond("request.headers[X-Tenant]",
                        List.of("acme"), null)))), get("/").header("x-tenant", "acme"), "ALLOW: allow policy shop/h rule 0"),
                arguments("header notValues matches absent", List.of(policy("shop/h", ALLOW, when(cond("request.headers[x-debug]",
                        null, List.of("1"))))), get("/"), "ALLOW: allow policy shop/h rule 0"),
                arguments("audiences", List.of(policy("shop/aud", ALLOW, when(cond("request.auth.audiences",
                        List.of("orders"), null)))), get("/").audiences("web", "orders"), "ALLOW: allow policy shop/aud rule 0"),
                arguments("request.auth.principal", List.of(policy("shop/rp", ALLOW, when(cond("request.auth.principal",
                        List.of("issuer.example.com/*"), null)))), get("/").jwt("issuer.example.com/alice"), "ALLOW: allow policy shop/rp rule 0"),
                arguments("source.ip", List.of(policy("shop/ip", ALLOW, when(cond("source.ip", List.of("10.1.0.0/16"), null)))),
                        get("/"), "ALLOW: allow policy shop/ip rule 0"),
                arguments("destination.port", List.of(policy("shop/dp", ALLOW, when(cond("destination.port", null, List.of("8080"))))),
                        get("/"), "DENY: no allow policy matched"),
                arguments("source.principal with spiffe://", List.of(policy("shop/sp", ALLOW, when(cond("source.principal",
                        List.of("spiffe://cluster.local/ns/shop/*"), null)))), get("/"), "ALLOW: allow policy shop/sp rule 0"),
                // ip blocks
                arguments("ipBlocks v4", List.of(cidr), get("/"), "ALLOW: allow policy shop/cidr rule 0"),
                arguments("ipBlocks outside", List.of(cidr), get("/").ip("192.168.1.1"), "DENY: no allow policy matched"),
                arguments("ipBlocks v4-mapped v6", List.of(cidr), get("/").ip("::ffff:10.9.9.9"), "ALLOW: allow policy shop/cidr rule 0"),
                arguments("ipBlocks v6", List.of(cidr), get("/").ip("2001:db8:1::7"), "ALLOW: allow policy shop/cidr rule 0"),
                arguments("ipBlocks unknown address", List.of(cidr), get("/").ip(""), "DENY: no allow policy matched"),
                arguments("ipBlocks odd prefix", List.of(policy("shop/c", ALLOW, from(src().ipBlocks("10.1.2.0/23").build()))),
                        get("/").ip("10.1.3.200"), "ALLOW: allow policy shop/c rule 0"),
                arguments("ipBlocks odd prefix outside", List.of(policy("shop/c", ALLOW, from(src().ipBlocks("10.1.2.0/23").build()))),
                        get("/").ip("10.1.4.1"), "DENY: no allow policy matched"),
                arguments("notIpBlocks", List.of(allowAll, policy("shop/c", DENY, from(src().notIpBlocks("10.0.0.0/8").build()))),
                        get("/").ip("203.0.113.7"), "DENY: deny policy shop/c rule 0"),
                // hosts
                arguments("host case-insensitive with port", List.of(hosts), get("/").host("Orders.Shop.SVC.cluster.local:8080"),
                        "ALLOW: allow policy shop/hosts rule 0"),
                arguments("host other", List.of(hosts), get("/").host("payments.shop.svc.cluster.local"), "DENY: no allow policy matched"),
                arguments("host longer", List.of(hosts), get("/").host("orders.shop.svc.cluster.local.evil"), "DENY: no allow policy matched"),
                arguments("host with port in policy", List.of(policy("shop/hp", ALLOW, to(op().hosts("orders.shop:8080").build()))),
                        get("/").host("orders.shop:9090"), "DENY: no allow policy matched"),
                arguments("host:* prefix", List.of(policy("shop/hp", ALLOW, to(op().hosts("orders.shop:*").build()))),
                        get("/").host("ORDERS.shop:9090"), "ALLOW: allow policy shop/hp rule 0"),
                arguments("host suffix with port", List.of(policy("shop/hs", ALLOW, to(op().hosts("*.shop.svc.cluster.local").build()))),
                        get("/").host("orders.shop.svc.cluster.local:8080"), "ALLOW: allow policy shop/hs rule 0"),
                arguments("host IPv6 literal", List.of(policy("shop/h6", ALLOW, to(op().hosts("[2001:db8::1]").build()))),
                        get("/").host("[2001:db8::1]:8080"), "ALLOW: allow policy shop/h6 rule 0"),
                arguments("notHosts", List.of(allowAll, policy("shop/nh", DENY, to(op().notHosts("orders.shop.svc.cluster.local").build()))),
                        get("/").host("evil.example"), "DENY: deny policy shop/nh rule 0"),
                // ports
                arguments("port allowed", List.of(ports), get("/"), "ALLOW: allow policy shop/ports rule 0"),
                arguments("port other", List.of(ports), get("/").port(9090), "DENY: no allow policy matched"),
                arguments("notPorts", List.of(policy("shop/np", ALLOW, to(op().notPorts("15000").build()))),
                        get("/").port(15000), "DENY: no allow policy matched"),
                // DENY before ALLOW; rule order
                arguments("deny wins over a matching allow", List.of(allowAll, policy("shop/no-admin", DENY,
                        to(op().paths("/admin*").build()))), get("/admin/users"), "DENY: deny policy shop/no-admin rule 0"),
                arguments("second rule decides", List.of(policy("shop/two", ALLOW, to(op().paths("/a").build()),
                        to(op().paths("/b").build()))), get("/b"), "ALLOW: allow policy shop/two rule 1"),
                arguments("fields AND within a rule", List.of(policy("shop/and", ALLOW, rule(List.of(src().namespaces("shop").build()),
                        List.of(op().methods("GET").build()), List.of()))), get("/").from(PAYMENTS, "payments"),
                        "DENY: no allow policy matched"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void decides(String name, List<AuthorizationPolicy> policies, TestRequest request, String expected) {
        CompiledPolicies compiled = CompiledPolicies.compile(policies, Map.of("app", "orders"), "shop",
                "outrider-system", DefaultAction.DENY);

        Decision d = AuthorizationEngine.authorize(compiled, request);

        assertThat((d.allowed() ? "ALLOW: " : "DENY: ") + d.reason()).as(request.toString()).isEqualTo(expected);
        assertThat(d.audited()).isFalse();
        assertThat(d.shadow()).isNull();
    }
}
