package dev.outrider.core.policy;

import dev.outrider.core.policy.PeerAuthentication.Mode;
import dev.outrider.core.policy.PeerAuthentications.Effective;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * PeerAuthentication documents: what is accepted (Istio's layout, under every apiVersion Istio's kinds are read
 * under), every refusal with its path, and the mode that results for a workload's port (Istio's precedence).
 */
class PeerAuthenticationDocumentsTest {
    private static final String PA = "PeerAuthentication shop/pa";

    private static PeerAuthentication only(String yaml) {
        List<PolicyDocument> documents = PolicyDocuments.parse(yaml, "test.yaml");
        assertThat(documents).hasSize(1);
        return (PeerAuthentication) documents.getFirst();
    }

    private static String withSpec(String spec) {
        return """
                apiVersion: security.istio.io/v1
                kind: PeerAuthentication
                metadata: {name: pa, namespace: shop}
                spec: %s
                """.formatted(spec);
    }

    @Test
    void everyFieldIsReadIntoTheRecord() {
        PeerAuthentication pa = only("""
                apiVersion: outrider.dev/v1
                kind: PeerAuthentication
                metadata: {name: orders-migration, namespace: shop}
                spec:
                  selector: {matchLabels: {app: orders}}
                  mtls: {mode: PERMISSIVE}
                  portLevelMtls:
                    8080: {mode: STRICT}
                    "9090": {mode: DISABLE}
                    9091: {}
                """);

        assertThat(pa.kind()).isEqualTo("PeerAuthentication");
        assertThat(pa.metadata().id()).isEqualTo("shop/orders-migration");
        assertThat(pa.selector().matchLabels()).isEqualTo(Map.of("app", "orders"));
        assertThat(pa.workloadSpecific()).isTrue();
        assertThat(pa.mode()).isEqualTo(Mode.PERMISSIVE);
        assertThat(pa.portLevelMtls()).isEqualTo(Map.of(8080, Mode.STRICT, 9090, Mode.DISABLE, 9091, Mode.UNSET));
        assertThat(pa.modeFor(8080)).isEqualTo(Mode.STRICT);
        assertThat(pa.modeFor(9090)).isEqualTo(Mode.DISABLE);
        assertThat(pa.modeFor(9091)).as("UNSET at the port inherits the document's mode").isEqualTo(Mode.PERMISSIVE);
        assertThat(pa.modeFor(80)).isEqualTo(Mode.PERMISSIVE);
    }

    @Test
    void theMigrationExampleReads() {
        List<PolicyDocument> documents = PolicyDocuments.loadDirectory(java.nio.file.Path.of("..", "examples", "migration"));
        assertThat(documents).extracting(PolicyDocument::kind).containsExactly("PeerAuthentication", "AuthorizationPolicy");
        assertThat(((PeerAuthentication) documents.getFirst()).mode()).isEqualTo(Mode.PERMISSIVE);
    }

    @Test
    void absentSpecOrModeIsUnsetAndNamespaceWide() {
        for (String spec : List.of("{}", "{mtls: {}}", "{mtls: {mode: UNSET}}", "~")) {
            PeerAuthentication pa = only(withSpec(spec));
            assertThat(pa.mode()).as(spec).isEqualTo(Mode.UNSET);
            assertThat(pa.workloadSpecific()).as(spec).isFalse();
            assertThat(pa.portLevelMtls()).as(spec).isEmpty();
        }
        for (String apiVersion : List.of("outrider.dev/v1", "security.istio.io/v1", "security.istio.io/v1beta1")) {
            PeerAuthentication pa = only(withSpec("{mtls: {mode: STRICT}}").replace("security.istio.io/v1", apiVersion));
            assertThat(pa.mode()).as(apiVersion).isEqualTo(Mode.STRICT);
        }
    }

    record Case(String yaml, String document, String path, String problem) {
        @Override
        public String toString() {
            return path + ": " + problem;
        }
    }

    private static Case spec(String spec, String path, String problem) {
        return new Case(withSpec(spec), PA, path, problem);
    }

