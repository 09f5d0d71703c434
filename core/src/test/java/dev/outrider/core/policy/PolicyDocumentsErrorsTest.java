package dev.outrider.core.policy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** Every refusal, with the document, the path of the field and the problem it names. */
class PolicyDocumentsErrorsTest {
    private static final String AP = "AuthorizationPolicy shop/p";
    private static final String RA = "RequestAuthentication shop/jwt";

    /** One refused document: {@code message} is {@code test.yaml: <document>: <path>: <problem...>}. */
    record Case(String yaml, String document, String path, String problem) {
        @Override
        public String toString() {
            return path + ": " + problem;
        }
    }

    private static Case ap(String spec, String path, String problem) {
        return new Case("""
                apiVersion: outrider.dev/v1
                kind: AuthorizationPolicy
                metadata: {name: p, namespace: shop}
                spec: %s
                """.formatted(spec), AP, path, problem);
    }

    private static Case rule(String rule, String path, String problem) {
        return ap("{rules: [" + rule + "]}", "spec.rules[0]." + path, problem);
    }

    private static Case operation(String operation, String path, String problem) {
        return rule("{to: [{operation: " + operation + "}]}", "to[0].operation." + path, problem);
    }

    private static Case source(String source, String path, String problem) {
        return rule("{from: [{source: " + source + "}]}", "from[0].source." + path, problem);
    }

    private static Case when(String condition, String path, String problem) {
        return rule("{when: [" + condition + "]}", "when[0]" + path, problem);
    }

    private static Case jwt(String jwtRule, String path, String problem) {
        return new Case("""
                apiVersion: security.istio.io/v1
                kind: RequestAuthentication
                metadata: {name: jwt, namespace: shop}
                spec: {jwtRules: [%s]}
                """.formatted(jwtRule), RA, "spec.jwtRules[0]" + path, problem);
    }

    private static Case document(String yaml, String document, String path, String problem) {
        return new Case(yaml, document, path, problem);
    }

