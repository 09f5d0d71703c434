package dev.outrider.core.policy;

import dev.outrider.core.policy.AuthorizationPolicy.Action;
import dev.outrider.core.policy.AuthorizationPolicy.Condition;
import dev.outrider.core.policy.AuthorizationPolicy.Rule;
import dev.outrider.core.policy.RequestAuthentication.ClaimToHeader;
import dev.outrider.core.policy.RequestAuthentication.JwtHeader;
import dev.outrider.core.policy.RequestAuthentication.JwtRule;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Documents that are accepted, most of them Istio's documented examples, unchanged. */
class PolicyDocumentsTest {
    private static <T extends PolicyDocument> T only(String yaml, Class<T> type) {
        List<PolicyDocument> documents = PolicyDocuments.parse(yaml, "test.yaml");
        assertThat(documents).hasSize(1);
        return type.cast(documents.getFirst());
    }

    @Test
    void istioAllowNothingHasNoRules() {
        AuthorizationPolicy policy = only("""
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata:
                  name: allow-nothing
                  namespace: default
                spec:
                  {}
                """, AuthorizationPolicy.class);

        assertThat(policy.metadata()).isEqualTo(new ObjectMeta("allow-nothing", "default", Map.of()));
        assertThat(policy.selector()).isEqualTo(WorkloadSelector.ALL);
        assertThat(policy.action()).isEqualTo(Action.ALLOW);
        assertThat(policy.rules()).isEmpty();
    }

    @Test
    void absentSpecIsEmptySpec() {
        AuthorizationPolicy policy = only("""
                apiVersion: outrider.dev/v1
                kind: AuthorizationPolicy
                metadata: {name: allow-nothing, namespace: shop}
                """, AuthorizationPolicy.class);

        assertThat(policy.rules()).isEmpty();
        assertThat(policy.action()).isEqualTo(Action.ALLOW);
    }

    @Test
    void istioAllowAllIsOneEmptyRule() {
        AuthorizationPolicy policy = only("""
                apiVersion: security.istio.io/v1beta1
                kind: AuthorizationPolicy
                metadata:
                  name: allow-all
                  namespace: foo
                spec:
                  action: ALLOW
                  rules:
                  - {}
                """, AuthorizationPolicy.class);

        assertThat(policy.rules()).containsExactly(new Rule(null, null, null));
    }

    @Test
    void istioDenyMethodGet() {
        AuthorizationPolicy policy = only("""
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata:
                  name: deny-method-get
                  namespace: foo
                spec:
                  selector:
                    matchLabels:
                      app: httpbin
                  action: DENY
                  rules:
                  - to:
                    - operation:
                        methods: ["GET"]
                """, AuthorizationPolicy.class);

        assertThat(policy.action()).isEqualTo(Action.DENY);
        assertThat(policy.selector().matchLabels()).isEqualTo(Map.of("app", "httpbin"));
        assertThat(policy.rules()).singleElement().satisfies(rule -> {
            assertThat(rule.from()).isEmpty();
            assertThat(rule.when()).isEmpty();
            assertThat(rule.to()).singleElement().satisfies(to -> assertThat(to.operation().methods()).containsExactly("GET"));
        });
    }

    @Test
    void istioAllowReadWithPrincipalsPathsAndCondition() {
        AuthorizationPolicy policy = only("""
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata:
                  name: allow-read
                  namespace: foo
                spec:
                  selector:
                    matchLabels:
                      app: httpbin
                      version: v1
                  action: ALLOW
                  rules:
                  - from:
                    - source:
                        principals: ["cluster.local/ns/default/sa/sleep"]
                    - source:
                        namespaces: ["test"]
                    to:
                    - operation:
                        methods: ["GET"]
                        paths: ["/info*"]
                    - operation:
                        methods: ["POST"]
                        paths: ["/data"]
                    when:
                    - key: request.auth.claims[iss]
                      values: ["https://accounts.google.com"]
                """, AuthorizationPolicy.class);

        Rule rule = policy.rules().getFirst();
        assertThat(rule.from()).extracting(f -> f.source().principals())
                .containsExactly(List.of("cluster.local/ns/default/sa/sleep"), List.of());
        assertThat(rule.from().get(1).source().namespaces()).containsExactly("test");
        assertThat(rule.to()).extracting(t -> t.operation().paths()).containsExactly(List.of("/info*"), List.of("/data"));
        assertThat(rule.to()).extracting(t -> t.operation().methods()).containsExactly(List.of("GET"), List.of("POST"));
        assertThat(rule.when()).containsExactly(
                new Condition("request.auth.claims[iss]", List.of("https://accounts.google.com"), null));
    }