    static List<Case> refused() {
        return List.of(
                spec("{mtls: {mode: strict}}", "spec.mtls.mode",
                        "'strict' is not an mTLS mode; use one of UNSET, DISABLE, PERMISSIVE, STRICT"),
                spec("{mtls: {mode: \"\"}}", "spec.mtls.mode", "must not be empty"),
                spec("{mtls: {mode: 1}}", "spec.mtls.mode", "expected a string"),
                spec("{mtls: STRICT}", "spec.mtls", "expected a mapping"),
                spec("{mtls: {mode: STRICT, level: 2}}", "spec.mtls.level", "unknown field"),
                spec("{mode: STRICT}", "spec.mode", "unknown field"),
                spec("{selector: {app: orders}}", "spec.selector.app", "unknown field"),
                spec("{selector: {matchLabels: {app: 1}}}", "spec.selector.matchLabels[app]", "expected a string"),
                spec("{portLevelMtls: {8080: {mode: STRICT}}}", "spec.portLevelMtls",
                        "needs spec.selector.matchLabels: port-level modes apply to the workloads a selector names"),
                spec("{selector: {matchLabels: {}}, portLevelMtls: {8080: {mode: STRICT}}}", "spec.portLevelMtls",
                        "needs spec.selector.matchLabels"),
                spec("{selector: {matchLabels: {app: orders}}, portLevelMtls: [8080]}", "spec.portLevelMtls",
                        "expected a mapping of port numbers to {mode: ...}, got a list"),
                spec("{selector: {matchLabels: {app: orders}}, portLevelMtls: {http: {mode: STRICT}}}",
                        "spec.portLevelMtls[http]", "'http' is not a port number (1 to 65535)"),
                spec("{selector: {matchLabels: {app: orders}}, portLevelMtls: {0: {mode: STRICT}}}",
                        "spec.portLevelMtls[0]", "'0' is not a port number (1 to 65535)"),
                spec("{selector: {matchLabels: {app: orders}}, portLevelMtls: {65536: {mode: STRICT}}}",
                        "spec.portLevelMtls[65536]", "'65536' is not a port number (1 to 65535)"),
                spec("{selector: {matchLabels: {app: orders}}, portLevelMtls: {-1: {mode: STRICT}}}",
                        "spec.portLevelMtls[-1]", "'-1' is not a port number (1 to 65535)"),
                spec("{selector: {matchLabels: {app: orders}}, portLevelMtls: {8080: {mode: STRICT}, \"08080\": {}}}",
                        "spec.portLevelMtls[08080]", "port 8080 is already listed as '8080'"),
                spec("{selector: {matchLabels: {app: orders}}, portLevelMtls: {8080: ~}}",
                        "spec.portLevelMtls[8080]", "expected a mapping {mode: ...}, got null"),
                spec("{selector: {matchLabels: {app: orders}}, portLevelMtls: {8080: STRICT}}",
                        "spec.portLevelMtls[8080]", "expected a mapping"),
                spec("{selector: {matchLabels: {app: orders}}, portLevelMtls: {8080: {mode: LAX}}}",
                        "spec.portLevelMtls[8080].mode", "'LAX' is not an mTLS mode"),
                spec("{selector: {matchLabels: {app: orders}}, portLevelMtls: {8080: {mode: STRICT, tls: 1}}}",
                        "spec.portLevelMtls[8080].tls", "unknown field"),
                new Case("apiVersion: security.istio.io/v2\nkind: PeerAuthentication\nmetadata: {name: pa, namespace: shop}\n",
                        PA, "apiVersion", "'security.istio.io/v2' is not a supported apiVersion"),
                new Case("apiVersion: outrider.dev/v1\nkind: PeerAuthentication\nmetadata: {name: pa}\n",
                        "PeerAuthentication in document 1 (line 1)", "metadata.namespace", "is required"),
                new Case(withSpec("{}") + "---\n" + withSpec("{}"), PA, "metadata.name",
                        "already defined by document 1 (line 1)"));
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
        assertThat(e).hasMessageStartingWith("test.yaml: " + c.document() + ": " + c.path() + ": ");
    }