    static List<Case> refused() {
        return List.of(
                // the document and its metadata
                document("kind: AuthorizationPolicy\nmetadata: {name: p, namespace: shop}\n", AP, "apiVersion", "is required"),
                document("apiVersion: outrider.dev/v1\nmetadata: {name: p, namespace: shop}\n", "document 1 (line 1)",
                        "kind", "is required"),
                document("apiVersion: security.istio.io/v1\nkind: Sidecar\nmetadata: {name: p, namespace: shop}\n",
                        "document 1 (line 1)", "kind",
                        "'Sidecar' is not a supported kind; supported: AuthorizationPolicy, RequestAuthentication,"
                                + " RateLimitPolicy, PeerAuthentication, ServiceEntry"),
                document("apiVersion: security.istio.io/v2\nkind: AuthorizationPolicy\nmetadata: {name: p, namespace: shop}\n",
                        AP, "apiVersion", "'security.istio.io/v2' is not a supported apiVersion for AuthorizationPolicy; supported: outrider.dev/v1,"
                                + " security.istio.io/v1, security.istio.io/v1beta1"),
                document("apiVersion: outrider.dev/v1\nkind: AuthorizationPolicy\n",
                        "AuthorizationPolicy in document 1 (line 1)", "metadata", "is required"),
                document("apiVersion: outrider.dev/v1\nkind: AuthorizationPolicy\nmetadata: {name: Allow_Frontend, namespace: shop}\n",
                        "AuthorizationPolicy in document 1 (line 1)", "metadata.name",
                        "'Allow_Frontend' is not an RFC 1123 label"),
                document("apiVersion: outrider.dev/v1\nkind: AuthorizationPolicy\nmetadata: {name: " + "a".repeat(64)
                                + ", namespace: shop}\n", "AuthorizationPolicy in document 1 (line 1)", "metadata.name",
                        "at most 63 characters"),
                document("apiVersion: outrider.dev/v1\nkind: AuthorizationPolicy\nmetadata: {name: p}\n",
                        "AuthorizationPolicy in document 1 (line 1)", "metadata.namespace", "is required"),
                document("apiVersion: outrider.dev/v1\nkind: AuthorizationPolicy\nmetadata: {name: p, namespace: shop,"
                        + " labels: {app: x}}\n", AP, "metadata.labels",
                        "unknown field 'labels'; known fields: name, namespace, annotations"),
                document("apiVersion: outrider.dev/v1\nkind: AuthorizationPolicy\nmetadata: {name: p, namespace: shop,"
                                + " annotations: {outrider.dev/dry-run: true}}\n", AP,
                        "metadata.annotations[outrider.dev/dry-run]", "expected a string, got a boolean (quote it)"),
                document("apiVersion: outrider.dev/v1\nkind: AuthorizationPolicy\nmetadata: {name: p, namespace: shop}\nstatus: {}\n",
                        AP, "status", "unknown field 'status'; known fields: apiVersion, kind, metadata, spec"),
                document("- apiVersion: outrider.dev/v1\n", "document 1 (line 1)", "", "expected a mapping, got a list"),
                document("apiVersion: outrider.dev/v1\nkind: AuthorizationPolicy\nmetadata: {name: p, namespace: shop}\n"
                        + "spec: []\n", AP, "spec", "expected a mapping, got a list"),
                document("apiVersion: outrider.dev/v1\nkind: AuthorizationPolicy\nmetadata: {name: p, namespace: shop}\n"
                        + "spec:\n  action: ALLOW\n  action: DENY\n", "document 1 (line 1)", "spec.action",
                        "Duplicate field 'action' (line 6)"),
                document("apiVersion: outrider.dev/v1\nkind: [AuthorizationPolicy\n", "document 1 (line 1)", "",
                        "(line 3, column 1)"),

                // AuthorizationPolicy: spec, rules, from, to
                ap("{provider: {name: ext-authz}}", "spec.provider",
                        "unknown field 'provider'; known fields: selector, targetRefs, action, rules"),
                ap("{action: CUSTOM}", "spec.action", "action CUSTOM (an external authorizer) is not supported; use ALLOW, DENY or AUDIT"),
                ap("{action: PERMIT}", "spec.action", "'PERMIT' is not an action; use ALLOW, DENY or AUDIT"),
                ap("{action: allow}", "spec.action", "'allow' is not an action"),
                ap("{action: 1}", "spec.action", "expected a string, got a number (quote it)"),
                ap("{selector: {matchLabels: {version: 1}}}", "spec.selector.matchLabels[version]", "expected a string, got a number"),
                ap("{selector: {app: orders}}", "spec.selector.app", "unknown field 'app'; known fields: matchLabels"),
                ap("{rules: {from: []}}", "spec.rules", "expected a list, got a mapping"),
                ap("{rules: [~]}", "spec.rules[0]", "expected a mapping, got null"),
                rule("{form: []}", "form", "unknown field 'form'; known fields: from, to, when"),
                rule("{from: [{}]}", "from[0].source", "is required"),
                rule("{from: [{principals: [a]}]}", "from[0].principals", "unknown field 'principals'; known fields: source"),
                rule("{to: [{}]}", "to[0].operation", "is required"),
                rule("{from: [{source: {}}]}", "from[0].source", "must not be empty"),
                rule("{from: [{source: {principals: []}}]}", "from[0].source", "must not be empty"),
                rule("{to: [{operation: {}}]}", "to[0].operation", "must not be empty"),

                // source
                source("{principal: [a]}", "principal", "unknown field 'principal'; known fields: principals, notPrincipals,"
                        + " requestPrincipals, notRequestPrincipals, namespaces, notNamespaces, ipBlocks, notIpBlocks"),
                source("{principals: cluster.local/ns/shop/sa/a}", "principals", "expected a list, got a string"),
                source("{principals: [42]}", "principals[0]", "expected a string, got a number (quote it)"),
                source("{principals: [\"\"]}", "principals[0]", "must not be empty"),
                source("{principals: [\"cluster.local/ns/*/sa/admin\"]}", "principals[0]",
                        "'cluster.local/ns/*/sa/admin' may hold one '*', first or last only"),
                source("{notPrincipals: [\"*a*\"]}", "notPrincipals[0]", "may hold one '*'"),
                source("{requestPrincipals: [\"iss*/sub\"]}", "requestPrincipals[0]", "may hold one '*'"),
                source("{notRequestPrincipals: [\"**\"]}", "notRequestPrincipals[0]", "may hold one '*'"),
                source("{namespaces: [\"a*b\"]}", "namespaces[0]", "may hold one '*'"),
                source("{ipBlocks: [10.0.0.256]}", "ipBlocks[0]", "'10.0.0.256' is not an IPv4 or IPv6 address or CIDR block"),
                source("{ipBlocks: [example.com]}", "ipBlocks[0]", "is not an IPv4 or IPv6 address"),
                source("{ipBlocks: [localhost]}", "ipBlocks[0]", "is not an IPv4 or IPv6 address"),
                source("{ipBlocks: [1.2.3]}", "ipBlocks[0]", "is not an IPv4 or IPv6 address"),
                source("{ipBlocks: [010.0.0.1]}", "ipBlocks[0]", "is not an IPv4 or IPv6 address"),
                source("{ipBlocks: [\"fe80::1%eth0\"]}", "ipBlocks[0]", "is not an IPv4 or IPv6 address"),
                source("{ipBlocks: [\"[::1]\"]}", "ipBlocks[0]", "is not an IPv4 or IPv6 address"),
                source("{ipBlocks: [\"1:2:3:4:5:6:7:8:9\"]}", "ipBlocks[0]", "is not an IPv4 or IPv6 address"),
                source("{ipBlocks: [10.0.0.0/33]}", "ipBlocks[0]", "'10.0.0.0/33' has a prefix length outside 0-32"),
                source("{ipBlocks: [10.0.0.0/]}", "ipBlocks[0]", "has a prefix length outside 0-32"),
                source("{notIpBlocks: [\"2001:db8::/129\"]}", "notIpBlocks[0]", "has a prefix length outside 0-128"),

                // operation
                operation("{method: [GET]}", "method", "unknown field 'method'; known fields: hosts, notHosts, ports,"
                        + " notPorts, methods, notMethods, paths, notPaths"),
                operation("{methods: [GET, get]}", "methods[1]", "'get' is not an HTTP method in upper case"),
                operation("{notMethods: [\"GE T\"]}", "notMethods[0]", "'GE T' is not an HTTP method in upper case"),
                operation("{methods: [\"*\"]}", "methods[0]", "is not an HTTP method in upper case"),
                operation("{ports: [\"0\"]}", "ports[0]", "'0' is not a port (1-65535)"),
                operation("{ports: [65536]}", "ports[0]", "'65536' is not a port (1-65535)"),
                operation("{ports: [http]}", "ports[0]", "'http' is not a port"),
                operation("{notPorts: [\"080\"]}", "notPorts[0]", "'080' is not a port"),
                operation("{ports: [80.5]}", "ports[0]", "expected a string, got a number"),
                operation("{paths: [orders]}", "paths[0]", "'orders' must start with '/' (or '*' for a suffix match)"),
                operation("{paths: [\"/a*b\"]}", "paths[0]", "'/a*b' may hold one '*', first or last only"),
                operation("{notPaths: [\"*/a/*\"]}", "notPaths[0]", "may hold one '*'"),
                operation("{paths: [\"/a?b=1\"]}", "paths[0]", "holds a query or fragment"),
                operation("{paths: [\"/a/{*}/b\"]}", "paths[0]", "path template"),
                operation("{paths: [\"/a b\"]}", "paths[0]", "holds whitespace or control characters"),
                operation("{hosts: [\"a.*.example\"]}", "hosts[0]", "may hold one '*'"),

                // when
                when("{key: destination.ip, values: [10.0.0.1]}", ".key", "'destination.ip' is not a supported condition"
                        + " key; supported: request.auth.claims[<claim>] (nested: [<claim>][<claim>]),"
                        + " request.auth.principal, request.auth.audiences, request.auth.presenter,"
                        + " request.headers[<name>], source.ip, source.namespace, source.principal, destination.port"),
                when("{key: connection.sni, values: [a]}", ".key", "'connection.sni' is not a supported condition key"),
                when("{key: experimental.envoy.filters.a, values: [a]}", ".key", "is not a supported condition key"),
                when("{key: remote.ip, values: [10.0.0.1]}", ".key", "is not a supported condition key"),
                when("{key: request.auth.claims, values: [a]}", ".key", "is not a supported condition key"),
                when("{key: \"request.auth.claims[]\", values: [a]}", ".key", "is not a supported condition key"),
                when("{key: \"request.auth.claims[a]b\", values: [a]}", ".key", "is not a supported condition key"),
                when("{key: \"request.headers[x y]\", values: [a]}", ".key", "is not a supported condition key"),
                when("{values: [a]}", ".key", "is required"),
                when("{key: source.principal}", "", "needs values or notValues"),
                when("{key: source.principal, values: []}", "", "needs values or notValues"),
                when("{key: source.ip, values: [10.0.0.0/8], notValues: [nine]}", ".notValues[0]", "'nine' is not an IPv4"),
                when("{key: destination.port, values: [\"99999\"]}", ".values[0]", "'99999' is not a port"),
                when("{key: \"request.auth.claims[groups]\", values: [\"a*b\"]}", ".values[0]", "may hold one '*'"),
                when("{key: source.principal, value: [a]}", ".value", "unknown field 'value'; known fields: key, values, notValues"),

                // RequestAuthentication
                document("apiVersion: outrider.dev/v1\nkind: RequestAuthentication\nmetadata: {name: jwt, namespace: shop}\n"
                        + "spec: {rules: []}\n", RA, "spec.rules", "unknown field 'rules'; known fields: selector, jwtRules"),
                jwt("{jwksUri: \"https://issuer.example/jwks\"}", ".issuer", "is required"),
                jwt("{issuer: a}", "", "needs jwksUri or jwks"),
                jwt("{issuer: a, jwksUri: \"https://issuer.example/jwks\", jwks: '{\"keys\": [{}]}'}", ".jwks",
                        "set jwksUri or jwks, not both"),
                jwt("{issuer: a, jwksUri: \"http://issuer.example/jwks\"}", ".jwksUri",
                        "'http://issuer.example/jwks' must use https (http only to localhost, 127.0.0.0/8 or [::1])"),
                jwt("{issuer: a, jwksUri: \"http://128.0.0.1/jwks\"}", ".jwksUri", "must use https"),
                jwt("{issuer: a, jwksUri: \"http://localhost.evil.example/jwks\"}", ".jwksUri", "must use https"),
                jwt("{issuer: a, jwksUri: \"http://[::2]/jwks\"}", ".jwksUri", "must use https"),
                jwt("{issuer: a, jwksUri: \"ftp://issuer.example/jwks\"}", ".jwksUri", "must use https"),
                jwt("{issuer: a, jwksUri: \"/jwks\"}", ".jwksUri", "'/jwks' is not an absolute URI with a host"),
                jwt("{issuer: a, jwksUri: \"https://a b/\"}", ".jwksUri", "is not a URI"),
                jwt("{issuer: a, jwksUri: \"https://user:secret@issuer.example/jwks\"}", ".jwksUri",
                        "must not carry user information"),
                jwt("{issuer: a, jwks: '{\"keys\": '}", ".jwks", "is not valid JSON"),
                jwt("{issuer: a, jwks: '[]'}", ".jwks", "is not a JWK Set: expected a JSON object"),
                jwt("{issuer: a, jwks: '{\"keys\": {}}'}", ".jwks", "is not a JWK Set: expected a \"keys\" array"),
                jwt("{issuer: a, jwks: '{\"keys\": []}'}", ".jwks", "is a JWK Set without keys"),
                jwt("{issuer: a, jwks: '{\"keys\": [1]}'}", ".jwks", "keys[0] is not a JSON object"),
                jwt("{issuer: a, jwks: '{\"keys\": [{\"kty\": \"EC\", \"d\": \"x\"}]}'}", ".jwks",
                        "keys[0] holds private key material (\"d\"); publish the public key only"),
                jwt("{issuer: a, jwks: '{\"keys\": [{}]} {}'}", ".jwks", "is not valid JSON"),
                jwt("{issuer: a, jwksUri: \"https://i.example/k\", fromHeaders: [{prefix: \"Bearer \"}]}",
                        ".fromHeaders[0].name", "is required"),
                jwt("{issuer: a, jwksUri: \"https://i.example/k\", fromHeaders: [{name: \"x jwt\"}]}",
                        ".fromHeaders[0].name", "'x jwt' is not a valid header name"),
                jwt("{issuer: a, jwksUri: \"https://i.example/k\", fromHeaders: [x-jwt]}",
                        ".fromHeaders[0]", "expected a mapping, got a string"),
                jwt("{issuer: a, jwksUri: \"https://i.example/k\", fromParams: [\"a&b\"]}",
                        ".fromParams[0]", "'a&b' is not a query parameter name"),
                jwt("{issuer: a, jwksUri: \"https://i.example/k\", forwardOriginalToken: \"true\"}",
                        ".forwardOriginalToken", "expected true or false, got a string"),
                jwt("{issuer: a, jwksUri: \"https://i.example/k\", outputClaimToHeaders: [{header: Connection, claim: sub}]}",
                        ".outputClaimToHeaders[0].header", "'Connection' is a hop-by-hop header"),
                jwt("{issuer: a, jwksUri: \"https://i.example/k\", outputClaimToHeaders: [{header: transfer-encoding, claim: sub}]}",
                        ".outputClaimToHeaders[0].header", "is a hop-by-hop header"),
                jwt("{issuer: a, jwksUri: \"https://i.example/k\", outputClaimToHeaders: [{header: \":authority\", claim: sub}]}",
                        ".outputClaimToHeaders[0].header", "':authority' is a pseudo-header"),
                jwt("{issuer: a, jwksUri: \"https://i.example/k\", outputClaimToHeaders: [{header: \"x user\", claim: sub}]}",
                        ".outputClaimToHeaders[0].header", "'x user' is not a valid header name"),
                jwt("{issuer: a, jwksUri: \"https://i.example/k\", outputClaimToHeaders: [{header: x-user}]}",
                        ".outputClaimToHeaders[0].claim", "is required"),
                jwt("{issuer: a, jwksUri: \"https://i.example/k\", outputPayloadToHeader: x-payload}",
                        ".outputPayloadToHeader", "unknown field 'outputPayloadToHeader'; known fields: issuer, audiences,"
                                + " jwksUri, jwks, fromHeaders, fromParams, forwardOriginalToken, outputClaimToHeaders"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refused")
    void refusedWithDocumentPathAndProblem(Case c) {
        PolicyException e = catchThrowableOfType(PolicyException.class, () -> PolicyDocuments.parse(c.yaml(), "test.yaml"));

        assertThat(e).as("refused").isNotNull();
        assertThat(e.source()).isEqualTo("test.yaml");
        assertThat(e.document()).isEqualTo(c.document());
        assertThat(e.path()).isEqualTo(c.path());
        assertThat(e.problem()).contains(c.problem());
        String where = "test.yaml: " + c.document() + ": " + (c.path().isEmpty() ? "" : c.path() + ": ");
        assertThat(e).hasMessageStartingWith(where).hasMessageContaining(c.problem());
    }

    @Test
    void theMessageReadsSourceDocumentPathProblem() {
        assertThatThrownBy(() -> PolicyDocuments.parse("""
                apiVersion: outrider.dev/v1
                kind: AuthorizationPolicy
                metadata:
                  name: allow-frontend
                  namespace: shop
                spec:
                  rules:
                  - to:
                    - operation:
                        methods: [GET, get]
                """, "policies.yaml"))
                .isInstanceOf(PolicyException.class)
                .hasMessage("policies.yaml: AuthorizationPolicy shop/allow-frontend: spec.rules[0].to[0].operation.methods[1]:"
                        + " 'get' is not an HTTP method in upper case");
    }

    @Test
    void textBeyondTheParsersLimitsIsAPolicyException() {
        String deepYaml = "apiVersion: outrider.dev/v1\nkind: AuthorizationPolicy\nspec: " + "[".repeat(1100) + "]".repeat(1100);
        String deepJson = "{\"spec\": " + "[".repeat(1100) + "]".repeat(1100) + "}";
        for (String text : List.of(deepYaml, deepJson)) {
            assertThatThrownBy(() -> PolicyDocuments.parse(text, "deep.yaml"))
                    .isInstanceOf(PolicyException.class)
                    .hasMessageStartingWith("deep.yaml: document 1 (line 1): ")
                    .hasMessageContaining("nesting depth");
        }
    }

    @Test
    void aLaterDocumentIsNamedByItsPosition() {
        assertThatThrownBy(() -> PolicyDocuments.parse("""
                apiVersion: outrider.dev/v1
                kind: AuthorizationPolicy
                metadata: {name: fine, namespace: shop}
                ---
                # the second one
                apiVersion: outrider.dev/v1
                kind: Gateway
                """, "shop.yaml"))
                .isInstanceOf(PolicyException.class)
                .hasMessageStartingWith("shop.yaml: document 2 (line 6): kind: 'Gateway' is not a supported kind");
    }

    @Test
    void valuesInMessagesAreQuotedWithControlCharactersEscapedAndCut() {
        PolicyException e = catchThrowableOfType(PolicyException.class, () -> PolicyDocuments.parse("""
                apiVersion: outrider.dev/v1
                kind: AuthorizationPolicy
                metadata: {name: p, namespace: shop}
                spec: {rules: [{to: [{operation: {methods: ["GE\\u001bT%s"]}}]}]}
                """.formatted("X".repeat(200)), "test.yaml"));

        assertThat(e.problem()).startsWith("'GE\\u001bTXXX").contains("...'").hasSizeLessThan(140)
                .doesNotContain("\u001b");
    }
}
