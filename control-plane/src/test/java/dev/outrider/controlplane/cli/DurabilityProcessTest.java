package dev.outrider.controlplane.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.outrider.core.snapshot.SnapshotEndpoint;
import dev.outrider.controlplane.testing.ApiClient;
import dev.outrider.controlplane.testing.ControlPlaneProcess;
import dev.outrider.controlplane.testing.Snapshots;
import dev.outrider.controlplane.testing.TestMesh;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * "A write is answered only after it is durable": writes answered 2xx by a control-plane process survive a
 * kill -9 right after the answer (SIGKILL: no shutdown code runs), and the restarted process serves them.
 */
class DurabilityProcessTest {
    private static final String TOKEN = "durability-test-admin-token";
    private static final String YAML = "application/yaml";

    @TempDir
    Path dir;

    @Test
    void writesAnsweredBeforeKillMinus9AreServedAfterRestart() throws Exception {
        TestMesh mesh = TestMesh.create(dir.resolve("ca"));
        Path tokenFile = Files.writeString(dir.resolve("token"), TOKEN);
        List<String> args = List.of("--data-dir", dir.resolve("data").toString(),
                "--ca-cert", mesh.caCertFile().toString(), "--ca-key", mesh.caKeyFile().toString(),
                "--admin-token-file", tokenFile.toString(), "--listen", "127.0.0.1:0");

        List<JsonNode> answered = new ArrayList<>();
        try (ControlPlaneProcess first = ControlPlaneProcess.start(dir.resolve("1.log"), args)) {
            ApiClient admin = ApiClient.of(mesh.trusting(), first.address()).withBearer(TOKEN);
            HttpResponse<String> service = admin.put("/v1/namespaces/shop/services/orders", YAML,
                    "apiVersion: outrider.dev/v1\nkind: Service\nspec: {serviceAccounts: [orders]}\n");
            assertThat(service.statusCode()).isEqualTo(201);
            answered.add(ApiClient.json(service));
            ApiClient orders = ApiClient.of(mesh.sslContext(mesh.workload("shop", "orders")), first.address());
            assertThat(orders.post("/v1/registrations", "{\"service\": \"orders\", \"instance\": \"orders-1\","
                    + " \"address\": \"10.0.0.5:15006\"}").statusCode()).isEqualTo(200);
            for (int i = 0; i < 5; i++) {
                HttpResponse<String> r = admin.put("/v1/namespaces/shop/authorizationpolicies/p" + i, YAML,
                        "apiVersion: outrider.dev/v1\nkind: AuthorizationPolicy\nspec: {rules: [{to: [{operation:"
                                + " {methods: [GET]}}]}]}\n");
                assertThat(r.statusCode()).isEqualTo(201);
                answered.add(ApiClient.json(r));
            }
            HttpResponse<String> deleted = admin.delete("/v1/namespaces/shop/authorizationpolicies/p0");
            assertThat(deleted.statusCode()).isEqualTo(200);
            answered.remove(1);

            first.kill(); // right after the last answer
        }

        try (ControlPlaneProcess second = ControlPlaneProcess.start(dir.resolve("2.log"), args)) {
            ApiClient admin = ApiClient.of(mesh.trusting(), second.address()).withBearer(TOKEN);
            for (JsonNode doc : answered) {
                String path = "/v1/namespaces/shop/" + (doc.get("kind").asText().equals("Service") ? "services"
                        : "authorizationpolicies") + "/" + doc.at("/metadata/name").asText();
                HttpResponse<String> r = admin.get(path);
                assertThat(r.statusCode()).as(path).isEqualTo(200);
                assertThat(ApiClient.json(r)).as(path).isEqualTo(doc);
            }
            assertThat(admin.get("/v1/namespaces/shop/authorizationpolicies/p0").statusCode()).isEqualTo(404);

            ApiClient frontend = ApiClient.of(mesh.sslContext(mesh.workload("shop", "frontend")), second.address());
            HttpResponse<String> snapshot = frontend.get("/v1/snapshots/shop/frontend?after=0&wait=10");
            assertThat(snapshot.statusCode()).isEqualTo(200);
            assertThat(Snapshots.verify(frontend, snapshot, "shop", "frontend").endpoints())
                    .extracting(SnapshotEndpoint::address).containsExactly("10.0.0.5:15006");
            second.assertNoLeaks();
        }
    }
}
