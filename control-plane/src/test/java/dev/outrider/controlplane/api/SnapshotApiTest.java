package dev.outrider.controlplane.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.outrider.core.snapshot.WorkloadSnapshot;
import dev.outrider.controlplane.ControlPlaneFixture;
import dev.outrider.controlplane.testing.ApiClient;
import dev.outrider.controlplane.testing.Snapshots;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code GET /v1/snapshots/{ns}/{sa}} over real TLS: the signed snapshot at once when newer than {@code after},
 * held until a write changes it, 304 when {@code wait} runs out, only for that workload or an admin.
 */
class SnapshotApiTest {
    private static final String YAML = "application/yaml";

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
    void workloadGetsItsSignedSnapshotWithItsNamespacesPolicies() throws Exception {
        HttpResponse<String> written = admin.put("/v1/namespaces/shop/authorizationpolicies/allow-get", YAML,
                Snapshots.allowPolicy("allow-get", "GET"));
        assertThat(written.statusCode()).isEqualTo(201);
        ApiClient orders = cp.workload("shop", "orders");

        HttpResponse<String> r = orders.get("/v1/snapshots/shop/orders?after=0&wait=10");

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).hasValue("application/jose");
        WorkloadSnapshot snapshot = Snapshots.verify(orders, r, "shop", "orders");
        assertThat(snapshot.version()).isEqualTo(Long.toString(Snapshots.version(r)));
        assertThat(Snapshots.version(r)).isGreaterThanOrEqualTo(
                Long.parseLong(ApiClient.json(written).at("/metadata/resourceVersion").asText()));
        assertThat(snapshot.policies()).contains("allow-get");
    }

    @Test
    void heldRequestIsAnsweredWhenAWriteChangesTheSnapshot() throws Exception {
        ApiClient payments = cp.workload("held", "payments");
        HttpResponse<String> first = payments.get("/v1/snapshots/held/payments?after=0&wait=0");
        long current = first.statusCode() == 200 ? Snapshots.version(first) : 0;

        CompletableFuture<HttpResponse<String>> held = payments.http().sendAsync(
                payments.request("/v1/snapshots/held/payments?after=" + current + "&wait=30").build(),
                HttpResponse.BodyHandlers.ofString());
        Thread.sleep(300); // give the request time to be parked (the test passes either way)
        assertThat(held).isNotDone();

        admin.put("/v1/namespaces/held/authorizationpolicies/new-rule", YAML, Snapshots.allowPolicy("new-rule", "PUT"));

        HttpResponse<String> r = held.get(20, TimeUnit.SECONDS);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(Snapshots.version(r)).isGreaterThan(current);
        assertThat(Snapshots.verify(payments, r, "held", "payments").policies()).contains("new-rule");
    }

    @Test
    void nothingNewWithinWaitIs304AndTheConnectionGoesOn() throws Exception {
        ApiClient orders = cp.workload("quiet", "orders");
        admin.put("/v1/namespaces/quiet/authorizationpolicies/p", YAML, Snapshots.allowPolicy("p", "GET"));
        HttpResponse<String> now = orders.get("/v1/snapshots/quiet/orders?wait=5");
        assertThat(now.statusCode()).isEqualTo(200);

        HttpResponse<String> r = orders.get("/v1/snapshots/quiet/orders?after=" + Snapshots.version(now) + "&wait=1");

        assertThat(r.statusCode()).isEqualTo(304);
        assertThat(r.body()).isEmpty();
        assertThat(orders.get("/v1/health").statusCode()).isEqualTo(200);
    }

    @Test
    void onlyThatWorkloadOrAnAdminMayRead() throws Exception {
        HttpResponse<String> other = cp.workload("shop", "frontend").get("/v1/snapshots/shop/orders?wait=0");
        assertThat(other.statusCode()).isEqualTo(403);
        assertThat(ApiClient.json(other).get("message").asText()).isEqualTo("spiffe://cluster.local/ns/shop/sa/frontend"
                + " may read only its own snapshot, not spiffe://cluster.local/ns/shop/sa/orders's");

        assertThat(cp.anonymous().get("/v1/snapshots/shop/orders?wait=0").statusCode()).isEqualTo(401);
        HttpResponse<String> asAdmin = admin.get("/v1/snapshots/shop/orders?after=0&wait=5");
        assertThat(asAdmin.statusCode()).isIn(200, 304);
    }

    @Test
    void badParametersAreInvalid() throws Exception {
        ApiClient orders = cp.workload("shop", "orders");
        for (String query : new String[] {"wait=61", "wait=-1", "after=abc", "after=1.5"}) {
            HttpResponse<String> r = orders.get("/v1/snapshots/shop/orders?" + query);
            assertThat(r.statusCode()).as(query).isEqualTo(400);
            JsonNode body = ApiClient.json(r);
            assertThat(body.get("field").asText()).isEqualTo(query.substring(0, query.indexOf('=')));
        }
        assertThat(admin.get("/v1/snapshots/Shop/orders").statusCode()).isEqualTo(400);
    }
}
