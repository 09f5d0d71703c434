package dev.outrider.controlplane.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.outrider.controlplane.ControlPlaneFixture;
import dev.outrider.controlplane.testing.ApiClient;
import dev.outrider.controlplane.testing.Snapshots;
import dev.outrider.core.policy.PolicyDocuments;
import dev.outrider.core.policy.ServiceEntry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The ServiceEntry resource over the API (docs/control-plane.md, "ServiceEntry") with a real control plane: apply,
 * refusals naming the field (the sidecar's own reader), an AuthorizationPolicy with selector and targetRefs refused,
 * get, list by short plural, delete, and the entry in a workload's snapshot over real TLS.
 */
class ServiceEntryApiTest {
    private static final String YAML = "application/yaml";
    private static final String ENTRY = """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            spec:
              hosts: [api.example.com]
              location: MESH_EXTERNAL
              ports: [{number: 80, name: http, protocol: HTTP, targetPort: 443}]
              resolution: DNS
              tls: {mode: SIMPLE}
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

    @Test
    void appliedEntriesAreServedListedDeletedAndSentInSnapshots() throws Exception {
        assertThat(admin.put("/v1/namespaces/egress-a/serviceentries/api", YAML, ENTRY).statusCode()).isEqualTo(201);
        JsonNode stored = ApiClient.json(admin.get("/v1/namespaces/egress-a/serviceentries/api"));
        assertThat(stored.at("/spec/hosts/0").asText()).isEqualTo("api.example.com");
        assertThat(ApiClient.json(admin.get("/v1/serviceentries")).get("items").findValuesAsText("name")).contains("api");

        assertThat(admin.put("/v1/namespaces/egress-a/services/web", YAML,
                "apiVersion: outrider.dev/v1\nkind: Service\nspec: {}\n").statusCode()).isIn(200, 201);
        ApiClient web = cp.workload("egress-a", "web");
        HttpResponse<String> snapshot = web.get("/v1/snapshots/egress-a/web?after=0&wait=10");
        assertThat(snapshot.statusCode()).isEqualTo(200);
        String policies = Snapshots.verify(web, snapshot, "egress-a", "web").policies();
        ServiceEntry entry = (ServiceEntry) PolicyDocuments.parse(policies, "snapshot").getFirst();
        assertThat(entry.metadata().id()).isEqualTo("egress-a/api");
        assertThat(entry.tls().mode()).isEqualTo(ServiceEntry.TlsMode.SIMPLE);

        assertThat(admin.delete("/v1/namespaces/egress-a/serviceentries/api").statusCode()).isIn(200, 204);
        HttpResponse<String> after = web.get("/v1/snapshots/egress-a/web?after=" + Snapshots.version(snapshot)
                + "&wait=10");
        assertThat(after.statusCode()).isEqualTo(200);
        assertThat(Snapshots.verify(web, after, "egress-a", "web").policies()).doesNotContain("ServiceEntry");
    }

    @Test
    void badEntriesAndTargetRefsAreRefusedNamingTheField() throws Exception {
        HttpResponse<String> tcp = admin.put("/v1/namespaces/egress-b/serviceentries/db", YAML,
                ENTRY.replace("protocol: HTTP", "protocol: TCP"));
        assertThat(tcp.statusCode()).as(tcp.body()).isEqualTo(400);
        assertThat(ApiClient.json(tcp).get("field").asText()).isEqualTo("spec.ports[0].protocol");
        assertThat(ApiClient.json(tcp).get("message").asText()).contains("protocol TCP is not supported");

        HttpResponse<String> skip = admin.put("/v1/namespaces/egress-b/serviceentries/db", YAML,
                ENTRY.replace("{mode: SIMPLE}", "{mode: SIMPLE, insecureSkipVerify: true}"));
        assertThat(skip.statusCode()).isEqualTo(400);
        assertThat(ApiClient.json(skip).get("field").asText()).isEqualTo("spec.tls.insecureSkipVerify");

        HttpResponse<String> both = admin.put("/v1/namespaces/egress-b/authorizationpolicies/p", YAML, """
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                spec:
                  selector: {matchLabels: {app: web}}
                  targetRefs: [{kind: ServiceEntry, group: networking.istio.io, name: db}]
                """);
        assertThat(both.statusCode()).isEqualTo(400);
        assertThat(ApiClient.json(both).get("field").asText()).isEqualTo("spec.targetRefs");
        assertThat(admin.get("/v1/namespaces/egress-b/serviceentries").body()).contains("\"items\":[]");
    }
}