    @Test
    void istioRequireJwtWithAnyRequestPrincipal() {
        AuthorizationPolicy policy = only("""
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata:
                  name: require-jwt
                  namespace: foo
                spec:
                  selector:
                    matchLabels:
                      app: httpbin
                  action: ALLOW
                  rules:
                  - from:
                    - source:
                       requestPrincipals: ["*"]
                """, AuthorizationPolicy.class);

        assertThat(policy.rules().getFirst().from().getFirst().source().requestPrincipals()).containsExactly("*");
    }

    @Test
    void istioGroupsClaimCondition() {
        AuthorizationPolicy policy = only("""
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata:
                  name: require-jwt
                  namespace: foo
                spec:
                  selector:
                    matchLabels:
                      app: httpbin
                  action: ALLOW
                  rules:
                  - from:
                    - source:
                       requestPrincipals: ["testing@secure.istio.io/testing@secure.istio.io"]
                    when:
                    - key: request.auth.claims[groups]
                      values: ["group1"]
                """, AuthorizationPolicy.class);

        Rule rule = policy.rules().getFirst();
        assertThat(rule.from().getFirst().source().requestPrincipals())
                .containsExactly("testing@secure.istio.io/testing@secure.istio.io");
        assertThat(rule.when()).containsExactly(new Condition("request.auth.claims[groups]", List.of("group1"), null));
    }

    @Test
    void everySupportedFieldAndConditionKeyIsRead() {
        AuthorizationPolicy policy = only("""
                apiVersion: outrider.dev/v1
                kind: AuthorizationPolicy
                metadata:
                  name: everything
                  namespace: shop
                  annotations: {outrider.dev/dry-run: "true"}
                spec:
                  action: AUDIT
                  rules:
                  - from:
                    - source:
                        principals: ["cluster.local/ns/shop/*"]
                        notPrincipals: ["*/sa/admin"]
                        requestPrincipals: ["https://issuer.example/*"]
                        notRequestPrincipals: ["https://other.example/bob"]
                        namespaces: [shop]
                        notNamespaces: [kube-system]
                        ipBlocks: [10.0.0.0/8, 192.168.1.1, "2001:db8::/32", "::1"]
                        notIpBlocks: [10.1.0.0/16]
                    to:
                    - operation:
                        hosts: ["*.shop.svc.cluster.local"]
                        notHosts: [admin.shop]
                        ports: ["8080", 9090]
                        notPorts: ["65535"]
                        methods: [GET, M-SEARCH]
                        notMethods: [DELETE]
                        paths: ["/orders/*", "*.json", "*", /exact]
                        notPaths: [/admin*]
                    when:
                    - {key: "request.auth.claims[realm_access][roles]", values: [admin]}
                    - {key: request.auth.principal, notValues: ["*"]}
                    - {key: request.auth.audiences, values: [orders]}
                    - {key: request.auth.presenter, values: [frontend]}
                    - {key: "request.headers[X-Tenant]", values: ["acme*"]}
                    - {key: source.ip, values: [10.0.0.0/8], notValues: [10.0.0.1]}
                    - {key: source.namespace, values: [shop]}
                    - {key: source.principal, values: ["cluster.local/ns/shop/sa/frontend"]}
                    - {key: destination.port, values: ["8080"]}
                """, AuthorizationPolicy.class);

        assertThat(policy.metadata().dryRun()).isTrue();
        assertThat(policy.action()).isEqualTo(Action.AUDIT);
        var source = policy.rules().getFirst().from().getFirst().source();
        assertThat(source.ipBlocks()).containsExactly("10.0.0.0/8", "192.168.1.1", "2001:db8::/32", "::1");
        assertThat(source.notRequestPrincipals()).containsExactly("https://other.example/bob");
        var operation = policy.rules().getFirst().to().getFirst().operation();
        assertThat(operation.ports()).as("a YAML number is taken as its text").containsExactly("8080", "9090");
        assertThat(operation.paths()).containsExactly("/orders/*", "*.json", "*", "/exact");
        assertThat(policy.rules().getFirst().when()).extracting(Condition::key).hasSize(9)
                .contains("request.auth.claims[realm_access][roles]", "request.headers[X-Tenant]");
    }