    // ---- the mode of a port: workload > namespace > mesh, UNSET inherits, STRICT by default

    private static PeerAuthentication pa(String namespace, String name, String selector, Mode mode,
                                         Map<Integer, Mode> ports) {
        return new PeerAuthentication(new ObjectMeta(name, namespace, Map.of()),
                selector == null ? WorkloadSelector.ALL : new WorkloadSelector(Map.of("app", selector)), mode, ports);
    }

    private static Effective effective(int port, PeerAuthentication... documents) {
        return PeerAuthentications.effective(List.of(documents), "shop", "outrider-system", port);
    }

    @Test
    void strictWhenNothingSetsAMode() {
        assertThat(effective(8080)).isEqualTo(Effective.STRICT);
        Effective unset = effective(8080, pa("outrider-system", "mesh", null, Mode.UNSET, Map.of()),
                pa("shop", "ns", null, Mode.UNSET, Map.of()));
        assertThat(unset.mode()).isEqualTo(Mode.STRICT);
        assertThat(unset.decidedBy()).isEqualTo(PeerAuthentications.DEFAULT);
    }

    @Test
    void workloadOverNamespaceOverMesh() {
        PeerAuthentication mesh = pa("outrider-system", "mesh", null, Mode.PERMISSIVE, Map.of());
        PeerAuthentication namespace = pa("shop", "ns", null, Mode.DISABLE, Map.of());
        PeerAuthentication workload = pa("shop", "orders", "orders", Mode.STRICT, Map.of(9090, Mode.PERMISSIVE));

        assertThat(effective(8080, mesh)).isEqualTo(new Effective(Mode.PERMISSIVE,
                "PeerAuthentication outrider-system/mesh", List.of()));
        assertThat(effective(8080, namespace, mesh).mode()).isEqualTo(Mode.DISABLE);
        assertThat(effective(8080, workload, namespace, mesh)).isEqualTo(new Effective(Mode.STRICT,
                "PeerAuthentication shop/orders", List.of()));
        assertThat(effective(9090, workload, namespace, mesh).mode()).as("port level").isEqualTo(Mode.PERMISSIVE);
        // a selector in the root namespace still names workloads: workload level
        PeerAuthentication rootSelected = pa("outrider-system", "orders-everywhere", "orders", Mode.DISABLE, Map.of());
        assertThat(effective(8080, rootSelected, namespace).mode()).isEqualTo(Mode.DISABLE);
    }

    @Test
    void unsetInheritsLevelByLevel() {
        PeerAuthentication mesh = pa("outrider-system", "mesh", null, Mode.PERMISSIVE, Map.of());
        PeerAuthentication namespaceUnset = pa("shop", "ns", null, Mode.UNSET, Map.of());
        PeerAuthentication workload = pa("shop", "orders", "orders", Mode.UNSET,
                Map.of(8080, Mode.UNSET, 9090, Mode.STRICT));

        assertThat(effective(8080, workload, namespaceUnset, mesh)).isEqualTo(new Effective(Mode.PERMISSIVE,
                "PeerAuthentication outrider-system/mesh", List.of()));
        assertThat(effective(9090, workload, namespaceUnset, mesh).mode()).isEqualTo(Mode.STRICT);
    }

    @Test
    void twoAtOneLevelTheFirstByNameWinsAndTheOtherIsNamed() {
        Effective e = effective(8080, pa("shop", "b", null, Mode.DISABLE, Map.of()),
                pa("shop", "a", null, Mode.PERMISSIVE, Map.of()));

        assertThat(e).isEqualTo(new Effective(Mode.PERMISSIVE, "PeerAuthentication shop/a", List.of("shop/b")));
    }

    @Test
    void aNamespaceDocumentOfTheRootNamespaceIsMeshWide() {
        List<PeerAuthentication> documents = new ArrayList<>();
        documents.add(pa("outrider-system", "mesh", null, Mode.DISABLE, Map.of()));
        Effective inRoot = PeerAuthentications.effective(documents, "outrider-system", "outrider-system", 8080);
        assertThat(inRoot.mode()).isEqualTo(Mode.DISABLE);
    }
}
