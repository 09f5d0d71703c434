package dev.outrider.controlplane.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.outrider.controlplane.ControlPlaneFixture;
import dev.outrider.controlplane.testing.ApiClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The audit trail over real TLS (with the file store, and again with etcd in the store-etcd run): every kind of
 * write is recorded once with its caller, refusals (401, 403, 409, 400, 404) are recorded with their answer, no
 * secret reaches the records, the audit-log file or the store's copy, and {@code GET /v1/audit} checks its
 * parameters and callers.
 */
@Timeout(120)
class AuditApiTest {
    private static final String YAML = "application/yaml";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ADMIN_ID = "spiffe://cluster.local/ns/outrider-system/sa/admin";
    /** One small valid document per namespaced kind, by URL plural. */
    private static final Map<String, String> DOCUMENTS = Map.of(
            "services", "apiVersion: outrider.dev/v1\nkind: Service\nspec: {}\n",
            "authorizationpolicies", "apiVersion: outrider.dev/v1\nkind: AuthorizationPolicy\n"
                    + "spec: {action: ALLOW, rules: [{to: [{operation: {methods: [GET]}}]}]}\n",
            "requestauthentications", "apiVersion: outrider.dev/v1\nkind: RequestAuthentication\n"
                    + "spec: {jwtRules: [{issuer: \"https://issuer.example\","
                    + " jwksUri: \"https://issuer.example/jwks\"}]}\n",
            "ratelimitpolicies", "apiVersion: outrider.dev/v1\nkind: RateLimitPolicy\n"
                    + "spec: {rules: [{maxInFlight: 10}]}\n",
            "sidecarscopes", "apiVersion: outrider.dev/v1\nkind: Sidecar\nspec: {egress: [{hosts: [\"./*\"]}]}\n");
    private static final Map<String, String> KINDS = Map.of("services", "Service",
            "authorizationpolicies", "AuthorizationPolicy", "requestauthentications", "RequestAuthentication",
            "ratelimitpolicies", "RateLimitPolicy", "sidecarscopes", "Sidecar");

    @TempDir
    static Path dir;
    static ControlPlaneFixture cp;
    static ApiClient byToken;
    static ApiClient byCertificate;

    @BeforeAll
    static void start() throws Exception {
        cp = ControlPlaneFixture.start(dir);
        byToken = cp.adminByToken();
        byCertificate = cp.adminByCertificate();
    }

    @AfterAll
    static void stop() {
        if (cp != null) {
            cp.close();
        }
    }

    private static List<JsonNode> audit(String query) throws Exception {
        HttpResponse<String> r = byToken.get("/v1/audit" + query);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        List<JsonNode> items = new ArrayList<>();
        ApiClient.json(r).get("items").forEach(items::add);
        return items;
    }

    private static JsonNode once(List<JsonNode> records, Predicate<JsonNode> which, String what) {
        List<JsonNode> found = records.stream().filter(which).toList();
        assertThat(found).as(what + " in " + records).hasSize(1);
        return found.getFirst();
    }

    private static Predicate<JsonNode> is(String kind, String name, String action) {
        return r -> r.path("kind").asText().equals(kind) && r.path("name").asText().equals(name)
                && r.path("action").asText().equals(action);
    }

    private static String version(HttpResponse<String> r) throws Exception {
        return ApiClient.json(r).at("/metadata/resourceVersion").asText();
    }

