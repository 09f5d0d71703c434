package dev.outrider.controlplane.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.outrider.core.snapshot.SnapshotEndpoint;
import dev.outrider.controlplane.ControlPlaneFixture;
import dev.outrider.controlplane.testing.ApiClient;
import dev.outrider.controlplane.testing.Snapshots;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** Registrations and status reports over real TLS, and what they change in snapshots and {@code /v1/sidecars}. */
class RegistrationApiTest {
    private static final String YAML = "application/yaml";

    @TempDir
    static Path dir;
    static ControlPlaneFixture cp;
    static ApiClient admin;

    @BeforeAll
    static void start() throws Exception {
        cp = ControlPlaneFixture.start(dir);
        admin = cp.adminByToken();
        assertThat(admin.put("/v1/namespaces/shop/services/orders", YAML,
                "apiVersion: outrider.dev/v1\nkind: Service\nspec: {serviceAccounts: [orders]}\n").statusCode())
                .isEqualTo(201);
    }

    @AfterAll
    static void stop() {
        if (cp != null) {
            cp.close();
        }
    }

    private static String registration(String service, String instance, String address) {
        return "{\"service\": \"" + service + "\", \"instance\": \"" + instance + "\", \"address\": \"" + address + "\"}";
    }

    @Test
    void registeredInstanceIsAnEndpointInSnapshotsUntilDeregistered() throws Exception {
        ApiClient orders = cp.workload("shop", "orders");
        ApiClient frontend = cp.workload("shop", "frontend");

        HttpResponse<String> r = orders.post("/v1/registrations", registration("orders", "orders-1", "10.0.0.5:15006"));

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode body = ApiClient.json(r);
        assertThat(body.get("instance").asText()).isEqualTo("orders-1");
        assertThat(body.get("expiresIn").asText()).isEqualTo("60s");
        HttpResponse<String> snapshot = frontend.get("/v1/snapshots/shop/frontend?after=0&wait=10");
        assertThat(snapshot.statusCode()).isEqualTo(200);
        assertThat(Snapshots.verify(frontend, snapshot, "shop", "frontend").endpoints())
                .extracting(SnapshotEndpoint::address, e -> e.identity().toString())
                .containsExactly(org.assertj.core.groups.Tuple.tuple("10.0.0.5:15006",
                        "spiffe://cluster.local/ns/shop/sa/orders"));
        long version = Long.parseLong(snapshot.headers().firstValue("outrider-snapshot-version").orElseThrow());

        assertThat(orders.delete("/v1/registrations/orders-1").statusCode()).isEqualTo(204);
        assertThat(orders.delete("/v1/registrations/orders-1").statusCode()).isEqualTo(404);
        HttpResponse<String> after = frontend.get("/v1/snapshots/shop/frontend?after=" + version + "&wait=10");
        assertThat(after.statusCode()).isEqualTo(200);
        assertThat(Snapshots.verify(frontend, after, "shop", "frontend").endpoints()).isEmpty();
    }

    @Test
    void refusalsFollowTheServiceDefinition() throws Exception {
        HttpResponse<String> notListed = cp.workload("shop", "payments").post("/v1/registrations",
                registration("orders", "orders-9", "10.0.0.9:15006"));
        assertThat(notListed.statusCode()).isEqualTo(403);

        HttpResponse<String> noService = cp.workload("shop", "orders").post("/v1/registrations",
                registration("inventory", "inv-1", "10.0.0.9:15006"));
        assertThat(noService.statusCode()).isEqualTo(404);

        HttpResponse<String> badAddress = cp.workload("shop", "orders").post("/v1/registrations",
                registration("orders", "orders-2", "not an address"));
        assertThat(badAddress.statusCode()).isEqualTo(400);
        assertThat(ApiClient.json(badAddress).get("field").asText()).isEqualTo("address");

        HttpResponse<String> byToken = admin.post("/v1/registrations", registration("orders", "orders-3", "10.0.0.9:1"));
        assertThat(byToken.statusCode()).isEqualTo(403);
        assertThat(ApiClient.json(byToken).get("message").asText()).contains("needs a workload's client certificate");

        assertThat(cp.anonymous().post("/v1/registrations", registration("orders", "o", "10.0.0.9:1")).statusCode())
                .isEqualTo(401);
    }

