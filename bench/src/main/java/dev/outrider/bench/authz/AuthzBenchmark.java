package dev.outrider.bench.authz;

import dev.outrider.core.policy.AuthorizationPolicy;
import dev.outrider.core.policy.AuthorizationPolicy.Action;
import dev.outrider.core.policy.AuthorizationPolicy.Condition;
import dev.outrider.core.policy.AuthorizationPolicy.From;
import dev.outrider.core.policy.AuthorizationPolicy.Operation;
import dev.outrider.core.policy.AuthorizationPolicy.Rule;
import dev.outrider.core.policy.AuthorizationPolicy.Source;
import dev.outrider.core.policy.AuthorizationPolicy.To;
import dev.outrider.core.policy.ObjectMeta;
import dev.outrider.proxy.authz.AuthorizationEngine;
import dev.outrider.proxy.authz.CompiledPolicies;
import dev.outrider.proxy.authz.Decision;
import dev.outrider.proxy.config.DefaultAction;
import dev.outrider.proxy.authz.RequestAttributes;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@link AuthorizationEngine#authorize} over 10 and 1,000 rules: one DENY rule in ten, the rest ALLOW, in
 * policies of ten rules, mixing principals, namespaces, methods, path prefixes, hosts, ports, CIDR blocks and
 * JWT claim conditions. Every request scans every rule (the worst case): {@link #allowLastRule} is allowed by
 * the last rule; {@link #denyNoAllowMatched} matches nothing ({@code no allow policy matched}). Expected: 0 B/op.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class AuthzBenchmark {
    @Param({"10", "1000"})
    int rules;

    private CompiledPolicies compiled;
    private Request allowed;
    private Request denied;

    @Setup
    public void setUp() {
        List<AuthorizationPolicy> policies = new ArrayList<>();
        List<Rule> current = new ArrayList<>();
        for (int i = 0; i < rules - 1; i++) {
            current.add(rule(i));
            if (current.size() == 10) {
                policies.add(policy("p" + policies.size(), policies.size() % 10 == 0 ? Action.DENY : Action.ALLOW, current));
                current = new ArrayList<>();
            }
        }
        current.add(new Rule(
                List.of(new From(source(List.of("cluster.local/ns/shop/sa/frontend"), null, null))),
                List.of(new To(operation(null, null, List.of("GET"), List.of("/api/orders/*")))), null));
        policies.add(policy("frontend", Action.ALLOW, current));
        compiled = CompiledPolicies.compile(policies, Map.of("app", "orders"), "shop", "outrider-system", DefaultAction.DENY);
        allowed = new Request("/api/orders/12345");
        denied = new Request("/api/payments/12345");
        check(AuthorizationEngine.authorize(compiled, allowed), true);
        check(AuthorizationEngine.authorize(compiled, denied), false);
    }

    @Benchmark
    public Decision allowLastRule() {
        return AuthorizationEngine.authorize(compiled, allowed);
    }

    @Benchmark
    public Decision denyNoAllowMatched() {
        return AuthorizationEngine.authorize(compiled, denied);
    }

    private static void check(Decision d, boolean expected) {
        if (d.allowed() != expected) {
            throw new IllegalStateException("unexpected decision: " + d);
        }
    }

    /** Rule i: five shapes in turn, none matching the benchmark's requests. */
    private static Rule rule(int i) {
        return switch (i % 5) {
            case 0 -> new Rule(List.of(new From(source(List.of("cluster.local/ns/ns" + i + "/sa/client"), null, null))),
                    List.of(new To(operation(null, null, List.of("GET"), List.of("/api/v" + i + "/*")))), null);
            case 1 -> new Rule(List.of(new From(source(null, List.of("ns" + i), null))),
                    List.of(new To(operation(null, null, List.of("GET", "POST"), List.of("/svc" + i + "/items")))), null);
            case 2 -> new Rule(null,
                    List.of(new To(operation(List.of("svc" + i + ".shop.svc.cluster.local"), List.of("8080"), null, null))), null);
            case 3 -> new Rule(null, null, List.of(
                    new Condition("request.auth.claims[groups]", List.of("group" + i), null),
                    new Condition("request.auth.principal", List.of("issuer.example.com/*"), null)));
            default -> new Rule(List.of(new From(source(null, null, List.of("172.16." + (i % 256) + ".0/24")))),
                    List.of(new To(operation(null, null, null, List.of("/internal" + i + "/*")))), null);
        };
    }

    private static Source source(List<String> principals, List<String> namespaces, List<String> ipBlocks) {
        return new Source(principals, null, null, null, namespaces, null, ipBlocks, null);
    }

    private static Operation operation(List<String> hosts, List<String> ports, List<String> methods, List<String> paths) {
        return new Operation(hosts, null, ports, null, methods, null, paths, null);
    }

    private static AuthorizationPolicy policy(String name, Action action, List<Rule> rules) {
        return new AuthorizationPolicy(new ObjectMeta(name, "shop", null), null, action, rules);
    }

    /** A request as the inbound handler would present it: every attribute already held, nothing computed. */
    private static final class Request implements RequestAttributes {
        private static final byte[] IP = InetAddress.ofLiteral("10.1.2.3").getAddress();
        private static final List<String> GROUPS = List.of("staff", "orders-readers");
        private static final List<String> AUDIENCES = List.of("orders");
        private final String path;

        Request(String path) {
            this.path = path;
        }

        @Override public String sourcePrincipal() { return "cluster.local/ns/shop/sa/frontend"; }
        @Override public String sourceNamespace() { return "shop"; }
        @Override public byte[] sourceIp() { return IP; }
        @Override public String sourceAddress() { return "10.1.2.3"; }
        @Override public String requestPrincipal() { return "issuer.example.com/user-42"; }
        @Override public Object claim(String[] claimPath) { return claimPath.length == 1 && claimPath[0].equals("groups") ? GROUPS : null; }
        @Override public List<String> audiences() { return AUDIENCES; }
        @Override public String method() { return "GET"; }
        @Override public String host() { return "orders.shop.svc.cluster.local:8080"; }
        @Override public int port() { return 8080; }
        @Override public String path() { return path; }
        @Override public String header(CharSequence lowerCaseName) { return null; }
    }
}
