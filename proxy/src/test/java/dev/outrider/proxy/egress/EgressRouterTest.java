package dev.outrider.proxy.egress;

import dev.outrider.core.model.SpiffeId;
import dev.outrider.core.policy.PolicyDocuments;
import dev.outrider.proxy.forward.NoRoute;
import dev.outrider.proxy.forward.Route;
import dev.outrider.proxy.forward.RouteResult;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslProvider;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The egress decision as a pure function: Host forms, ports, exportTo, and caller policies on the operation. */
class EgressRouterTest {
    private static final String DOCS = """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: api, namespace: shop}
            spec: {hosts: [api.example.com], resolution: DNS, ports: [{number: 80, name: http, protocol: HTTP},
                   {number: 8443, name: https, protocol: HTTPS}]}
            ---
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: elsewhere, namespace: billing}
            spec: {hosts: [billing.example.com], resolution: DNS, exportTo: ["."],
                   ports: [{number: 80, name: http, protocol: HTTP}]}
            ---
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: no-delete, namespace: shop}
            spec:
              targetRefs: [{kind: ServiceEntry, group: networking.istio.io, name: api}]
              action: DENY
              rules: [{to: [{operation: {methods: [DELETE], hosts: ["api.example.com*"]}}]}]
            """;

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final EgressMetrics metrics = new EgressMetrics(registry);
    private final EgressTable table = new EgressCompiler(SslProvider.JDK, metrics, "shop")
            .compile(PolicyDocuments.parse(DOCS, "test"));
    private final EgressRouter router = new EgressRouter(() -> table, metrics,
            SpiffeId.ofServiceAccount("cluster.local", "shop", "orders"));

    @Test
    void hostFormsAndPorts() {
        assertThat(table.entries()).containsExactly("shop/api");
        assertThat(resolve("api.example.com", HttpMethod.GET)).isInstanceOf(Route.class);
        assertThat(resolve("API.Example.COM.:80", HttpMethod.GET)).isInstanceOf(Route.class);
        Route https = (Route) resolve("api.example.com:8443", HttpMethod.GET);
        assertThat(https.cluster().originated().sni()).isEqualTo("api.example.com");
        assertThat(((Route) resolve("api.example.com", HttpMethod.GET)).cluster().originated()).isNull();
        assertThat(((NoRoute) resolve("api.example.com:81", HttpMethod.GET)).status().code()).isEqualTo(403);
        assertThat(resolve("api.example.com:99999", HttpMethod.GET)).isNull();
        assertThat(resolve("[::1]:80", HttpMethod.GET)).isNull();
        assertThat(resolve("billing.example.com", HttpMethod.GET)).as("exported to billing only").isNull();
        assertThat(router.notDeclared("x.example.com", false).message()).contains("not in the egress allow-list");
        assertThat(registry.get("outrider.egress.requests").tag("outcome", "not_declared").counter().count())
                .isEqualTo(2);
    }

    @Test
    void callerPoliciesSeeTheOperation() {
        NoRoute denied = (NoRoute) resolve("api.example.com", HttpMethod.DELETE);
        assertThat(denied.status().code()).isEqualTo(403);
        assertThat(denied.message()).contains("deny policy shop/no-delete rule 0");
        assertThat(resolve("api.example.com", HttpMethod.POST)).isInstanceOf(Route.class);
        assertThat(registry.get("outrider.egress.requests").tag("outcome", "denied_by_policy").counter().count())
                .isEqualTo(1);
    }

    @Test
    void policiesWithTargetRefsDoNotApplyToTheWorkloadsOfTheirNamespace() {
        java.util.List<dev.outrider.core.policy.AuthorizationPolicy> policies = PolicyDocuments.parse(DOCS, "test")
                .stream().filter(d -> d instanceof dev.outrider.core.policy.AuthorizationPolicy)
                .map(d -> (dev.outrider.core.policy.AuthorizationPolicy) d).toList();
        assertThat(policies).hasSize(1);
        assertThat(dev.outrider.proxy.authz.CompiledPolicies.compile(policies, java.util.Map.of("app", "orders"),
                "shop", "outrider-system", dev.outrider.proxy.config.DefaultAction.DENY).ruleCount()).isZero();
        assertThat(dev.outrider.proxy.authz.CompiledPolicies.compileTargeting(policies).ruleCount()).isEqualTo(1);
    }

    @Test
    void pathsOfRequestTargets() {
        assertThat(EgressRequest.path("/a/b?x=1#f")).isEqualTo("/a/b");
        assertThat(EgressRequest.path("http://api.example.com/a?x")).isEqualTo("/a");
        assertThat(EgressRequest.path("http://api.example.com")).isEqualTo("/");
        assertThat(EgressRequest.path("?x")).isEqualTo("/");
    }

    private RouteResult resolve(String host, HttpMethod method) {
        HttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, method, "/items");
        request.headers().set("host", host);
        return router.resolve(request, host);
    }
}
