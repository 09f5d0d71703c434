package dev.outrider.controlplane.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.outrider.controlplane.ControlPlaneFixture;
import dev.outrider.controlplane.testing.ApiClient;
import dev.outrider.controlplane.testing.Snapshots;
import dev.outrider.core.policy.PeerAuthentication;
import dev.outrider.core.policy.PolicyDocuments;
import dev.outrider.core.snapshot.WorkloadSnapshot;
import dev.outrider.controlplane.testing.TestMesh;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The resource routes over real TLS: create/replace/read/list/delete, 409, 400 with the field, 415, MeshConfig. */
class ResourceApiTest {
    private static final String YAML = "application/yaml";
    private static final String POLICY = """
            apiVersion: outrider.dev/v1
            kind: AuthorizationPolicy
            metadata: {name: allow-frontend}
            spec:
              selector: {matchLabels: {app: orders}}
              rules:
              - from: [{source: {principals: ["cluster.local/ns/shop/sa/frontend"]}}]
                to: [{operation: {methods: [GET]}}]
            """;

    @TempDir
    static Path dir;
    static ControlPlaneFixture cp;
    static ApiClient admin;

    @BeforeAll
    static void start() throws Exception {
        cp = ControlPlaneFixture.start(dir);
        admin = cp.adminByToken();
    }

    @AfterAll
    static void stop() {
        if (cp != null) {
            cp.close();
        }
    }

    private static long version(HttpResponse<String> r) throws Exception {
        return Long.parseLong(ApiClient.json(r).at("/metadata/resourceVersion").asText());
    }

    @Test
    void putCreatesThenReplacesAndGetReadsItBack() throws Exception {
        String path = "/v1/namespaces/put-ns/authorizationpolicies/allow-frontend";

        HttpResponse<String> created = admin.put(path, YAML, POLICY);
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        JsonNode body = ApiClient.json(created);
        assertThat(body.at("/metadata/name").asText()).isEqualTo("allow-frontend");
        assertThat(body.at("/metadata/namespace").asText()).isEqualTo("put-ns");
        assertThat(body.at("/spec/rules/0/to/0/operation/methods/0").asText()).isEqualTo("GET");
        long v1 = version(created);

        HttpResponse<String> replaced = admin.put(path, YAML, POLICY.replace("[GET]", "[GET, POST]"));
        assertThat(replaced.statusCode()).isEqualTo(200);
        long v2 = version(replaced);
        assertThat(v2).isGreaterThan(v1);

        HttpResponse<String> read = admin.get(path);
        assertThat(read.statusCode()).isEqualTo(200);
        assertThat(read.headers().firstValue("content-type")).hasValue("application/json");
        assertThat(ApiClient.json(read)).isEqualTo(ApiClient.json(replaced));
    }

    @Test
    void jsonBodiesAreAcceptedToo() throws Exception {
        HttpResponse<String> r = admin.put("/v1/namespaces/json-ns/services/orders", "application/json",
                "{\"apiVersion\": \"outrider.dev/v1\", \"kind\": \"Service\", \"spec\": {\"protocol\": \"http1\"}}");

        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        assertThat(ApiClient.json(r).at("/spec/protocol").asText()).isEqualTo("http1");
    }

    @Test
    void resourceVersionMakesAWriteConditional() throws Exception {
        String path = "/v1/namespaces/cas/services/orders";
        long v1 = version(admin.put(path, YAML, "apiVersion: outrider.dev/v1\nkind: Service\nspec: {}\n"));

        HttpResponse<String> ok = admin.put(path, YAML, "apiVersion: outrider.dev/v1\nkind: Service\n"
                + "metadata: {resourceVersion: \"" + v1 + "\"}\nspec: {protocol: auto}\n");
        assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);