    @Test
    void requestAuthenticationWithJwksUri() {
        RequestAuthentication authentication = only("""
                apiVersion: security.istio.io/v1
                kind: RequestAuthentication
                metadata:
                  name: jwt-example
                  namespace: istio-system
                spec:
                  selector:
                    matchLabels:
                      istio: ingressgateway
                  jwtRules:
                  - issuer: "testing@secure.istio.io"
                    jwksUri: "https://raw.githubusercontent.com/istio/istio/release-1.24/security/tools/jwt/samples/jwks.json"
                """, RequestAuthentication.class);

        assertThat(authentication.selector().matchLabels()).isEqualTo(Map.of("istio", "ingressgateway"));
        assertThat(authentication.jwtRules()).containsExactly(new JwtRule("testing@secure.istio.io", null,
                "https://raw.githubusercontent.com/istio/istio/release-1.24/security/tools/jwt/samples/jwks.json",
                null, null, null, false, null));
    }

    @Test
    void requestAuthenticationWithInlineJwksAndEveryField() {
        String jwks = "{\"keys\": [{\"kty\": \"EC\", \"crv\": \"P-256\", \"x\": \"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
                + " \"y\": \"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\", \"kid\": \"k1\"}]}";
        RequestAuthentication authentication = only("""
                apiVersion: outrider.dev/v1
                kind: RequestAuthentication
                metadata: {name: jwt, namespace: shop}
                spec:
                  jwtRules:
                  - issuer: https://issuer.example
                    audiences: [orders, payments]
                    jwks: '%s'
                    fromHeaders:
                    - name: x-jwt-assertion
                    - {name: Authorization, prefix: "Bearer "}
                    fromParams: [access_token]
                    forwardOriginalToken: true
                    outputClaimToHeaders:
                    - {header: x-user, claim: sub}
                """.formatted(jwks), RequestAuthentication.class);

        JwtRule rule = authentication.jwtRules().getFirst();
        assertThat(rule.jwks()).isEqualTo(jwks);
        assertThat(rule.jwksUri()).isNull();
        assertThat(rule.audiences()).containsExactly("orders", "payments");
        assertThat(rule.fromHeaders()).containsExactly(new JwtHeader("x-jwt-assertion", ""),
                new JwtHeader("Authorization", "Bearer "));
        assertThat(rule.fromParams()).containsExactly("access_token");
        assertThat(rule.forwardOriginalToken()).isTrue();
        assertThat(rule.outputClaimToHeaders()).containsExactly(new ClaimToHeader("x-user", "sub"));
    }

    @Test
    void plainHttpJwksUriOnlyOnLoopback() {
        for (String uri : List.of("http://localhost:8080/jwks", "http://127.0.0.1/jwks", "http://127.9.9.9:1/k",
                "http://[::1]:8443/jwks", "HTTPS://issuer.example/jwks")) {
            RequestAuthentication authentication = only("""
                    apiVersion: outrider.dev/v1
                    kind: RequestAuthentication
                    metadata: {name: jwt, namespace: shop}
                    spec: {jwtRules: [{issuer: dev, jwksUri: "%s"}]}
                    """.formatted(uri), RequestAuthentication.class);
            assertThat(authentication.jwtRules().getFirst().jwksUri()).isEqualTo(uri);
        }
    }

