package dev.outrider.controlplane.model;

import dev.outrider.core.model.ResourceKind;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static dev.outrider.core.model.ResourceKind.AUTHORIZATION_POLICY;
import static dev.outrider.core.model.ResourceKind.MESH_CONFIG;
import static dev.outrider.core.model.ResourceKind.RATE_LIMIT_POLICY;
import static dev.outrider.core.model.ResourceKind.REQUEST_AUTHENTICATION;
import static dev.outrider.core.model.ResourceKind.SERVICE;
import static dev.outrider.core.model.ResourceKind.SIDECAR;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** Every refusal of {@link ResourceDocuments#parse}: the reason, the field at fault and the problem named. */
class ResourceDocumentsErrorsTest {
    private static final String YAML = "application/yaml";
    private static final String JSON = "application/json";

    /** One refused body; {@code field} null when the document as a whole is at fault. */
    record Case(String title, ResourceKind kind, String namespace, String name, byte[] body, String contentType,
                ResourceValidationException.Reason reason, String field, String problem) {
        @Override
        public String toString() {
            return title;
        }
    }

    private static Case invalid(ResourceKind kind, String name, String body, String field, String problem) {
        return new Case((field == null ? "(document)" : field) + ": " + problem, kind, "shop", name,
                body.getBytes(StandardCharsets.UTF_8), YAML, ResourceValidationException.Reason.INVALID, field,
                problem);
    }

    private static Case policy(String spec, String field, String problem) {
        return invalid(AUTHORIZATION_POLICY, "p", """
                apiVersion: outrider.dev/v1
                kind: AuthorizationPolicy
                metadata: {name: p}
                spec: %s
                """.formatted(spec), field, problem);
    }

    private static Case service(String spec, String field, String problem) {
        return invalid(SERVICE, "orders", """
                apiVersion: outrider.dev/v1
                kind: Service
                metadata: {name: orders, namespace: shop}
                spec: %s
                """.formatted(spec), field, problem);
    }

    private static Case sidecar(String spec, String field, String problem) {
        return invalid(SIDECAR, "default", """
                apiVersion: networking.istio.io/v1
                kind: Sidecar
                metadata: {name: default, namespace: shop}
                spec: %s
                """.formatted(spec), field, problem);
    }

    private static Case mesh(String spec, String field, String problem) {
        return invalid(MESH_CONFIG, null, """
                apiVersion: outrider.dev/v1
                kind: MeshConfig
                metadata: {name: default}
                spec: %s
                """.formatted(spec), field, problem);
    }

    private static Case mediaType(String contentType, String problem) {
        return new Case("Content-Type " + contentType, SERVICE, "shop", "orders",
                "{\"kind\":\"Service\"}".getBytes(StandardCharsets.UTF_8), contentType,
                ResourceValidationException.Reason.UNSUPPORTED_MEDIA_TYPE, null, problem);
    }

    static List<Case> cases() {
        return List.of(
                // The sidecar's policy validator, its field and problem as it reports them.
                policy("{rules: [{to: [{operation: {methods: [GET, get]}}]}]}",
                        "spec.rules[0].to[0].operation.methods[1]", "'get' is not an HTTP method in upper case"),
                policy("{action: CUSTOM}", "spec.action", "action CUSTOM (an external authorizer) is not supported"),
                policy("{rulez: []}", "spec.rulez", "unknown field 'rulez'"),
                policy("{rules: [{from: [{source: {}}]}]}", "spec.rules[0].from[0].source", "must not be empty"),
                invalid(AUTHORIZATION_POLICY, "p", """
                        apiVersion: outrider.dev/v2
                        kind: AuthorizationPolicy
                        metadata: {name: p}
                        """, "apiVersion", "'outrider.dev/v2' is not a supported apiVersion"),
                invalid(AUTHORIZATION_POLICY, "p", """
                        kind: AuthorizationPolicy
                        metadata: {name: p}
                        """, "apiVersion", "is required"),
                invalid(RATE_LIMIT_POLICY, "limits", """
                        apiVersion: security.istio.io/v1
                        kind: RateLimitPolicy
                        metadata: {name: limits}
                        spec: {rules: [{maxInFlight: 10}]}
                        """, "apiVersion", "RateLimitPolicy is an outrider.dev/v1 kind"),
                invalid(RATE_LIMIT_POLICY, "limits", """
                        apiVersion: outrider.dev/v1
                        kind: RateLimitPolicy
                        metadata: {name: limits}
                        spec: {rules: [{limit: {requests: 10, per: 1}}]}
                        """, "spec.rules[0].limit.per", "expected a duration with a unit, got a number"),
                invalid(REQUEST_AUTHENTICATION, "jwt", """
                        apiVersion: security.istio.io/v1
                        kind: RequestAuthentication
                        metadata: {name: jwt, labels: {app: x}}
                        """, "metadata.labels", "unknown field 'labels'"),
                // Envelope: kind, metadata, resourceVersion, against the URL.
                invalid(AUTHORIZATION_POLICY, "p", "apiVersion: outrider.dev/v1\nmetadata: {name: p}\n",
                        "kind", "is required"),
                invalid(AUTHORIZATION_POLICY, "p", "apiVersion: outrider.dev/v1\nkind: Service\nmetadata: {name: p}\n",
                        "kind", "'Service' does not match the URL, which is for AuthorizationPolicy"),
                invalid(AUTHORIZATION_POLICY, "p", "apiVersion: outrider.dev/v1\nkind: [a]\n",
                        "kind", "expected a string, got a list"),
                invalid(SERVICE, "orders", "apiVersion: outrider.dev/v1\nkind: Service\nmetadata: {name: payments}\n",
                        "metadata.name", "'payments' does not match the name in the URL, 'orders'"),
                invalid(SERVICE, "orders", "apiVersion: outrider.dev/v1\nkind: Service\nmetadata: {name: Orders}\n",
                        "metadata.name", "'Orders' is not an RFC 1123 label"),
                invalid(SERVICE, null, "apiVersion: outrider.dev/v1\nkind: Service\nmetadata: {namespace: shop}\n",
                        "metadata.name", "is required"),
                invalid(SERVICE, null, "apiVersion: outrider.dev/v1\nkind: Service\n", "metadata.name", "is required"),
                invalid(SERVICE, "orders", "apiVersion: outrider.dev/v1\nkind: Service\nmetadata: {namespace: billing}\n",
                        "metadata.namespace", "'billing' does not match the namespace in the URL, 'shop'"),
                invalid(SERVICE, "orders", "apiVersion: outrider.dev/v1\nkind: Service\nmetadata: [orders]\n",
                        "metadata", "expected a mapping, got a list"),
                invalid(SERVICE, "orders", "apiVersion: outrider.dev/v1\nkind: Service\n"
                        + "metadata: {resourceVersion: abc}\n", "metadata.resourceVersion", "'abc' is not a resourceVersion"),
                invalid(SERVICE, "orders", "apiVersion: outrider.dev/v1\nkind: Service\n"
                        + "metadata: {resourceVersion: \"0\"}\n", "metadata.resourceVersion", "'0' is not a resourceVersion"),
                invalid(SERVICE, "orders", "apiVersion: outrider.dev/v1\nkind: Service\n"
                        + "metadata: {resourceVersion: \"-3\"}\n", "metadata.resourceVersion", "'-3' is not a resourceVersion"),
                invalid(SERVICE, "orders", "apiVersion: outrider.dev/v1\nkind: Service\n"
                        + "metadata: {resourceVersion: \"9999999999999999999\"}\n", "metadata.resourceVersion",
                        "'9999999999999999999' is greater than 9223372036854775807"),
                invalid(SERVICE, "orders", "apiVersion: outrider.dev/v1\nkind: Service\n"
                        + "metadata: {resourceVersion: 1.5}\n", "metadata.resourceVersion", "a number is not a resourceVersion"),
                invalid(SERVICE, "orders", "apiVersion: outrider.dev/v1\nkind: Service\n"
                        + "metadata: {labels: {app: orders}}\n", "metadata.labels", "unknown field 'labels'"),
                invalid(SERVICE, "orders", "apiVersion: outrider.dev/v1\nkind: Service\n"
                        + "metadata: {annotations: {replicas: 3}}\n", "metadata.annotations[replicas]",
                        "expected a string, got a number (quote it)"),
                invalid(SERVICE, "orders", "apiVersion: outrider.dev/v1\nkind: Service\nstatus: {}\n",
                        "status", "unknown field 'status'"),
                // The body as text.
                invalid(SERVICE, "orders", "kind: Service\nspec: {protocol: http2\n", null, "(line 3, column 1)"),
                invalid(SERVICE, "orders", "kind: Service\nkind: Service\n", "kind", "Duplicate field 'kind'"),
                invalid(SERVICE, "orders", "kind: Service\n---\nkind: Service\n", null,
                        "the body holds more than one document (line 3); send one per request"),
                invalid(SERVICE, "orders", "# nothing\n", null, "the body holds no document"),
                invalid(SERVICE, "orders", "- kind: Service\n", null, "expected a document (a mapping), got a list"),
                invalid(SERVICE, "orders", "kind: Service\nspec: {protocol: !!binary aGk=}\n", "spec.protocol",
                        "binary data is not supported"),
                invalid(SERVICE, "orders", "kind: Service\nspec: {weight: .nan}\n", "spec.weight",
                        "Malformed numeric value '.nan' (line 2)"),
                new Case("JSON syntax", SERVICE, "shop", "orders",
                        "{\"kind\": \"Service\", \"spec\": {\"protocol\": http2}}".getBytes(StandardCharsets.UTF_8),
                        JSON, ResourceValidationException.Reason.INVALID, "spec.protocol", "Unrecognized token 'http2'"),
                new Case("JSON trailing", SERVICE, "shop", "orders",
                        "{\"kind\": \"Service\"} {\"kind\": \"Service\"}".getBytes(StandardCharsets.UTF_8),
                        JSON, ResourceValidationException.Reason.INVALID, null, "more than one document"),
                new Case("not UTF-8", SERVICE, "shop", "orders", new byte[]{'k', ':', ' ', (byte) 0xC3, '(', '\n'},
                        YAML, ResourceValidationException.Reason.INVALID, null, "the body is not UTF-8 text"),
                invalid(SERVICE, "Orders!", "kind: Service\n", null, "the name in the URL, 'Orders!', is not an RFC"),
                // Service.
                service("{protocol: grpc}", "spec.protocol", "'grpc' is not a protocol; use http1, http2, auto"),
                service("{protocol: 2}", "spec.protocol", "expected a string, got a number (quote it)"),
                service("{exportTo: [shop, Billing]}", "spec.exportTo[1]",
                        "'Billing' is not '*' (every namespace), '.' (its own) or a namespace"),
                service("{exportTo: [shop, \"*\"]}", "spec.exportTo[1]", "'*' (every namespace) cannot be combined"),
                service("{exportTo: [shop, shop]}", "spec.exportTo[1]", "'shop' is already listed at spec.exportTo[0]"),
                service("{exportTo: []}", "spec.exportTo", "must not be empty; leave it out for the default"),
                service("{exportTo: shop}", "spec.exportTo", "expected a list, got a string"),
                service("{exportTo: [\"\"]}", "spec.exportTo[0]", "must not be empty"),
                service("{serviceAccounts: [orders, orders_v2]}", "spec.serviceAccounts[1]",
                        "'orders_v2' is not an RFC 1123 label"),
                service("{serviceAccounts: [orders, ~]}", "spec.serviceAccounts[1]", "must not be null"),
                service("{ports: [8080]}", "spec.ports", "unknown field 'ports'; known fields: protocol,"
                        + " serviceAccounts, exportTo"),
                service("[http2]", "spec", "expected a mapping, got a list"),
                invalid(SERVICE, "orders", "apiVersion: security.istio.io/v1\nkind: Service\n", "apiVersion",
                        "'security.istio.io/v1' is not a supported apiVersion: Service is an outrider.dev/v1 kind"),
                invalid(SERVICE, "orders", "kind: Service\n", "apiVersion", "is required"),
                // Sidecar.
                sidecar("{egress: [{hosts: [payments]}]}", "spec.egress[0].hosts[0]",
                        "'payments' has no namespace: write NAMESPACE/SERVICE"),
                sidecar("{egress: [{hosts: [\"./*\", \"Payments/*\"]}]}", "spec.egress[0].hosts[1]",
                        "'Payments/*': 'Payments' is not '*' (any namespace), '.' (the workload's) or a namespace"),
                sidecar("{egress: [{hosts: [\"payments/payments.payments.svc.cluster.local\"]}]}",
                        "spec.egress[0].hosts[0]", "'payments.payments.svc.cluster.local' is a mesh service's DNS name;"
                                + " name a Service by its metadata.name"),
                sidecar("{egress: [{hosts: [\"*/*.example.com\"]}]}", "spec.egress[0].hosts[0]",
                        "'*.example.com' is not '*'"),
                sidecar("{egress: [{hosts: [\"~/*\"]}]}", "spec.egress[0].hosts[0]",
                        "'~' (no namespace) is not supported"),
                sidecar("{egress: [{hosts: [\"/orders\"]}]}", "spec.egress[0].hosts[0]", "'' is not '*'"),
                sidecar("{egress: [{hosts: [\"./*\", \"./*\"]}]}", "spec.egress[0].hosts[1]",
                        "'./*' is already listed at spec.egress[0].hosts[0]"),
                sidecar("{egress: [{hosts: []}]}", "spec.egress[0].hosts", "must not be empty"),
                sidecar("{egress: [{}]}", "spec.egress[0].hosts", "is required"),
                sidecar("{egress: []}", "spec.egress", "must not be empty; leave egress out for every service exported"),
                sidecar("{egress: [{hosts: [\"./*\"]}, {hosts: [\"payments/*\"]}]}", "spec.egress[1]",
                        "one egress entry only"),
                sidecar("{egress: [{port: {number: 80}, hosts: [\"./*\"]}]}", "spec.egress[0].port",
                        "Istio's 'port' is not supported: a snapshot carries whole services, not listeners"),
                sidecar("{egress: [{hosts: [\"./*\"], bind: 127.0.0.1}]}", "spec.egress[0].bind", "not supported"),
                sidecar("{egress: [{hosts: \"./*\"}]}", "spec.egress[0].hosts", "expected a list, got a string"),
                sidecar("{egress: [{hosts: [3]}]}", "spec.egress[0].hosts[0]", "expected a string, got a number"),
                sidecar("{ingress: [{port: {number: 80}}]}", "spec.ingress", "Istio's 'ingress' is not supported"),
                sidecar("{outboundTrafficPolicy: {mode: REGISTRY_ONLY}}", "spec.outboundTrafficPolicy",
                        "not supported"),
                sidecar("{workloadSelector: {labels: {app: web}}}", "spec.workloadSelector.labels",
                        "select workloads with serviceAccounts"),
                sidecar("{workloadSelector: {serviceAccounts: []}}", "spec.workloadSelector.serviceAccounts",
                        "must not be empty; leave workloadSelector out"),
                sidecar("{workloadSelector: {}}", "spec.workloadSelector.serviceAccounts", "is required"),
                sidecar("{workloadSelector: {serviceAccounts: [Web]}}", "spec.workloadSelector.serviceAccounts[0]",
                        "'Web' is not an RFC 1123 label"),
                sidecar("{workloadSelector: {serviceAccounts: [web, web]}}", "spec.workloadSelector.serviceAccounts[1]",
                        "'web' is already listed"),
                sidecar("{egres: []}", "spec.egres", "unknown field 'egres'; known fields: workloadSelector, egress"),
                invalid(SIDECAR, "default", "apiVersion: outrider.dev/v2\nkind: Sidecar\n", "apiVersion",
                        "'outrider.dev/v2' is not a supported apiVersion; supported: outrider.dev/v1,"
                                + " networking.istio.io/v1, networking.istio.io/v1beta1, networking.istio.io/v1alpha3"),
                // MeshConfig.
                mesh("{rootNamespace: Root}", "spec.rootNamespace", "'Root' is not an RFC 1123 label"),
                mesh("{certificateTtl: 30s}", "spec.certificateTtl", "'30s' must be between 60s and 7d"),
                mesh("{certificateTtl: 8d}", "spec.certificateTtl", "'8d' must be between 60s and 7d"),
                mesh("{registrationTtl: 5s}", "spec.registrationTtl", "'5s' must be between 10s and 1h"),
                mesh("{registrationTtl: 61m}", "spec.registrationTtl", "'61m' must be between 10s and 1h"),
                mesh("{registrationTtl: 60}", "spec.registrationTtl", "expected a duration with a unit, got a number"),
                mesh("{registrationTtl: 1 m}", "spec.registrationTtl", "'1 m' is not a duration"),
                mesh("{registrationTtl: 1h30m}", "spec.registrationTtl", "'1h30m' must be between 10s and 1h"),
                mesh("{registrationTtl: 30s1m}", "spec.registrationTtl", "'30s1m' is not a duration"),
                mesh("{registrationTtl: 99999999999999999999s}", "spec.registrationTtl",
                        "'99999999999999999999s' must be between 10s and 1h"),
                mesh("{registrationTtl: 030s}", "spec.registrationTtl", "'030s' is not a duration"),
                mesh("{tracing: true}", "spec.tracing", "unknown field 'tracing'"),
                invalid(MESH_CONFIG, null, "apiVersion: outrider.dev/v1\nkind: MeshConfig\n"
                        + "metadata: {name: default, namespace: mesh}\n", "metadata.namespace",
                        "the MeshConfig has no namespace; leave it out"),
                invalid(MESH_CONFIG, null, "apiVersion: outrider.dev/v1\nkind: MeshConfig\nmetadata: {name: other}\n",
                        "metadata.name", "'other' is not the MeshConfig's name; there is one, named 'default'"),
                // Media types the API does not read.
                mediaType("text/plain", "Content-Type 'text/plain' is not supported; send application/yaml or"
                        + " application/json"),
                mediaType("application/x-www-form-urlencoded", "is not supported"),
                mediaType(null, "no Content-Type"),
                mediaType("application/json; charset=ISO-8859-1", "charset 'ISO-8859-1' is not supported; send UTF-8"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void refused(Case c) {
        ResourceValidationException e = catchThrowableOfType(ResourceValidationException.class,
                () -> ResourceDocuments.parse(c.kind(), c.namespace(), c.name(), c.body(), c.contentType()));
        assertThat(e).as("refused").isNotNull();
        assertThat(e.reason()).isEqualTo(c.reason());
        assertThat(e.field()).isEqualTo(c.field());
        assertThat(e.problem()).contains(c.problem());
        assertThat(e.getMessage()).isEqualTo(c.field() == null ? e.problem() : c.field() + ": " + e.problem());
    }
}