    @Test
    void statusReportsShowInTheSidecarList() throws Exception {
        ApiClient orders = cp.workload("shop", "orders");
        assertThat(orders.post("/v1/registrations", registration("orders", "orders-7", "10.0.0.7:15006")).statusCode())
                .isEqualTo(200);

        HttpResponse<String> nack = orders.post("/v1/sidecars/status",
                "{\"instance\": \"orders-7\", \"version\": \"999999\", \"result\": \"NACK\", \"error\": \"policies: bad\"}");
        assertThat(nack.statusCode()).isEqualTo(204);
        assertThat(nack.body()).isEmpty();

        HttpResponse<String> list = admin.get("/v1/sidecars");
        assertThat(list.statusCode()).isEqualTo(200);
        JsonNode entry = null;
        for (JsonNode s : ApiClient.json(list).get("sidecars")) {
            if (s.get("instance").asText().equals("orders-7")) {
                entry = s;
            }
        }
        assertThat(entry).as(list.body()).isNotNull();
        assertThat(entry.get("identity").asText()).isEqualTo("spiffe://cluster.local/ns/shop/sa/orders");
        assertThat(entry.get("service").asText()).isEqualTo("orders");
        assertThat(entry.get("address").asText()).isEqualTo("10.0.0.7:15006");
        assertThat(entry.get("lastSeen").asText()).isNotEmpty();

        HttpResponse<String> bad = orders.post("/v1/sidecars/status",
                "{\"instance\": \"orders-7\", \"version\": \"1\", \"result\": \"MAYBE\"}");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(ApiClient.json(bad).get("field").asText()).isEqualTo("result");

        assertThat(orders.get("/v1/sidecars").statusCode()).isEqualTo(403);
    }

    @Test
    void anAckCarriedByAPollShowsInTheSidecarList() throws Exception {
        ApiClient orders = cp.workload("shop", "orders");
        HttpResponse<String> first = orders.get("/v1/snapshots/shop/orders?after=0&wait=0");
        assertThat(first.statusCode()).isEqualTo(200);
        assertThat(first.headers().firstValue("Outrider-Acks-On-Poll")).as("the sidecar need not post its ACKs")
                .contains("1");
        long version = Long.parseLong(first.headers().firstValue("Outrider-Snapshot-Version").orElseThrow());

        HttpResponse<String> polled = orders.get("/v1/snapshots/shop/orders?after=" + version
                + "&wait=0&instance=orders-8&ack=" + version);
        assertThat(polled.statusCode()).isEqualTo(304);
        assertThat(polled.headers().firstValue("Outrider-Acks-On-Poll")).contains("1");
        assertThat(applied("orders-8")).isEqualTo(Long.toString(version));
        // repeated by every poll: nothing changes, and an older version does not move it back
        assertThat(orders.get("/v1/snapshots/shop/orders?after=" + version + "&wait=0&instance=orders-8&ack=0")
                .statusCode()).isEqualTo(304);
        assertThat(applied("orders-8")).isEqualTo(Long.toString(version));

        HttpResponse<String> half = orders.get("/v1/snapshots/shop/orders?after=0&wait=0&ack=" + version);
        assertThat(half.statusCode()).isEqualTo(400);
        assertThat(ApiClient.json(half).get("field").asText()).isEqualTo("instance");
        HttpResponse<String> notANumber = orders.get("/v1/snapshots/shop/orders?after=0&wait=0&instance=orders-8&ack=x");
        assertThat(notANumber.statusCode()).isEqualTo(400);
        assertThat(ApiClient.json(notANumber).get("field").asText()).isEqualTo("ack");
        HttpResponse<String> badInstance = orders.get("/v1/snapshots/shop/orders?after=0&wait=0&instance=Orders_8&ack=1");
        assertThat(badInstance.statusCode()).isEqualTo(400);
        assertThat(ApiClient.json(badInstance).get("field").asText()).isEqualTo("instance");
        HttpResponse<String> byToken = admin.get("/v1/snapshots/shop/orders?after=0&wait=0&instance=orders-8&ack=1");
        assertThat(byToken.statusCode()).as("an admin token is no sidecar").isEqualTo(403);
    }

    /** The version {@code instance} last ACKed, as {@code GET /v1/sidecars} shows it; null when none. */
    private static String applied(String instance) throws Exception {
        HttpResponse<String> list = admin.get("/v1/sidecars");
        assertThat(list.statusCode()).isEqualTo(200);
        for (JsonNode s : ApiClient.json(list).get("sidecars")) {
            if (s.get("instance").asText().equals(instance)) {
                return s.has("appliedVersion") ? s.get("appliedVersion").asText() : null;
            }
        }
        return null;
    }
}
