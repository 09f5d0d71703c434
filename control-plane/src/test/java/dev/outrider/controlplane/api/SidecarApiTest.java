package dev.outrider.controlplane.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.outrider.core.snapshot.SnapshotEndpoint;
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
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Sidecar resource over the API (docs/control-plane.md, "Sidecar"), with a real control plane: refusals naming the
 * field, a second Sidecar for the same workloads refused, and snapshots over real TLS narrowed to the egress hosts,
 * a registration outside a workload's hosts leaving its held request unanswered.
 */
class SidecarApiTest {
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
    void badSidecarsAreRefusedNamingTheField() throws Exception {
        HttpResponse<String> host = admin.put("/v1/namespaces/bad/sidecarscopes/default", YAML, """
                apiVersion: networking.istio.io/v1
                kind: Sidecar
                spec: {egress: [{hosts: ["./*", "payments/payments.payments.svc.cluster.local"]}]}
                """);
        assertThat(host.statusCode()).as(host.body()).isEqualTo(400);
        JsonNode body = ApiClient.json(host);
        assertThat(body.get("field").asText()).isEqualTo("spec.egress[0].hosts[1]");
        assertThat(body.get("message").asText()).contains("is a mesh service's DNS name; name a Service by its"
                + " metadata.name");

        HttpResponse<String> labels = admin.put("/v1/namespaces/bad/sidecarscopes/web", YAML, """
                apiVersion: outrider.dev/v1
                kind: Sidecar
                spec: {workloadSelector: {labels: {app: web}}}
                """);
        assertThat(labels.statusCode()).isEqualTo(400);
        assertThat(ApiClient.json(labels).get("field").asText()).isEqualTo("spec.workloadSelector.labels");
        assertThat(admin.get("/v1/namespaces/bad/sidecarscopes").body()).contains("\"items\":[]");
    }

    @Test
    void aSecondSidecarForTheSameWorkloadsIsRefusedAndNothingIsStored() throws Exception {
        assertThat(admin.put("/v1/namespaces/twice/sidecarscopes/default", YAML, sidecar("", "[\"./*\"]"))
                .statusCode()).isEqualTo(201);
        assertThat(admin.put("/v1/namespaces/twice/sidecarscopes/web", YAML, sidecar("[web]", "[\"*/*\"]"))
                .statusCode()).isEqualTo(201);

        HttpResponse<String> other = admin.put("/v1/namespaces/twice/sidecarscopes/other", YAML, sidecar("", "[\"*/*\"]"));
        assertThat(other.statusCode()).isEqualTo(400);
        assertThat(ApiClient.json(other).get("field").asText()).isEqualTo("spec.workloadSelector");
        assertThat(ApiClient.json(other).get("message").asText()).contains("as Sidecar twice/default does already");

        HttpResponse<String> posted = admin.post("/v1/namespaces/twice/sidecarscopes", """
                {"apiVersion": "outrider.dev/v1", "kind": "Sidecar", "metadata": {"name": "api"},
                 "spec": {"workloadSelector": {"serviceAccounts": ["api", "web"]}}}""");
        assertThat(posted.statusCode()).isEqualTo(400);
        assertThat(ApiClient.json(posted).get("field").asText()).isEqualTo("spec.workloadSelector.serviceAccounts[1]");

        assertThat(admin.get("/v1/namespaces/twice/sidecarscopes/other").statusCode()).isEqualTo(404);
        assertThat(admin.get("/v1/namespaces/twice/sidecarscopes/api").statusCode()).isEqualTo(404);
        // Replacing one is no conflict with itself; the list of all Sidecars is not the sidecars' status list.
        assertThat(admin.put("/v1/namespaces/twice/sidecarscopes/default", YAML, sidecar("", "[\"*/*\"]"))
                .statusCode()).isEqualTo(200);
        JsonNode all = ApiClient.json(admin.get("/v1/sidecarscopes"));
        assertThat(all.get("items").findValuesAsText("name")).contains("default", "web");
        assertThat(ApiClient.json(admin.get("/v1/sidecars")).has("sidecars")).isTrue();
    }