    @Test
    void everyKindOfWriteIsRecordedOnceWithItsCallerVersionsAndContentHash() throws Exception {
        String ns = "audit-all";
        for (Map.Entry<String, String> doc : DOCUMENTS.entrySet()) {
            String path = "/v1/namespaces/" + ns + "/" + doc.getKey() + "/one";
            HttpResponse<String> created = byToken.put(path, YAML, doc.getValue());
            assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
            HttpResponse<String> replaced = byCertificate.put(path, YAML, doc.getValue());
            assertThat(replaced.statusCode()).as(replaced.body()).isEqualTo(200);
            HttpResponse<String> deleted = byToken.delete(path);
            assertThat(deleted.statusCode()).as(deleted.body()).isEqualTo(200);

            List<JsonNode> records = audit("?namespace=" + ns);
            String kind = KINDS.get(doc.getKey());
            JsonNode create = once(records, is(kind, "one", "create"), kind + " create");
            JsonNode replace = once(records, is(kind, "one", "replace"), kind + " replace");
            JsonNode delete = once(records, is(kind, "one", "delete"), kind + " delete");
            assertThat(create.path("namespace").asText()).isEqualTo(ns);
            assertThat(create.path("status").asInt()).isEqualTo(201);
            assertThat(create.path("caller").path("type").asText()).isEqualTo("admin");
            assertThat(create.path("caller").path("credential").asText()).isEqualTo("admin token");
            assertThat(create.path("caller").path("source").asText()).startsWith("127.0.0.1:");
            assertThat(create.has("resourceVersionBefore")).isFalse();
            assertThat(create.path("resourceVersionAfter").asText()).isEqualTo(version(created));
            assertThat(create.path("sha256").asText()).matches("[0-9a-f]{64}");

            assertThat(replace.path("status").asInt()).isEqualTo(200);
            assertThat(replace.path("caller").path("identity").asText()).isEqualTo(ADMIN_ID);
            assertThat(replace.path("caller").path("credential").asText()).isEqualTo("client certificate");
            assertThat(replace.path("resourceVersionBefore").asText()).isEqualTo(version(created));
            assertThat(replace.path("resourceVersionAfter").asText()).isEqualTo(version(replaced));

            assertThat(delete.path("status").asInt()).isEqualTo(200);
            assertThat(delete.path("resourceVersionBefore").asText()).isEqualTo(version(replaced));
            assertThat(delete.has("resourceVersionAfter")).isFalse();
            assertThat(delete.path("sha256").asText()).as("the hash of what was deleted")
                    .isEqualTo(replace.path("sha256").asText());
        }

        HttpResponse<String> posted = byCertificate.send(byCertificate.request("/v1/namespaces/" + ns + "/services")
                .header("Content-Type", YAML).POST(HttpRequest.BodyPublishers.ofString(
                        "apiVersion: outrider.dev/v1\nkind: Service\nmetadata: {name: posted}\nspec: {}\n")));
        assertThat(posted.statusCode()).as(posted.body()).isEqualTo(201);
        HttpResponse<String> mesh = byToken.put("/v1/meshconfig", YAML,
                "apiVersion: outrider.dev/v1\nkind: MeshConfig\n" + "metadata: {name: default}\nspec: {registrationTtl: 90s}\n");
        assertThat(mesh.statusCode()).as(mesh.body()).isEqualTo(201);
        HttpResponse<String> token = byCertificate.post("/v1/join-tokens",
                "{\"namespace\": \"" + ns + "\", \"serviceAccount\": \"orders\"}");
        assertThat(token.statusCode()).as(token.body()).isEqualTo(201);

        List<JsonNode> all = audit("");
        JsonNode post = once(all, is("Service", "posted", "create"), "POST");
        assertThat(post.path("status").asInt()).isEqualTo(201);
        assertThat(post.path("caller").path("identity").asText()).isEqualTo(ADMIN_ID);
        JsonNode meshConfig = once(all, is("MeshConfig", "default", "create"), "MeshConfig");
        assertThat(meshConfig.has("namespace")).as("cluster-wide").isFalse();
        assertThat(meshConfig.path("caller").path("credential").asText()).isEqualTo("admin token");
        JsonNode joinToken = once(all, is("JoinToken", "orders", "create"), "join token");
        assertThat(joinToken.path("namespace").asText()).isEqualTo(ns);
        assertThat(joinToken.path("status").asInt()).isEqualTo(201);
        assertThat(joinToken.path("caller").path("identity").asText()).isEqualTo(ADMIN_ID);
        assertThat(all).as("reads are not recorded").noneMatch(r -> r.path("action").asText().equals("get"));
        List<String> times = all.stream().map(r -> r.path("time").asText()).toList();
        assertThat(times.stream().map(Instant::parse).toList()).as("oldest first").isSorted();
    }