        HttpResponse<String> stale = admin.put(path, YAML, "apiVersion: outrider.dev/v1\nkind: Service\n"
                + "metadata: {resourceVersion: \"" + v1 + "\"}\nspec: {protocol: http1}\n");
        assertThat(stale.statusCode()).isEqualTo(409);
        JsonNode body = ApiClient.json(stale);
        assertThat(body.get("reason").asText()).isEqualTo("Conflict");
        assertThat(body.get("message").asText()).isEqualTo("conflict on Service/cas/orders: expected version " + v1
                + ", but it is at version " + version(ok));
        assertThat(ApiClient.json(admin.get(path)).at("/spec/protocol").asText()).isEqualTo("auto");
    }

    @Test
    void postCreatesOnce() throws Exception {
        String body = "apiVersion: outrider.dev/v1\nkind: Service\nmetadata: {name: catalog}\nspec: {}\n";

        HttpResponse<String> created = admin.send(admin.request("/v1/namespaces/post-ns/services")
                .header("Content-Type", YAML).POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        HttpResponse<String> again = admin.send(admin.request("/v1/namespaces/post-ns/services")
                .header("Content-Type", YAML).POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)));
        assertThat(again.statusCode()).isEqualTo(409);
        assertThat(ApiClient.json(again).get("message").asText()).startsWith("Service/post-ns/catalog already exists");
    }

    @Test
    void invalidDocumentsNameTheField() throws Exception {
        HttpResponse<String> r = admin.put("/v1/namespaces/bad/authorizationpolicies/p", YAML,
                POLICY.replace("[GET]", "[GET, get]").replace("allow-frontend", "p"));

        assertThat(r.statusCode()).isEqualTo(400);
        JsonNode body = ApiClient.json(r);
        assertThat(body.get("reason").asText()).isEqualTo("Invalid");
        assertThat(body.get("field").asText()).isEqualTo("spec.rules[0].to[0].operation.methods[1]");
        assertThat(body.get("message").asText()).contains("'get' is not an HTTP method in upper case");

        HttpResponse<String> mismatch = admin.put("/v1/namespaces/bad/authorizationpolicies/other", YAML, POLICY);
        assertThat(mismatch.statusCode()).isEqualTo(400);
        assertThat(ApiClient.json(mismatch).get("field").asText()).isEqualTo("metadata.name");

        HttpResponse<String> syntax = admin.put("/v1/namespaces/bad/services/s", "application/json", "{\"kind\": ");
        assertThat(syntax.statusCode()).isEqualTo(400);
        assertThat(admin.get("/v1/namespaces/bad/services/s").statusCode()).isEqualTo(404);
    }

    @Test
    void peerAuthenticationIsValidatedOnApplyAndTravelsInTheWorkloadsSnapshot() throws Exception {
        String pa = """
                apiVersion: security.istio.io/v1
                kind: PeerAuthentication
                metadata: {name: orders-migration}
                spec:
                  selector: {matchLabels: {app: orders}}
                  mtls: {mode: PERMISSIVE}
                  portLevelMtls: {8080: {mode: STRICT}}
                """;
        HttpResponse<String> created = admin.put("/v1/namespaces/pa-shop/peerauthentications/orders-migration", YAML, pa);
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        JsonNode read = ApiClient.json(admin.get("/v1/namespaces/pa-shop/peerauthentications/orders-migration"));
        assertThat(read.at("/spec/mtls/mode").asText()).isEqualTo("PERMISSIVE");

        HttpResponse<String> noSelector = admin.put("/v1/namespaces/pa-shop/peerauthentications/ports", YAML,
                pa.replace("orders-migration", "ports").replace("  selector: {matchLabels: {app: orders}}\n", ""));
        assertThat(noSelector.statusCode()).isEqualTo(400);
        assertThat(ApiClient.json(noSelector).get("field").asText()).isEqualTo("spec.portLevelMtls");
        assertThat(ApiClient.json(noSelector).get("message").asText()).contains("needs spec.selector.matchLabels");
        HttpResponse<String> badMode = admin.put("/v1/namespaces/pa-shop/peerauthentications/lax", YAML,
                pa.replace("orders-migration", "lax").replace("mode: PERMISSIVE", "mode: LAX"));
        assertThat(badMode.statusCode()).isEqualTo(400);
        assertThat(ApiClient.json(badMode).get("field").asText()).isEqualTo("spec.mtls.mode");
        assertThat(admin.get("/v1/namespaces/pa-shop/peerauthentications/lax").statusCode()).isEqualTo(404);

        ApiClient orders = cp.workload("pa-shop", "orders");
        HttpResponse<String> snapshot = orders.get("/v1/snapshots/pa-shop/orders?after=0&wait=0");
        assertThat(snapshot.statusCode()).isEqualTo(200);
        WorkloadSnapshot verified = Snapshots.verify(orders, snapshot, "pa-shop", "orders");
        assertThat(PolicyDocuments.parse(verified.policies(), "snapshot")).singleElement()
                .isInstanceOfSatisfying(PeerAuthentication.class, p -> {
                    assertThat(p.mode()).isEqualTo(PeerAuthentication.Mode.PERMISSIVE);
                    assertThat(p.portLevelMtls()).containsEntry(8080, PeerAuthentication.Mode.STRICT);
                });
        assertThat(admin.delete("/v1/namespaces/pa-shop/peerauthentications/orders-migration").statusCode())
                .isEqualTo(200);
    }

    @Test
    void aYamlAliasIsRefusedNamingTheFieldAndNothingIsStored() throws Exception {
        String path = "/v1/namespaces/alias-ns/authorizationpolicies/deny-intruder";
        String deny = """
                apiVersion: outrider.dev/v1
                kind: AuthorizationPolicy
                metadata:
                  name: deny-intruder
                  annotations: {blocked: &intruder "cluster.local/ns/shop/sa/intruder"}
                spec:
                  action: DENY
                  rules:
                  - from: [{source: {principals: [%s]}}]
                """;

        HttpResponse<String> alias = admin.put(path, YAML, deny.formatted("*intruder"));
        assertThat(alias.statusCode()).as(alias.body()).isEqualTo(400);
        JsonNode body = ApiClient.json(alias);
        assertThat(body.get("reason").asText()).isEqualTo("Invalid");
        assertThat(body.get("field").asText()).isEqualTo("spec.rules[0].from[0].source.principals[0]");
        assertThat(body.get("message").asText()).contains("YAML alias *intruder (line 9, column 35) is not supported;"
                + " quote a value that starts with '*' (\"*intruder\")");
        HttpResponse<String> anchor = admin.put(path, YAML, deny.formatted("\"*intruder\""));
        assertThat(anchor.statusCode()).as(anchor.body()).isEqualTo(400);
        assertThat(ApiClient.json(anchor).get("field").asText()).isEqualTo("metadata.annotations.blocked");
        assertThat(ApiClient.json(anchor).get("message").asText()).contains("YAML anchor &intruder");
        assertThat(admin.get(path).statusCode()).isEqualTo(404);

        HttpResponse<String> quoted = admin.put(path, YAML, deny.formatted("\"*intruder\"").replace("&intruder ", ""));
        assertThat(quoted.statusCode()).as(quoted.body()).isEqualTo(201);
        assertThat(ApiClient.json(admin.get(path)).at("/spec/rules/0/from/0/source/principals/0").asText())
                .isEqualTo("*intruder");
        HttpResponse<String> json = admin.put(path, "application/json", "{\"apiVersion\": \"outrider.dev/v1\","
                + " \"kind\": \"AuthorizationPolicy\", \"spec\": {\"action\": \"DENY\", \"rules\": [{\"from\":"
                + " [{\"source\": {\"principals\": [\"*intruder\", \"&x\"]}}]}]}}");
        assertThat(json.statusCode()).as(json.body()).isEqualTo(200);
        assertThat(ApiClient.json(admin.get(path)).at("/spec/rules/0/from/0/source/principals/1").asText())
                .isEqualTo("&x");
    }

    @Test
    void otherMediaTypesAreUnsupported() throws Exception {
        HttpResponse<String> r = admin.put("/v1/namespaces/mt/services/orders", "text/plain", "kind: Service");

        assertThat(r.statusCode()).isEqualTo(415);
        assertThat(ApiClient.json(r).get("reason").asText()).isEqualTo("UnsupportedMediaType");
    }

    @Test
    void unknownKindsAndMissingResourcesAreNotFound() throws Exception {
        HttpResponse<String> kind = admin.get("/v1/namespaces/shop/gateways/x");
        assertThat(kind.statusCode()).isEqualTo(404);
        assertThat(ApiClient.json(kind).get("message").asText()).startsWith("unknown resource type 'gateways'; one of "
                + "authorizationpolicies, requestauthentications, ratelimitpolicies, peerauthentications, services");
        assertThat(admin.get("/v1/gateways").statusCode()).isEqualTo(404);
        HttpResponse<String> missing = admin.get("/v1/namespaces/shop/services/nothing");
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(ApiClient.json(missing).get("message").asText()).isEqualTo("Service/shop/nothing not found");
        assertThat(admin.get("/v1/namespaces/Shop/services/x").statusCode()).isEqualTo(400);
    }

    @Test
    void listsOneNamespaceOrAll() throws Exception {
        admin.put("/v1/namespaces/list-a/services/one", YAML, "apiVersion: outrider.dev/v1\nkind: Service\nspec: {}\n");
        admin.put("/v1/namespaces/list-a/services/two", YAML, "apiVersion: outrider.dev/v1\nkind: Service\nspec: {}\n");
        HttpResponse<String> last = admin.put("/v1/namespaces/list-b/services/three", YAML,
                "apiVersion: outrider.dev/v1\nkind: Service\nspec: {}\n");

        JsonNode a = ApiClient.json(admin.get("/v1/namespaces/list-a/services"));
        assertThat(a.get("items")).hasSize(2);
        assertThat(a.at("/items/0/metadata/name").asText()).isEqualTo("one");
        assertThat(a.at("/items/1/metadata/name").asText()).isEqualTo("two");
        assertThat(Long.parseLong(a.get("revision").asText())).isGreaterThanOrEqualTo(version(last));

        JsonNode all = ApiClient.json(admin.get("/v1/services"));
        assertThat(all.get("items").findValuesAsText("namespace")).contains("list-a", "list-b");
        assertThat(ApiClient.json(admin.get("/v1/namespaces/empty/ratelimitpolicies")).get("items")).isEmpty();
    }

    @Test
    void deleteAnswersWhatWasDeletedAndHonoursTheVersion() throws Exception {
        String path = "/v1/namespaces/del/services/orders";
        long v = version(admin.put(path, YAML, "apiVersion: outrider.dev/v1\nkind: Service\nspec: {}\n"));

        HttpResponse<String> conflict = admin.delete(path + "?resourceVersion=" + (v + 1000));
        assertThat(conflict.statusCode()).isEqualTo(409);
        HttpResponse<String> bad = admin.delete(path + "?resourceVersion=abc");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(ApiClient.json(bad).get("field").asText()).isEqualTo("resourceVersion");

        HttpResponse<String> deleted = admin.delete(path + "?resourceVersion=" + v);
        assertThat(deleted.statusCode()).isEqualTo(200);
        JsonNode body = ApiClient.json(deleted);
        assertThat(body.get("deleted").asText()).isEqualTo("Service/del/orders");
        assertThat(Long.parseLong(body.get("revision").asText())).isGreaterThan(v);

        assertThat(admin.delete(path).statusCode()).isEqualTo(404);
        assertThat(admin.get(path).statusCode()).isEqualTo(404);
    }

    @Test
    void workloadsMayNotTouchResources() throws Exception {
        ApiClient orders = cp.workload("shop", "orders");
        assertThat(orders.get("/v1/services").statusCode()).isEqualTo(403);
        assertThat(orders.put("/v1/namespaces/shop/services/orders", YAML, "kind: Service").statusCode()).isEqualTo(403);
        assertThat(cp.anonymous().get("/v1/meshconfig").statusCode()).isEqualTo(401);
    }

    @Test
    void meshConfigHasDefaultsAndItsCertificateTtlApplies() throws Exception {
        // (The only test in this class that writes the MeshConfig.)
        HttpResponse<String> defaults = admin.get("/v1/meshconfig");
        assertThat(defaults.statusCode()).isEqualTo(200);
        JsonNode d = ApiClient.json(defaults);
        assertThat(d.at("/metadata/name").asText()).isEqualTo("default");
        assertThat(d.at("/spec/certificateTtl").asText()).isEqualTo("24h");
        assertThat(d.at("/metadata/resourceVersion").isMissingNode()).isTrue();

        HttpResponse<String> put = admin.put("/v1/meshconfig", YAML,
                "apiVersion: outrider.dev/v1\nkind: MeshConfig\nspec: {certificateTtl: 1h}\n");
        assertThat(put.statusCode()).as(put.body()).isEqualTo(201);
        assertThat(ApiClient.json(admin.get("/v1/meshconfig")).at("/spec/certificateTtl").asText()).isEqualTo("1h");
        assertThat(admin.put("/v1/meshconfig", YAML, "apiVersion: outrider.dev/v1\nkind: MeshConfig\n"
                + "spec: {certificateTtl: 1h}\n").statusCode()).isEqualTo(200);

        HttpResponse<String> cert = cp.workload("shop", "orders").post("/v1/certificates",
                "{\"csr\": " + new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(
                        TestMesh.csrPem(TestMesh.ec(), null)) + "}");
        assertThat(cert.statusCode()).isEqualTo(200);
        assertThat(Instant.parse(ApiClient.json(cert).get("notAfter").asText()))
                .isCloseTo(Instant.now().plus(Duration.ofHours(1)), within(Duration.ofMinutes(2)));

        HttpResponse<String> bad = admin.put("/v1/meshconfig", YAML,
                "apiVersion: outrider.dev/v1\nkind: MeshConfig\nspec: {certificateTtl: 30s}\n");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(ApiClient.json(bad).get("field").asText()).isEqualTo("spec.certificateTtl");
    }
}
