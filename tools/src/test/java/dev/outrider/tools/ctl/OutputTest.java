package dev.outrider.tools.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.outrider.core.model.ResourceKind;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class OutputTest {
    private static final JsonMapper JSON = new JsonMapper();
    private static final String NL = System.lineSeparator();

    private static JsonNode json(String text) throws Exception {
        return JSON.readTree(text);
    }

    @Test
    void tablesAlignColumnsAndFillEmptyCells() {
        String table = Output.table(List.of("NAME", "STATE"), List.of(List.of("orders-1", "ACK"), List.of("p", "")));

        assertThat(table).isEqualTo("NAME      STATE" + NL + "orders-1  ACK" + NL + "p         -" + NL);
    }

    @Test
    void resourcesTableShowsTheDefaultsOfAbsentFields() throws Exception {
        String table = ResourceTables.resources(ResourceKind.SERVICE, List.of(json("""
                {"metadata": {"name": "orders", "namespace": "shop", "resourceVersion": "12"}, "spec": {}}""")));

        assertThat(table.lines().toList()).containsExactly(
                "NAMESPACE  NAME    PROTOCOL  SERVICE-ACCOUNTS  EXPORT-TO  RESOURCEVERSION",
                "shop       orders  auto      orders            *          12");
    }

    @Test
    void authorizationPoliciesShowActionRulesAndDryRun() throws Exception {
        String table = ResourceTables.resources(ResourceKind.AUTHORIZATION_POLICY, List.of(json("""
                {"metadata": {"name": "deny", "namespace": "shop", "resourceVersion": "3",
                              "annotations": {"outrider.dev/dry-run": "true"}},
                 "spec": {"action": "DENY", "rules": [{}, {}]}}""")));

        assertThat(table.lines().toList().get(1)).isEqualTo("shop       deny  DENY    2      true     3");
    }

    @Test
    void peerAuthenticationsShowSelectorModeAndPortModes() throws Exception {
        String table = ResourceTables.resources(ResourceKind.PEER_AUTHENTICATION, List.of(json("""
                {"metadata": {"name": "orders", "namespace": "shop", "resourceVersion": "4"},
                 "spec": {"selector": {"matchLabels": {"app": "orders"}}, "mtls": {"mode": "PERMISSIVE"},
                          "portLevelMtls": {"8080": {"mode": "STRICT"}, "9090": {}}}}"""), json("""
                {"metadata": {"name": "default", "namespace": "shop", "resourceVersion": "5"}}""")));

        assertThat(table.lines().toList()).containsExactly(
                "NAMESPACE  NAME     SELECTOR     MODE        PORT-MODES              RESOURCEVERSION",
                "shop       orders   app=orders   PERMISSIVE  8080=STRICT,9090=UNSET  4",
                "shop       default  (namespace)  UNSET       -                       5");
    }

    @Test
    void sidecarResourcesShowTheirSelectorAndHostsOrWhatTheirAbsenceMeans() throws Exception {
        String table = ResourceTables.resources(ResourceKind.SIDECAR, List.of(json("""
                {"metadata": {"name": "web", "namespace": "shop", "resourceVersion": "7"},
                 "spec": {"workloadSelector": {"serviceAccounts": ["web", "api"]},
                          "egress": [{"hosts": ["./*", "payments/*"]}]}}"""), json("""
                {"metadata": {"name": "default", "namespace": "shop", "resourceVersion": "8"}}""")));

        assertThat(table.lines().toList()).containsExactly(
                "NAMESPACE  NAME     SERVICE-ACCOUNTS  EGRESS-HOSTS    RESOURCEVERSION",
                "shop       web      web,api           ./*,payments/*  7",
                "shop       default  (all)             (all exported)  8");
    }

    @Test
    void serviceEntriesShowHostsPortsResolutionAndTls() throws Exception {
        String table = ResourceTables.resources(ResourceKind.SERVICE_ENTRY, List.of(json("""
                {"metadata": {"name": "api", "namespace": "shop", "resourceVersion": "9"},
                 "spec": {"hosts": ["api.example.com"], "resolution": "DNS", "tls": {"mode": "SIMPLE"},
                          "ports": [{"number": 80, "name": "http", "protocol": "HTTP", "targetPort": 443},
                                    {"number": 8080, "name": "plain", "protocol": "HTTP"}]}}""")));

        assertThat(table.lines().toList()).containsExactly(
                "NAMESPACE  NAME  HOSTS            PORTS                   RESOLUTION  TLS     EXPORT-TO  RESOURCEVERSION",
                "shop       api   api.example.com  80/HTTP->443,8080/HTTP  DNS         SIMPLE  *          9");
    }

    @Test
    void sidecarsTable() throws Exception {
        String table = ResourceTables.sidecars(List.of(json("""
                {"identity": "spiffe://cluster.local/ns/shop/sa/orders", "instance": "orders-1", "service": "orders",
                 "address": "10.0.0.5:15006", "lastSeen": "2026-01-01T00:00:00Z", "latestVersion": "13",
                 "appliedVersion": "12", "state": "NACK", "error": "policies: spec.rules[0]: bad"}"""), json("""
                {"identity": "spiffe://cluster.local/ns/shop/sa/web", "instance": "web-1", "service": "web",
                 "address": "10.0.0.6:15006", "lastSeen": "2026-01-01T00:00:00Z", "latestVersion": "13",
                 "appliedVersion": "13", "state": "ACK", "plaintextConnections": "42",
                 "plaintextLastGrew": "2026-01-01T00:00:00Z"}""")));

        assertThat(table.lines().toList()).containsExactly(
                "INSTANCE  IDENTITY                                  SERVICE  ADDRESS         LATEST  APPLIED  STATE"
                        + "  LAST-SEEN             PLAINTEXT  PLAINTEXT-GREW        ERROR",
                "orders-1  spiffe://cluster.local/ns/shop/sa/orders  orders   10.0.0.5:15006  13      12       NACK "
                        + "  2026-01-01T00:00:00Z  -          -                     policies: spec.rules[0]: bad",
                "web-1     spiffe://cluster.local/ns/shop/sa/web     web      10.0.0.6:15006  13      13       ACK  "
                        + "  2026-01-01T00:00:00Z  42         2026-01-01T00:00:00Z  -");
    }

    @Test
    void yamlIsMultiDocument() throws Exception {
        String yaml = Output.yaml(List.of(json("{\"kind\": \"Service\"}"), json("{\"kind\": \"MeshConfig\"}")));

        assertThat(yaml).isEqualTo("kind: Service\n---\nkind: MeshConfig\n");
    }

    @Test
    void formats() {
        assertThat(Output.Format.parse("YAML")).isEqualTo(Output.Format.YAML);
        assertThatThrownBy(() -> Output.Format.parse("xml")).hasMessage("-o xml: expected yaml, json or table");
    }
}