    @Test
    void severalDocumentsInOrderSkippingEmptyOnes() {
        List<PolicyDocument> documents = PolicyDocuments.parse("""
                # policies for the shop
                ---
                apiVersion: outrider.dev/v1
                kind: RequestAuthentication
                metadata: {name: jwt, namespace: shop}
                spec: {jwtRules: [{issuer: dev, jwksUri: "https://issuer.example/jwks"}]}
                ---
                ---
                # only a comment
                ---
                apiVersion: outrider.dev/v1
                kind: AuthorizationPolicy
                metadata: {name: allow-frontend, namespace: shop}
                spec: {rules: [{from: [{source: {principals: ["cluster.local/ns/shop/sa/frontend"]}}]}]}
                ---
                apiVersion: outrider.dev/v1
                kind: AuthorizationPolicy
                metadata: {name: jwt, namespace: shop}
                """, "shop.yaml");

        assertThat(documents).extracting(d -> d.kind() + " " + d.metadata().id()).containsExactly(
                "RequestAuthentication shop/jwt", "AuthorizationPolicy shop/allow-frontend", "AuthorizationPolicy shop/jwt");
    }

    @Test
    void nothingButCommentsIsNoDocument() {
        assertThat(PolicyDocuments.parse("", "empty.yaml")).isEmpty();
        assertThat(PolicyDocuments.parse("# nothing yet\n---\n", "empty.yaml")).isEmpty();
    }

    @Test
    void jsonDocumentsAreAccepted() {
        List<PolicyDocument> documents = PolicyDocuments.parse("""
                {"apiVersion": "outrider.dev/v1", "kind": "AuthorizationPolicy",
                 "metadata": {"name": "deny-get", "namespace": "shop"},
                 "spec": {"action": "DENY", "rules": [{"to": [{"operation": {"methods": ["GET"], "ports": [8080]}}]}]}}
                {"apiVersion": "outrider.dev/v1", "kind": "AuthorizationPolicy",
                 "metadata": {"name": "allow-nothing", "namespace": "shop"}}
                """, "request body");

        assertThat(documents).hasSize(2);
        AuthorizationPolicy deny = (AuthorizationPolicy) documents.getFirst();
        assertThat(deny.action()).isEqualTo(Action.DENY);
        assertThat(deny.rules().getFirst().to().getFirst().operation().ports()).containsExactly("8080");
    }

    @Test
    void jsonDuplicateKeysAreRefused() {
        assertThatThrownBy(() -> PolicyDocuments.parse("""
                {"apiVersion": "outrider.dev/v1", "kind": "AuthorizationPolicy",
                 "metadata": {"name": "a", "namespace": "shop", "name": "b"}}
                """, "request body"))
                .isInstanceOf(PolicyException.class)
                .hasMessageStartingWith("request body: document 1 (line 1): metadata.name: Duplicate field 'name'");
    }

    @Test
    void theSamePolicyTwiceInOneSourceIsRefused() {
        String document = """
                apiVersion: outrider.dev/v1
                kind: AuthorizationPolicy
                metadata: {name: allow-frontend, namespace: shop}
                """;
        assertThatThrownBy(() -> PolicyDocuments.parse(document + "---\n" + document, "shop.yaml"))
                .isInstanceOf(PolicyException.class)
                .hasMessage("shop.yaml: AuthorizationPolicy shop/allow-frontend: metadata.name: already defined by"
                        + " document 1 (line 1)");
    }

    @Test
    void sameNameInAnotherKindOrNamespaceIsAnotherDocument() {
        List<PolicyDocument> documents = PolicyDocuments.parse("""
                {apiVersion: outrider.dev/v1, kind: AuthorizationPolicy, metadata: {name: p, namespace: shop}}
                ---
                {apiVersion: outrider.dev/v1, kind: AuthorizationPolicy, metadata: {name: p, namespace: billing}}
                ---
                {apiVersion: outrider.dev/v1, kind: RequestAuthentication, metadata: {name: p, namespace: shop}}
                """, "p.yaml");

        assertThat(documents).hasSize(3);
    }
}
