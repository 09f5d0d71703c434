package dev.outrider.controlplane.api;

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

/**
 * A registration not refreshed for {@code registrationTtl} (10 s here, the shortest allowed) is expired by the
 * control plane's own timer, and a held snapshot request is answered without the endpoint.
 */
class RegistrationExpiryTest {
    private static final String YAML = "application/yaml";

    @TempDir
    static Path dir;
    static ControlPlaneFixture cp;

    @BeforeAll
    static void start() throws Exception {
        cp = ControlPlaneFixture.start(dir);
    }

    @AfterAll
    static void stop() {
        if (cp != null) {
            cp.close();
        }
    }

    @Test
    void unrefreshedRegistrationLeavesTheSnapshots() throws Exception {
        ApiClient admin = cp.adminByToken();
        assertThat(admin.put("/v1/meshconfig", YAML,
                "apiVersion: outrider.dev/v1\nkind: MeshConfig\nspec: {registrationTtl: 10s}\n").statusCode())
                .isEqualTo(201);
        assertThat(admin.put("/v1/namespaces/shop/services/orders", YAML,
                "apiVersion: outrider.dev/v1\nkind: Service\nspec: {}\n").statusCode()).isEqualTo(201);
        HttpResponse<String> registered = cp.workload("shop", "orders").post("/v1/registrations",
                "{\"service\": \"orders\", \"instance\": \"orders-1\", \"address\": \"10.0.0.5:15006\"}");
        assertThat(ApiClient.json(registered).get("expiresIn").asText()).isEqualTo("10s");
        ApiClient frontend = cp.workload("shop", "frontend");
        HttpResponse<String> with = frontend.get("/v1/snapshots/shop/frontend?after=0&wait=10");
        assertThat(Snapshots.verify(frontend, with, "shop", "frontend").endpoints()).hasSize(1);
        String version = with.headers().firstValue("outrider-snapshot-version").orElseThrow();

        HttpResponse<String> without = frontend.get("/v1/snapshots/shop/frontend?after=" + version + "&wait=30");

        assertThat(without.statusCode()).isEqualTo(200);
        assertThat(Snapshots.verify(frontend, without, "shop", "frontend").endpoints()).isEmpty();
    }
}
