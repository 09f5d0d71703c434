package dev.outrider.controlplane.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.outrider.controlplane.ControlPlaneFixture;
import dev.outrider.controlplane.store.EtcdStoreConfig;
import dev.outrider.controlplane.testing.ApiClient;
import dev.outrider.controlplane.testing.EtcdCluster;
import dev.outrider.controlplane.testing.Snapshots;
import dev.outrider.core.snapshot.SnapshotEndpoint;
import dev.outrider.core.snapshot.WorkloadSnapshot;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Three control-plane replicas on one etcd cluster (three real members): what is written through one replica
 * reaches workloads whose snapshots come from another, held long polls included, because each replica's snapshot
 * hub follows the store's etcd watch.
 */
@Timeout(120)
class ReplicasTest {
    private static final String YAML = "application/yaml";

    @TempDir
    static Path dir;
    static EtcdCluster etcd;
    static ControlPlaneFixture one;
    static ControlPlaneFixture two;
    static ControlPlaneFixture three;

    @BeforeAll
    static void start() throws Exception {
        etcd = EtcdCluster.start(dir.resolve("etcd"), 3);
        one = ControlPlaneFixture.startOn(dir.resolve("one"),
                new EtcdStoreConfig(etcd.endpoints(), null, "/replicas/", Duration.ofSeconds(10)));
        two = one.replica(dir.resolve("two-data"));
        three = one.replica(dir.resolve("three-data"));
    }

    @AfterAll
    static void stop() {
        for (ControlPlaneFixture cp : new ControlPlaneFixture[] {three, two, one}) {
            if (cp != null) {
                cp.close();
            }
        }
        if (etcd != null) {
            etcd.close();
        }
    }

