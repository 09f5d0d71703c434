package dev.outrider.controlplane.api;

import dev.outrider.controlplane.ControlPlaneFixture;
import dev.outrider.controlplane.store.EtcdStoreConfig;
import dev.outrider.controlplane.testing.ApiClient;
import dev.outrider.controlplane.testing.EtcdCluster;
import dev.outrider.controlplane.testing.Snapshots;
import dev.outrider.core.snapshot.SnapshotEndpoint;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A registration's life across replicas (etcd store): it lives as long as its sidecar refreshes it, through any
 * replica (an etcd lease renewed by whichever one receives the refresh), and leaves every replica's snapshots once
 * the refreshes stop (etcd deletes it when its lease runs out; the replicas learn it from their watch).
 */
@Timeout(120)
class ReplicaRegistrationLeaseTest {
    private static final String YAML = "application/yaml";
    private static final String REGISTRATION =
            "{\"service\": \"orders\", \"instance\": \"orders-1\", \"address\": \"10.0.0.5:15006\"}";

    @TempDir
    static Path dir;
    static EtcdCluster etcd;
    static ControlPlaneFixture one;
    static ControlPlaneFixture two;

    @BeforeAll
    static void start() throws Exception {
        etcd = EtcdCluster.start(dir.resolve("etcd"), 1);
        one = ControlPlaneFixture.startOn(dir.resolve("one"),
                new EtcdStoreConfig(etcd.endpoints(), null, "/lease/", Duration.ofSeconds(10)));
        two = one.replica(dir.resolve("two-data"));
    }

    @AfterAll
    static void stop() {
        for (ControlPlaneFixture cp : new ControlPlaneFixture[] {two, one}) {
            if (cp != null) {
                cp.close();
            }
        }
        if (etcd != null) {
            etcd.close();
        }
    }

    private static List<String> addresses(ControlPlaneFixture cp) throws Exception {
        ApiClient frontend = cp.workload("shop", "frontend");
        HttpResponse<String> r = frontend.get("/v1/snapshots/shop/frontend?after=0&wait=5");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return Snapshots.verify(frontend, r, "shop", "frontend").endpoints().stream()
                .map(SnapshotEndpoint::address).toList();
    }

    @Test
    void refreshedThroughAnotherReplicaItLivesAndUnrefreshedItExpiresEverywhere() throws Exception {
        ApiClient admin = one.adminByToken();
        assertThat(admin.put("/v1/meshconfig", YAML,
                "apiVersion: outrider.dev/v1\nkind: MeshConfig\nspec: {registrationTtl: 10s}\n").statusCode())
                .isIn(200, 201);
        assertThat(admin.put("/v1/namespaces/shop/services/orders", YAML,
                "apiVersion: outrider.dev/v1\nkind: Service\nspec: {}\n").statusCode()).isEqualTo(201);
        HttpResponse<String> registered = one.workload("shop", "orders").post("/v1/registrations", REGISTRATION);
        assertThat(registered.statusCode()).as(registered.body()).isEqualTo(200);

        // 12 s, longer than the 10 s TTL, refreshed through replica two only.
        ApiClient ordersAtTwo = two.workload("shop", "orders");
        long until = System.nanoTime() + Duration.ofSeconds(12).toNanos();
        while (System.nanoTime() < until) {
            Thread.sleep(3_000);
            assertThat(ordersAtTwo.post("/v1/registrations", REGISTRATION).statusCode()).isEqualTo(200);
        }
        assertThat(addresses(one)).as("alive at the replica it registered with").containsExactly("10.0.0.5:15006");
        assertThat(addresses(two)).containsExactly("10.0.0.5:15006");

        // No more refreshes: gone from both within the TTL (plus etcd's lease check and the watch).
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while ((!addresses(one).isEmpty() || !addresses(two).isEmpty()) && System.nanoTime() < deadline) {
            Thread.sleep(500);
        }
        assertThat(addresses(one)).isEmpty();
        assertThat(addresses(two)).isEmpty();
    }
}