    @Test
    void refusedWritesAreRecordedWithTheirAnswerAndCaller() throws Exception {
        String ns = "audit-refused";
        String path = "/v1/namespaces/" + ns + "/services/orders";
        String service = DOCUMENTS.get("services");

        assertThat(cp.anonymous().put(path, YAML, service).statusCode()).isEqualTo(401);
        assertThat(cp.anonymous().withBearer("not-an-admin-token-0123456789").delete(path).statusCode())
                .isEqualTo(401);
        assertThat(cp.workload(ns, "orders").put(path, YAML, service).statusCode()).isEqualTo(403);
        HttpResponse<String> created = byToken.put(path, YAML, service);
        assertThat(created.statusCode()).isEqualTo(201);
        HttpResponse<String> stale = byToken.put(path, YAML, service.replace("spec: {}",
                "metadata: {resourceVersion: \"1\"}\nspec: {}"));
        assertThat(stale.statusCode()).as(stale.body()).isEqualTo(409);
        assertThat(byToken.put(path, YAML, "apiVersion: outrider.dev/v1\nkind: Service\nspec: {protocol: smoke}\n")
                .statusCode()).isEqualTo(400);
        assertThat(byToken.delete("/v1/namespaces/" + ns + "/services/missing").statusCode()).isEqualTo(404);
        assertThat(byToken.put("/v1/namespaces/" + ns + "/widgets/w", YAML, service).statusCode()).isEqualTo(404);

        List<JsonNode> records = audit("?namespace=" + ns);
        JsonNode anonymous = once(records, r -> r.path("status").asInt() == 401
                && r.path("caller").path("type").asText().equals("anonymous"), "401 anonymous");
        assertThat(anonymous.path("action").asText()).isEqualTo("apply");
        assertThat(anonymous.path("kind").asText()).isEqualTo("Service");
        assertThat(anonymous.path("name").asText()).isEqualTo("orders");
        assertThat(anonymous.path("reason").asText()).isEqualTo("Unauthenticated");
        assertThat(anonymous.path("caller").has("identity")).isFalse();
        assertThat(anonymous.path("caller").path("source").asText()).matches("127\\.0\\.0\\.1:[0-9]+");
        JsonNode bearer = once(records, r -> r.path("status").asInt() == 401
                && r.path("caller").path("type").asText().equals("bearer"), "401 bearer");
        assertThat(bearer.path("action").asText()).isEqualTo("delete");
        assertThat(bearer.path("caller").path("credential").asText()).isEqualTo("join token");
        JsonNode forbidden = once(records, r -> r.path("status").asInt() == 403, "403");
        assertThat(forbidden.path("caller").path("type").asText()).isEqualTo("workload");
        assertThat(forbidden.path("caller").path("identity").asText())
                .isEqualTo("spiffe://cluster.local/ns/" + ns + "/sa/orders");
        assertThat(forbidden.path("reason").asText()).isEqualTo("Forbidden");
        JsonNode conflict = once(records, r -> r.path("status").asInt() == 409, "409");
        assertThat(conflict.path("action").asText()).isEqualTo("apply");
        assertThat(conflict.path("error").asText()).contains("expected version 1").contains(version(created));
        assertThat(conflict.has("resourceVersionAfter")).isFalse();
        JsonNode invalid = once(records, r -> r.path("status").asInt() == 400, "400");
        assertThat(invalid.path("reason").asText()).isEqualTo("Invalid");
        assertThat(invalid.path("error").asText()).contains("smoke");
        JsonNode missing = once(records, r -> r.path("status").asInt() == 404 && r.path("name").asText()
                .equals("missing"), "404 delete");
        assertThat(missing.path("action").asText()).isEqualTo("delete");
        JsonNode unknownKind = once(records, r -> r.path("status").asInt() == 404 && r.path("name").asText()
                .equals("w"), "404 unknown kind");
        assertThat(unknownKind.has("kind")).isFalse();
        once(records, is("Service", "orders", "create"), "the one write that was made");
        assertThat(records).hasSize(8);
    }