    @Test
    void aPolicyWrittenThroughOneReplicaWakesAPollHeldByAnother() throws Exception {
        ApiClient ordersAtTwo = two.workload("shop", "orders");
        HttpResponse<String> first = ordersAtTwo.get("/v1/snapshots/shop/orders?after=0&wait=10");
        assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
        long current = Snapshots.version(first);

        CompletableFuture<HttpResponse<String>> held = CompletableFuture.supplyAsync(() -> {
            try {
                return ordersAtTwo.get("/v1/snapshots/shop/orders?after=" + current + "&wait=30");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        Thread.sleep(300); // the poll is held at replica two
        HttpResponse<String> written = one.adminByToken().put("/v1/namespaces/shop/authorizationpolicies/allow-get",
                YAML, Snapshots.allowPolicy("allow-get", "GET"));
        assertThat(written.statusCode()).as(written.body()).isEqualTo(201);

        HttpResponse<String> woken = held.get(20, TimeUnit.SECONDS);
        assertThat(woken.statusCode()).as(woken.body()).isEqualTo(200);
        WorkloadSnapshot snapshot = Snapshots.verify(ordersAtTwo, woken, "shop", "orders");
        assertThat(snapshot.policies()).contains("allow-get");
        assertThat(Snapshots.version(woken)).isGreaterThan(current);

        // The same version and content from the third replica: versions come from etcd's revisions.
        HttpResponse<String> atThree = three.workload("shop", "orders")
                .get("/v1/snapshots/shop/orders?after=0&wait=10");
        assertThat(Snapshots.verify(three.workload("shop", "orders"), atThree, "shop", "orders").policies())
                .contains("allow-get");

        // Deleted through replica three: replica one's workloads lose it.
        assertThat(three.adminByToken().delete("/v1/namespaces/shop/authorizationpolicies/allow-get").statusCode())
                .isEqualTo(200);
        ApiClient ordersAtOne = one.workload("shop", "orders");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        WorkloadSnapshot latest = snapshot;
        long after = 0;
        while (latest.policies().contains("allow-get") && System.nanoTime() < deadline) {
            HttpResponse<String> r = ordersAtOne.get("/v1/snapshots/shop/orders?after=" + after + "&wait=5");
            if (r.statusCode() == 200) {
                latest = Snapshots.verify(ordersAtOne, r, "shop", "orders");
                after = Snapshots.version(r);
            }
        }
        assertThat(latest.policies()).doesNotContain("allow-get");
    }

    @Test
    void anInstanceRegisteredAtOneReplicaIsAnEndpointInSnapshotsOfAnother() throws Exception {
        ApiClient admin = two.adminByToken();
        assertThat(admin.put("/v1/namespaces/reg/services/catalog", YAML, """
                apiVersion: outrider.dev/v1
                kind: Service
                spec: {serviceAccounts: [catalog]}
                """).statusCode()).isEqualTo(201);
        HttpResponse<String> registered = one.workload("reg", "catalog").post("/v1/registrations",
                "{\"service\": \"catalog\", \"instance\": \"catalog-1\", \"address\": \"127.0.0.1:15006\"}");
        assertThat(registered.statusCode()).as(registered.body()).isIn(200, 201);

        ApiClient clientAtThree = three.workload("reg", "frontend");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        List<String> addresses = List.of();
        long after = 0;
        while (!addresses.contains("127.0.0.1:15006") && System.nanoTime() < deadline) {
            HttpResponse<String> r = clientAtThree.get("/v1/snapshots/reg/frontend?after=" + after + "&wait=5");
            if (r.statusCode() == 200) {
                addresses = Snapshots.verify(clientAtThree, r, "reg", "frontend").endpoints().stream()
                        .map(SnapshotEndpoint::address).toList();
                after = Snapshots.version(r);
            }
        }
        assertThat(addresses).containsExactly("127.0.0.1:15006");
    }

    @Test
    void aStatusReportedToOneReplicaIsListedByEveryReplica() throws Exception {
        ApiClient ordersAtOne = one.workload("acks", "orders");
        HttpResponse<String> snapshot = ordersAtOne.get("/v1/snapshots/acks/orders?after=0&wait=10");
        assertThat(snapshot.statusCode()).as(snapshot.body()).isEqualTo(200);
        long version = Snapshots.version(snapshot);
        HttpResponse<String> ack = ordersAtOne.post("/v1/sidecars/status",
                "{\"instance\": \"orders-1\", \"version\": \"" + version + "\", \"result\": \"ACK\"}");
        assertThat(ack.statusCode()).as(ack.body()).isEqualTo(204);

        // answered 204 only once in etcd: replica three lists it at once, without waiting for anything
        HttpResponse<String> list = three.adminByToken().get("/v1/sidecars");
        assertThat(list.statusCode()).as(list.body()).isEqualTo(200);
        JsonNode entry = null;
        for (JsonNode s : ApiClient.json(list).get("sidecars")) {
            if (s.get("identity").asText().equals("spiffe://cluster.local/ns/acks/sa/orders")) {
                entry = s;
            }
        }
        assertThat(entry).as(list.body()).isNotNull();
        assertThat(entry.get("instance").asText()).isEqualTo("orders-1");
        assertThat(entry.get("appliedVersion").asText()).isEqualTo(Long.toString(version));
    }

    @Test
    void everyReplicaGivesOneContentOneVersionWhateverElseIsWrittenToEtcd() throws Exception {
        HttpResponse<String> written = two.adminByToken().put("/v1/namespaces/same/authorizationpolicies/allow-get",
                YAML, Snapshots.allowPolicy("allow-get", "GET"));
        assertThat(written.statusCode()).as(written.body()).isEqualTo(201);
        ApiClient ordersAtOne = one.workload("same", "orders");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        long atOne = 0;
        WorkloadSnapshot snapshot = null;
        while ((snapshot == null || !snapshot.policies().contains("allow-get")) && System.nanoTime() < deadline) {
            HttpResponse<String> r = ordersAtOne.get("/v1/snapshots/same/orders?after=" + atOne + "&wait=5");
            if (r.statusCode() == 200) {
                snapshot = Snapshots.verify(ordersAtOne, r, "same", "orders");
                atOne = Snapshots.version(r);
            }
        }
        assertThat(snapshot).isNotNull();
        assertThat(snapshot.policies()).contains("allow-get");

        // Status reports are etcd writes too: they move etcd's revision, and change no content.
        for (int n = 0; n < 20; n++) {
            HttpResponse<String> r = one.workload("same", "reporter").post("/v1/sidecars/status",
                    "{\"instance\": \"r-" + n + "\", \"version\": \"1\", \"result\": \"ACK\"}");
            assertThat(r.statusCode()).as(r.body()).isEqualTo(204);
        }

        // Replica three compiles this workload only now: the same content, hence the same version as replica one's.
        ApiClient ordersAtThree = three.workload("same", "orders");
        HttpResponse<String> first = ordersAtThree.get("/v1/snapshots/same/orders?after=0&wait=10");
        assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
        assertThat(Snapshots.verify(ordersAtThree, first, "same", "orders").policies()).contains("allow-get");
        assertThat(Snapshots.version(first)).as("replica three's version of what replica one gave at " + atOne)
                .isEqualTo(atOne);
        // so a sidecar moving from replica one to replica three holds what is current there: nothing to download
        assertThat(ordersAtThree.get("/v1/snapshots/same/orders?after=" + atOne + "&wait=1").statusCode())
                .isEqualTo(304);
    }

    @Test
    void everyReplicaListsTheSameAuditTrailWhicheverReplicaRecordedAWrite() throws Exception {
        String path = "/v1/namespaces/audit-shared/services/orders";
        String service = "apiVersion: outrider.dev/v1\nkind: Service\nspec: {}\n";
        assertThat(one.adminByToken().put(path, YAML, service).statusCode()).isEqualTo(201);
        assertThat(two.anonymous().put(path, YAML, service).statusCode()).isEqualTo(401);
        assertThat(three.adminByCertificate().delete(path + "?resourceVersion=1").statusCode()).isEqualTo(409);
        assertThat(two.adminByCertificate().delete(path).statusCode()).isEqualTo(200);

        List<JsonNode> trails = new java.util.ArrayList<>();
        for (ControlPlaneFixture replica : List.of(one, two, three)) {
            HttpResponse<String> r = replica.adminByToken().get("/v1/audit?namespace=audit-shared");
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            trails.add(ApiClient.json(r).get("items"));
        }
        assertThat(trails.get(0)).extracting(n -> n.path("action").asText() + " " + n.path("status").asInt())
                .containsExactly("create 201", "apply 401", "delete 409", "delete 200");
        assertThat(trails.get(1)).isEqualTo(trails.get(0));
        assertThat(trails.get(2)).isEqualTo(trails.get(0));
        assertThat(trails.get(0).get(1).at("/caller/type").asText()).isEqualTo("anonymous");
        assertThat(trails.get(0).get(3).at("/resourceVersionBefore").asText())
                .isEqualTo(trails.get(0).get(0).at("/resourceVersionAfter").asText());
    }
}
