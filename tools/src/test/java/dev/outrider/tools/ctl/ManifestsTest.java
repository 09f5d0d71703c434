package dev.outrider.tools.ctl;

import dev.outrider.core.model.ResourceKind;
import dev.outrider.tools.ctl.Manifests.Manifest;
import dev.outrider.tools.ctl.Manifests.ManifestException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ManifestsTest {
    private static final String THREE = """
            # policies for the shop
            apiVersion: outrider.dev/v1
            kind: AuthorizationPolicy
            metadata: {name: orders-allow, namespace: shop}
            spec: {rules: [{}]}
            ---
            ---
            apiVersion: outrider.dev/v1
            kind: Service
            metadata:
              name: orders
            spec: {protocol: http1}
            ---
            apiVersion: outrider.dev/v1
            kind: MeshConfig
            metadata: {name: default}
            spec: {certificateTtl: 12h}
            """;

    @Test
    void splitsDocumentsAndResolvesKindNameAndNamespace() {
        List<Manifest> manifests = Manifests.read(THREE, "shop.yaml", "shop");

        assertThat(manifests).hasSize(3);
        Manifest policy = manifests.get(0);
        assertThat(policy.kind()).isEqualTo(ResourceKind.AUTHORIZATION_POLICY);
        assertThat(policy.namespace()).isEqualTo("shop");
        assertThat(policy.name()).isEqualTo("orders-allow");
        assertThat(policy.problem()).isNull();
        assertThat(policy.label()).isEqualTo("authorizationpolicy shop/orders-allow");
        assertThat(policy.where()).isEqualTo("shop.yaml: document 1 (line 2), authorizationpolicy shop/orders-allow");

        Manifest service = manifests.get(1);
        assertThat(service.index()).isEqualTo(3); // the empty document between two "---" counts, as in PolicyDocuments
        assertThat(service.line()).isEqualTo(8);
        assertThat(service.namespace()).isEqualTo("shop"); // from -n
        assertThat(new String(service.json(), StandardCharsets.UTF_8))
                .isEqualTo("{\"apiVersion\":\"outrider.dev/v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"orders\"},"
                        + "\"spec\":{\"protocol\":\"http1\"}}");

        Manifest mesh = manifests.get(2);
        assertThat(mesh.kind()).isEqualTo(ResourceKind.MESH_CONFIG);
        assertThat(mesh.namespace()).isNull();
        assertThat(mesh.label()).isEqualTo("meshconfig default");
        assertThat(mesh.problem()).isNull();
    }

    @Test
    void aPeerAuthenticationIsAPolicyManifestUnderIstiosApiVersion() {
        List<Manifest> manifests = Manifests.read("""
                apiVersion: security.istio.io/v1
                kind: PeerAuthentication
                metadata: {name: orders-migration, namespace: shop}
                spec: {selector: {matchLabels: {app: orders}}, mtls: {mode: PERMISSIVE}}
                """, "migration.yaml", null);

        assertThat(manifests).singleElement().satisfies(m -> {
            assertThat(m.kind()).isEqualTo(ResourceKind.PEER_AUTHENTICATION);
            assertThat(m.kind().isPolicy()).isTrue();
            assertThat(m.problem()).isNull();
            assertThat(m.label()).isEqualTo("peerauthentication shop/orders-migration");
        });
    }

    @Test
    void aDocumentWithoutNamespaceNeedsDashN() {
        List<Manifest> manifests = Manifests.read(THREE, "shop.yaml", null);

        assertThat(manifests.get(0).problem()).isNull();
        assertThat(manifests.get(1).problem()).isEqualTo("metadata.namespace: not set; set it or use -n NAMESPACE");
        assertThat(manifests.get(2).problem()).isNull();
    }

    @Test
    void aNamespaceOtherThanDashNIsAProblem() {
        List<Manifest> manifests = Manifests.read(THREE, "shop.yaml", "store");

        assertThat(manifests.get(0).problem()).contains("'shop' is not the namespace given with -n ('store')");
        assertThat(manifests.get(1).namespace()).isEqualTo("store");
        assertThat(manifests.get(1).problem()).isNull();
    }

    @Test
    void documentsThatCannotBeAddressedAreProblemsOfTheirOwn() {
        List<Manifest> manifests = Manifests.read("""
                kind: Gateway
                metadata: {name: x, namespace: shop}
                ---
                metadata: {name: y}
                ---
                kind: Service
                metadata: {namespace: shop}
                ---
                - a list
                """, "f.yaml", null);

        assertThat(manifests).extracting(Manifest::problem).containsExactly(
                "kind: 'Gateway' is not one of AuthorizationPolicy, RequestAuthentication, RateLimitPolicy, PeerAuthentication, Service, Sidecar, ServiceEntry, MeshConfig",
                "kind: is required",
                "Service: metadata.name: is required",
                "a document must be a mapping with apiVersion, kind, metadata, spec");
        assertThat(manifests.get(3).where()).isEqualTo("f.yaml: document 4 (line 9)");
    }

    @Test
    void invalidYamlNamesTheFileDocumentAndLine() {
        assertThatThrownBy(() -> Manifests.read("""
                kind: Service
                metadata: {name: a, namespace: shop}
                ---
                kind: Service
                metadata: {name: b, namespace: shop
                spec: {}
                """, "bad.yaml", null))
                .isInstanceOf(ManifestException.class)
                .hasMessageStartingWith("bad.yaml: document 2: not YAML: ")
                .hasMessageContaining("line 6");
    }

    @Test
    void aliasesAndAnchorsAreRefusedNamingTheDocumentAndField() {
        assertThatThrownBy(() -> Manifests.read("""
                kind: Service
                metadata: {name: a, namespace: shop}
                ---
                apiVersion: outrider.dev/v1
                kind: AuthorizationPolicy
                metadata: {name: deny-intruder, namespace: shop}
                spec:
                  action: DENY
                  rules: [{from: [{source: {principals: [*intruder]}}]}]
                """, "deny.yaml", null))
                .isInstanceOf(ManifestException.class)
                .hasMessage("deny.yaml: document 2: spec.rules[0].from[0].source.principals[0]: YAML alias *intruder"
                        + " (line 9, column 42) is not supported; quote a value that starts with '*' (\"*intruder\")"
                        + " or write the value out in full");
        assertThatThrownBy(() -> Manifests.read("kind: Service\nmetadata: &m {name: a, namespace: shop}\n", "a.yaml", null))
                .isInstanceOf(ManifestException.class)
                .hasMessageStartingWith("a.yaml: document 1: metadata: YAML anchor &m (line 2, column 11) is not supported");
        assertThat(Manifests.read("kind: Service\nmetadata: {name: a, namespace: shop, labels: {x: '*y'}}\n", "q.yaml",
                null).getFirst().document().at("/metadata/labels/x").asText()).isEqualTo("*y");
    }

    @Test
    void duplicateKeysAreRefused() {
        assertThatThrownBy(() -> Manifests.read("kind: Service\nkind: Service\n", "dup.yaml", null))
                .isInstanceOf(ManifestException.class)
                .hasMessageContaining("Duplicate field 'kind'");
    }

    @Test
    void jsonObjectsAreDocumentsToo() {
        List<Manifest> manifests = Manifests.read("""
                {"kind": "Service", "metadata": {"name": "a", "namespace": "shop"}}
                {"kind": "RateLimitPolicy",\t"metadata": {"name": "b", "namespace": "shop"}}
                """, "f.json", null);

        assertThat(manifests).extracting(Manifest::label)
                .containsExactly("service shop/a", "ratelimitpolicy shop/b");
    }

    @Test
    void loadReadsFilesDirectoriesAndStdinInOrder(@TempDir Path dir) throws Exception {
        Path policies = Files.createDirectory(dir.resolve("policies"));
        Files.writeString(policies.resolve("b.yaml"), "kind: Service\nmetadata: {name: b, namespace: shop}\n");
        Files.writeString(policies.resolve("a.yml"), "kind: Service\nmetadata: {name: a, namespace: shop}\n");
        Files.writeString(policies.resolve("notes.txt"), "not read");
        Path single = Files.writeString(dir.resolve("c.json"), "{\"kind\": \"Service\", \"metadata\": {\"name\": \"c\"}}");
        var stdin = new ByteArrayInputStream("kind: Service\nmetadata: {name: d}\n".getBytes(StandardCharsets.UTF_8));

        List<Manifest> manifests = Manifests.load(List.of(policies.toString(), single.toString(), "-"), stdin, "shop");

        assertThat(manifests).extracting(Manifest::name).containsExactly("a", "b", "c", "d");
        assertThat(manifests.get(3).source()).isEqualTo("<stdin>");
        assertThatThrownBy(() -> Manifests.load(List.of(dir.resolve("missing.yaml").toString()), stdin, null))
                .isInstanceOf(ManifestException.class).hasMessageContaining("missing.yaml: no such file");
    }
}