    @Test
    void snapshotsCarryOnlyWhatTheEgressHostsNameAndAnOutOfScopeRegistrationWakesNobody() throws Exception {
        for (String service : List.of("scoped-a/web", "scoped-a/orders", "scoped-b/ledger")) {
            String[] ns = service.split("/");
            assertThat(admin.put("/v1/namespaces/" + ns[0] + "/services/" + ns[1], YAML,
                    "apiVersion: outrider.dev/v1\nkind: Service\nspec: {}\n").statusCode()).isIn(200, 201);
        }
        assertThat(admin.put("/v1/namespaces/scoped-a/sidecarscopes/default", YAML, sidecar("", "[\"./*\"]"))
                .statusCode()).isEqualTo(201);
        ApiClient web = cp.workload("scoped-a", "web");
        ApiClient orders = cp.workload("scoped-a", "orders");
        ApiClient ledger = cp.workload("scoped-b", "ledger");
        register(orders, "orders", "orders-1", "10.1.0.1:15006");
        register(ledger, "ledger", "ledger-1", "10.1.1.1:15006");

        HttpResponse<String> first = web.get("/v1/snapshots/scoped-a/web?after=0&wait=10");
        assertThat(first.statusCode()).isEqualTo(200);
        assertThat(services(web, first)).containsExactly("scoped-a/orders");
        HttpResponse<String> ledgers = ledger.get("/v1/snapshots/scoped-b/ledger?after=0&wait=10");
        assertThat(services(ledger, ledgers)).as("no Sidecar in scoped-b: everything exported")
                .containsExactly("scoped-a/orders", "scoped-b/ledger");

        // A new instance of a service web does not call: its held request ends empty (304).
        register(ledger, "ledger", "ledger-2", "10.1.1.2:15006");
        HttpResponse<String> quiet = web.get("/v1/snapshots/scoped-a/web?after=" + Snapshots.version(first) + "&wait=2");
        assertThat(quiet.statusCode()).isEqualTo(304);
        HttpResponse<String> ledgerNext = ledger.get("/v1/snapshots/scoped-b/ledger?after=" + Snapshots.version(ledgers)
                + "&wait=10");
        assertThat(ledgerNext.statusCode()).isEqualTo(200);

        // One it calls: the next snapshot.
        register(orders, "orders", "orders-2", "10.1.0.2:15006");
        HttpResponse<String> next = web.get("/v1/snapshots/scoped-a/web?after=" + Snapshots.version(first) + "&wait=10");
        assertThat(next.statusCode()).isEqualTo(200);
        assertThat(Snapshots.verify(web, next, "scoped-a", "web").endpoints()).extracting(SnapshotEndpoint::address)
                .containsExactly("10.1.0.1:15006", "10.1.0.2:15006");

        // A Sidecar selecting web takes precedence over its namespace's.
        assertThat(admin.put("/v1/namespaces/scoped-a/sidecarscopes/web", YAML, sidecar("[web]", "[\"scoped-b/*\"]"))
                .statusCode()).isEqualTo(201);
        HttpResponse<String> selected = web.get("/v1/snapshots/scoped-a/web?after=" + Snapshots.version(next)
                + "&wait=10");
        assertThat(selected.statusCode()).isEqualTo(200);
        assertThat(services(web, selected)).containsExactly("scoped-b/ledger");
    }

    private static void register(ApiClient workload, String service, String instance, String address) throws Exception {
        HttpResponse<String> r = workload.post("/v1/registrations", "{\"service\": \"" + service + "\", \"instance\": \""
                + instance + "\", \"address\": \"" + address + "\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }

    private static List<String> services(ApiClient client, HttpResponse<String> snapshot) throws Exception {
        String path = snapshot.request().uri().getPath(); // /v1/snapshots/NS/SA
        String[] parts = path.split("/");
        WorkloadSnapshot s = Snapshots.verify(client, snapshot, parts[3], parts[4]);
        return s.endpoints().stream().map(e -> e.service().namespace() + "/" + e.service().name()).distinct().sorted()
                .toList();
    }

    /** A Sidecar document: {@code accounts} a YAML list of service accounts, empty for no selector. */
    private static String sidecar(String accounts, String hosts) {
        return "apiVersion: outrider.dev/v1\nkind: Sidecar\nspec:\n"
                + (accounts.isEmpty() ? "" : "  workloadSelector: {serviceAccounts: " + accounts + "}\n")
                + "  egress: [{hosts: " + hosts + "}]\n";
    }
}