    @Test
    void noSecretReachesTheRecordsTheAuditLogOrTheStore() throws Exception {
        HttpResponse<String> issued = byToken.post("/v1/join-tokens",
                "{\"namespace\": \"audit-secret\", \"serviceAccount\": \"web\", \"ttl\": \"10m\"}");
        assertThat(issued.statusCode()).isEqualTo(201);
        String joinToken = ApiClient.json(issued).get("token").asText();
        String wrongToken = "wrong-admin-token-that-must-not-be-recorded";
        assertThat(cp.anonymous().withBearer(wrongToken).post("/v1/join-tokens",
                "{\"namespace\": \"audit-secret\", \"serviceAccount\": \"web\"}").statusCode()).isEqualTo(401);
        HttpResponse<String> listed = byToken.get("/v1/audit");
        List<JsonNode> records = new ArrayList<>();
        ApiClient.json(listed).get("items").forEach(records::add);
        once(records, r -> r.path("kind").asText().equals("JoinToken") && r.path("namespace").asText()
                .equals("audit-secret") && r.path("status").asInt() == 201, "the token issued");
        JsonNode refused = once(records, r -> r.path("kind").asText().equals("JoinToken")
                && r.path("caller").path("type").asText().equals("bearer"), "the token refused");
        assertThat(refused.has("namespace")).as("an unauthenticated body is not read").isFalse();

        List<String> texts = new ArrayList<>(List.of(listed.body()));
        Path logFile = cp.dataDir.resolve("audit.log");
        assertThat(logFile).exists();
        texts.add(Files.readString(logFile, StandardCharsets.UTF_8));
        Path storeCopy = cp.dataDir.resolve("store").resolve("audit.jsonl");
        if (cp.controlPlane.config().etcd() == null) {
            texts.add(Files.readString(storeCopy, StandardCharsets.UTF_8));
        }
        assertThat(texts.get(1)).contains("\"kind\":\"JoinToken\"").contains("audit-secret");
        for (String text : texts) {
            assertThat(text).doesNotContain(joinToken).doesNotContain(ControlPlaneFixture.ADMIN_TOKEN)
                    .doesNotContain(wrongToken).doesNotContain("PRIVATE KEY");
        }
        for (String line : Files.readAllLines(logFile)) {
            assertThat(JSON.readTree(line).isObject()).as(line).isTrue();
        }
    }

    @Test
    void onlyAdminsReadTheTrailAndBadParametersAreNamed() throws Exception {
        assertThat(cp.anonymous().get("/v1/audit").statusCode()).isEqualTo(401);
        assertThat(cp.workload("shop", "orders").get("/v1/audit").statusCode()).isEqualTo(403);
        for (String[] bad : new String[][] {{"since=yesterday", "since"}, {"since=-1h", "since"},
                {"limit=0", "limit"}, {"limit=ten", "limit"}, {"namespace=Shop_1", "namespace"},
                {"verbose=1", "verbose"}, {"limit=1&limit=2", "limit"}}) {
            HttpResponse<String> r = byToken.get("/v1/audit?" + bad[0]);
            assertThat(r.statusCode()).as(bad[0]).isEqualTo(400);
            assertThat(ApiClient.json(r).get("field").asText()).as(bad[0]).isEqualTo(bad[1]);
        }

        for (int i = 0; i < 3; i++) {
            assertThat(byToken.put("/v1/namespaces/audit-query/services/s" + i, YAML, DOCUMENTS.get("services"))
                    .statusCode()).isEqualTo(201);
        }
        HttpResponse<String> two = byToken.get("/v1/audit?namespace=audit-query&limit=2&since=1h");
        JsonNode page = ApiClient.json(two);
        assertThat(page.get("items")).extracting(r -> r.path("name").asText()).containsExactly("s1", "s2");
        assertThat(page.get("omitted").asInt()).isEqualTo(1);
        String firstTime = ApiClient.json(byToken.get("/v1/audit?namespace=audit-query")).at("/items/1/time").asText();
        assertThat(audit("?namespace=audit-query&since=" + firstTime.replace(":", "%3A")))
                .extracting(r -> r.path("name").asText()).containsExactly("s1", "s2");
        assertThat(audit("?namespace=audit-query&since=2999-01-01T00:00:00%2B01:00")).isEmpty();
    }
}
