package dev.outrider.controlplane.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.outrider.core.document.Durations;
import dev.outrider.core.model.ServiceName;
import dev.outrider.core.model.ServiceProtocol;
import dev.outrider.core.policy.AuthorizationPolicy;
import dev.outrider.core.policy.PolicyDocument;
import dev.outrider.core.policy.PolicyDocuments;
import dev.outrider.controlplane.store.FileStore;
import dev.outrider.controlplane.store.ResourceKey;
import dev.outrider.controlplane.store.Store;
import dev.outrider.controlplane.store.StoredResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static dev.outrider.core.model.ResourceKind.AUTHORIZATION_POLICY;
import static dev.outrider.core.model.ResourceKind.MESH_CONFIG;
import static dev.outrider.core.model.ResourceKind.RATE_LIMIT_POLICY;
import static dev.outrider.core.model.ResourceKind.REQUEST_AUTHENTICATION;
import static dev.outrider.core.model.ResourceKind.SERVICE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ResourceDocumentsTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    static final String ALLOW_FRONTEND = """
            # a comment, and no namespace: the URL gives it
            apiVersion: outrider.dev/v1
            kind: AuthorizationPolicy
            metadata:
              name: allow-frontend
              annotations: {outrider.dev/dry-run: "true"}
            spec:
              selector: {matchLabels: {app: orders}}
              rules:
              - from: [{source: {principals: ["cluster.local/ns/shop/sa/frontend"]}}]
                to: [{operation: {methods: [GET], paths: ["/orders/*"], ports: [8080]}}]
            """;

    @TempDir
    Path dir;

    @Test
    void policyFromYamlIsStoredAsNormalizedJsonTheSidecarReads() throws IOException {
        ValidatedResource r = ResourceDocuments.parse(AUTHORIZATION_POLICY, "shop", "allow-frontend",
                bytes(ALLOW_FRONTEND), "application/yaml; charset=utf-8");

        assertThat(r.key()).isEqualTo(new ResourceKey("AuthorizationPolicy", "shop", "allow-frontend"));
        assertThat(r.expectedVersion()).isEqualTo(Store.ANY_VERSION);
        JsonNode stored = JSON.readTree(r.json());
        assertThat(stored.fieldNames()).toIterable().containsExactly("apiVersion", "kind", "metadata", "spec");
        assertThat(stored.get("metadata").fieldNames()).toIterable().containsExactly("name", "namespace", "annotations");
        assertThat(stored.at("/metadata/namespace").textValue()).isEqualTo("shop");
        assertThat(stored.at("/spec/rules/0/to/0/operation/ports/0").intValue()).isEqualTo(8080);

        List<PolicyDocument> read = PolicyDocuments.parse(new String(r.json(), StandardCharsets.UTF_8), "test");
        assertThat(read).singleElement().isInstanceOfSatisfying(AuthorizationPolicy.class, p -> {
            assertThat(p.metadata().id()).isEqualTo("shop/allow-frontend");
            assertThat(p.metadata().dryRun()).isTrue();
            assertThat(p.rules()).hasSize(1);
        });
    }

    @Test
    void acceptsWhatTheSidecarAccepts() {
        ValidatedResource istio = ResourceDocuments.parse(REQUEST_AUTHENTICATION, "shop", null, bytes("""
                apiVersion: security.istio.io/v1beta1
                kind: RequestAuthentication
                metadata: {name: jwt, namespace: shop}
                spec:
                  jwtRules: [{issuer: "https://issuer.example", jwksUri: "https://issuer.example/jwks"}]
                """), "text/yaml");
        assertThat(istio.key()).isEqualTo(new ResourceKey("RequestAuthentication", "shop", "jwt"));

        ValidatedResource limits = ResourceDocuments.parse(RATE_LIMIT_POLICY, "shop", "limits", bytes("""
                {"apiVersion": "outrider.dev/v1", "kind": "RateLimitPolicy", "metadata": {"name": "limits"},
                 "spec": {"rules": [{"key": "source.principal", "limit": {"requests": 100, "per": "1s"}}]}}
                """), "Application/JSON");
        assertThat(limits.key().name()).isEqualTo("limits");

        ValidatedResource empty = ResourceDocuments.parse(AUTHORIZATION_POLICY, "shop", "deny-nothing",
                bytes("apiVersion: outrider.dev/v1\nkind: AuthorizationPolicy\n"), "application/x-yaml");
        assertThat(new String(empty.json(), StandardCharsets.UTF_8)).isEqualTo("{\"apiVersion\":\"outrider.dev/v1\","
                + "\"kind\":\"AuthorizationPolicy\",\"metadata\":{\"name\":\"deny-nothing\",\"namespace\":\"shop\"}}");
    }

    @Test
    void resourceVersionBecomesTheExpectedVersionAndIsNotStored() throws IOException {
        for (String version : List.of("\"42\"", "42")) {
            ValidatedResource r = ResourceDocuments.parse(SERVICE, "shop", "orders", bytes(
                    "apiVersion: outrider.dev/v1\nkind: Service\nmetadata: {name: orders, resourceVersion: "
                            + version + "}\n"), "application/yaml");
            assertThat(r.expectedVersion()).isEqualTo(42);
            assertThat(JSON.readTree(r.json()).get("metadata").has("resourceVersion")).isFalse();
        }
    }

    @Test
    void renderAddsTheStoredVersionAndParsesBackToTheSameDocument() throws IOException {
        try (FileStore store = FileStore.open(dir)) {
            store.put(new ResourceKey("Service", "other", "x"), bytes("{}"), Store.ANY_VERSION); // revision 1
            ValidatedResource first = ResourceDocuments.parse(AUTHORIZATION_POLICY, "shop", "allow-frontend",
                    bytes(ALLOW_FRONTEND), "application/yaml");
            StoredResource stored = store.put(first.key(), first.json(), first.expectedVersion());

            byte[] rendered = ResourceDocuments.render(stored);
            JsonNode tree = JSON.readTree(rendered);
            assertThat(tree.at("/metadata/resourceVersion").isTextual()).isTrue();
            assertThat(tree.at("/metadata/resourceVersion").textValue()).isEqualTo("2");

            ValidatedResource again = ResourceDocuments.parse(AUTHORIZATION_POLICY, "shop", "allow-frontend",
                    rendered, "application/json");
            assertThat(again.expectedVersion()).isEqualTo(stored.resourceVersion());
            assertThat(again.json()).isEqualTo(first.json());
            assertThat(again.key()).isEqualTo(first.key());
        }
    }

    @Test
    void postTakesTheNameFromTheBody() {
        ValidatedResource r = ResourceDocuments.parse(SERVICE, "shop", null,
                bytes("{\"apiVersion\":\"outrider.dev/v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"orders\"}}"),
                "application/json");
        assertThat(r.key()).isEqualTo(new ResourceKey("Service", "shop", "orders"));
    }

    @Test
    void serviceSpecDefaultsAndExports() throws IOException {
        try (FileStore store = FileStore.open(dir)) {
            ServiceSpec defaults = spec(store, "orders", "{}");
            assertThat(defaults).isEqualTo(new ServiceSpec(new ServiceName("orders", "shop"), ServiceProtocol.AUTO,
                    List.of("orders"), List.of("*")));
            assertThat(defaults.exportedTo("billing")).isTrue();
            assertThat(defaults.allowsServiceAccount("orders")).isTrue();
            assertThat(defaults.allowsServiceAccount("payments")).isFalse();

            ServiceSpec own = spec(store, "payments", "{protocol: auto, serviceAccounts: [payments, payments-v2],"
                    + " exportTo: [\".\", billing]}");
            assertThat(own.protocol()).isEqualTo(ServiceProtocol.AUTO);
            assertThat(own.exportedTo("shop")).isTrue();
            assertThat(own.exportedTo("billing")).isTrue();
            assertThat(own.exportedTo("other")).isFalse();
            assertThat(own.allowsServiceAccount("payments-v2")).isTrue();
            assertThat(own.allowsServiceAccount("orders")).isFalse();

            ServiceSpec others = spec(store, "audit", "{exportTo: [billing]}");
            assertThat(others.exportedTo("shop")).isFalse();
            assertThat(others.exportedTo("billing")).isTrue();

            assertThat(spec(store, "ledger", "{protocol: http1}").protocol()).isEqualTo(ServiceProtocol.HTTP1);
            assertThat(spec(store, "stock", "{protocol: http2}").protocol()).isEqualTo(ServiceProtocol.HTTP2);
        }
    }

    @Test
    void meshConfigDefaultsWhenAbsentAndAsStored() throws IOException {
        try (FileStore store = FileStore.open(dir)) {
            assertThat(MeshConfig.load(store)).isEqualTo(MeshConfig.DEFAULTS);
            assertThat(MeshConfig.DEFAULTS).isEqualTo(new MeshConfig("outrider-system", Duration.ofHours(24),
                    Duration.ofSeconds(60)));

            ValidatedResource partial = ResourceDocuments.parse(MESH_CONFIG, null, null, bytes(
                    "apiVersion: outrider.dev/v1\nkind: MeshConfig\nspec: {registrationTtl: 2m}\n"), "application/yaml");
            assertThat(partial.key()).isEqualTo(MeshConfig.KEY);
            store.put(partial.key(), partial.json(), partial.expectedVersion());
            assertThat(MeshConfig.load(store)).isEqualTo(new MeshConfig("outrider-system", Duration.ofHours(24),
                    Duration.ofMinutes(2)));

            ValidatedResource full = ResourceDocuments.parse(MESH_CONFIG, null, "default", bytes("""
                    apiVersion: outrider.dev/v1
                    kind: MeshConfig
                    metadata: {name: default}
                    spec: {rootNamespace: mesh-root, certificateTtl: 7d, registrationTtl: 10s}
                    """), "application/yaml");
            store.put(full.key(), full.json(), Store.ANY_VERSION);
            assertThat(MeshConfig.load(store)).isEqualTo(new MeshConfig("mesh-root", Duration.ofDays(7),
                    Duration.ofSeconds(10)));

            ValidatedResource mixed = ResourceDocuments.parse(MESH_CONFIG, null, "default", bytes("""
                    apiVersion: outrider.dev/v1
                    kind: MeshConfig
                    spec: {certificateTtl: 1d12h, registrationTtl: 1m30s}
                    """), "application/yaml");
            store.put(mixed.key(), mixed.json(), Store.ANY_VERSION);
            assertThat(MeshConfig.load(store)).isEqualTo(new MeshConfig("outrider-system", Duration.ofHours(36),
                    Duration.ofSeconds(90)));
        }
    }

    @Test
    void meshConfigDefaultsDocumentIsAcceptedBack() {
        byte[] document = MeshConfig.DEFAULTS.toDocument();
        assertThat(new String(document, StandardCharsets.UTF_8)).contains("\"certificateTtl\":\"24h\"",
                "\"registrationTtl\":\"60s\"", "\"rootNamespace\":\"outrider-system\"");
        ValidatedResource r = ResourceDocuments.parse(MESH_CONFIG, null, null, document, "application/json");
        assertThat(MeshConfig.read(ResourceDocuments.readStored(new StoredResource(r.key(), 1, r.json()))
                .get("spec"))).isEqualTo(MeshConfig.DEFAULTS);
        assertThat(Durations.formatInSeconds(Duration.ofDays(2))).isEqualTo("2d");
        assertThat(Durations.formatInSeconds(Duration.ofSeconds(90))).isEqualTo("90s");
        assertThat(Durations.formatInSeconds(Duration.ofHours(1))).isEqualTo("1h");
        assertThat(Durations.formatInSeconds(Duration.ofMinutes(5))).isEqualTo("5m");
    }

    @Test
    void meshConfigBoundsInTheRecord() {
        assertThatThrownBy(() -> new MeshConfig("mesh", Duration.ofSeconds(59), Duration.ofSeconds(60)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("certificateTtl");
        assertThatThrownBy(() -> new MeshConfig("mesh", Duration.ofHours(1), Duration.ofHours(2)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("registrationTtl");
    }

    @Test
    void damagedStoredDocumentsAreReportedWithTheirKey() {
        StoredResource service = new StoredResource(new ResourceKey("Service", "shop", "orders"), 3,
                bytes("{\"spec\":{\"protocol\":\"grpc\"}}"));
        assertThatThrownBy(() -> ServiceSpec.of(service)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("Service/shop/orders").hasMessageContaining("spec.protocol");
        StoredResource notJson = new StoredResource(MeshConfig.KEY, 3, bytes("{"));
        assertThatThrownBy(() -> MeshConfig.of(notJson)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("MeshConfig/mesh/default");
    }

    @Test
    void policyTextJoinsStoredPoliciesInKeyOrder() {
        StoredResource b = policy("shop", "b", 5);
        StoredResource a = policy("shop", "a", 9);
        StoredResource root = policy("outrider-system", "mesh-wide", 2);
        String text = ResourceDocuments.policyText(List.of(b, a, root));

        assertThat(PolicyDocuments.parse(text, "snapshot")).extracting(d -> d.metadata().id())
                .containsExactly("outrider-system/mesh-wide", "shop/a", "shop/b");
        assertThat(ResourceDocuments.policyText(List.of(a, root, b))).isEqualTo(text);
        assertThat(ResourceDocuments.policyText(List.of())).isEmpty();
        assertThat(PolicyDocuments.parse(ResourceDocuments.policyText(List.of()), "snapshot")).isEmpty();
    }

    private static StoredResource policy(String namespace, String name, long version) {
        ValidatedResource r = ResourceDocuments.parse(AUTHORIZATION_POLICY, namespace, name, bytes(
                "apiVersion: outrider.dev/v1\nkind: AuthorizationPolicy\nspec: {action: DENY, rules: [{}]}\n"),
                "application/yaml");
        return new StoredResource(r.key(), version, r.json());
    }

    private static ServiceSpec spec(Store store, String name, String spec) {
        ValidatedResource r = ResourceDocuments.parse(SERVICE, "shop", name, bytes(
                "apiVersion: outrider.dev/v1\nkind: Service\nspec: " + spec + "\n"), "application/yaml");
        return ServiceSpec.of(store.put(r.key(), r.json(), r.expectedVersion()));
    }

    static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
