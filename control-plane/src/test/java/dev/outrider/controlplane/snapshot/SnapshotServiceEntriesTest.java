package dev.outrider.controlplane.snapshot;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import dev.outrider.controlplane.ca.WorkloadIdentity;
import dev.outrider.controlplane.registry.ServiceRegistry;
import dev.outrider.controlplane.store.FileStore;
import dev.outrider.controlplane.store.ResourceKey;
import dev.outrider.controlplane.store.Store;
import dev.outrider.controlplane.testing.MutableClock;
import dev.outrider.controlplane.testing.Resources;
import dev.outrider.core.policy.AuthorizationPolicy;
import dev.outrider.core.policy.PolicyDocument;
import dev.outrider.core.policy.PolicyDocuments;
import dev.outrider.core.policy.ServiceEntry;
import dev.outrider.core.snapshot.SnapshotSigner;
import dev.outrider.core.snapshot.SnapshotVerifier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * ServiceEntries in snapshots (docs/control-plane.md, "ServiceEntry"): a workload's snapshot carries the entries
 * exported to its namespace, narrowed by its Sidecar's egress hosts, with the AuthorizationPolicies whose targetRefs
 * name them (also from the entry's namespace when that is not the workload's), each read back by the sidecar's reader.
 */
class SnapshotServiceEntriesTest {
    private static final WorkloadIdentity SHOP_ORDERS = new WorkloadIdentity("cluster.local", "shop", "orders");
    private static final WorkloadIdentity BILLING_LEDGER = new WorkloadIdentity("cluster.local", "billing", "ledger");
    private static final String HTTP = "ports: [{number: 80, name: http, protocol: HTTP}], resolution: DNS";

    @TempDir
    Path dir;
    private ECKey key;
    private FileStore store;
    private SnapshotHub hub;

    @BeforeEach
    void open() throws IOException, JOSEException {
        key = new ECKeyGenerator(Curve.P_256).keyID("cp-1").generate();
        store = FileStore.open(dir);
        MutableClock clock = new MutableClock();
        Resources.service(store, "shop", "orders", "{}");
        Resources.service(store, "billing", "ledger", "{}");
        ServiceRegistry registry = new ServiceRegistry(store, clock);
        registry.register(SHOP_ORDERS, "orders", "orders-1", "10.0.0.1:15006");
        registry.register(BILLING_LEDGER, "ledger", "ledger-1", "10.0.1.1:15006");
        hub = new SnapshotHub(store, SnapshotSigner.of(key), registry, "cluster.local", clock);
    }

    @AfterEach
    void close() {
        hub.close();
        store.close();
    }

    @Test
    void entriesFollowExportToAndSidecarEgressHostsWithTheirTargetingPolicies() throws Exception {
        Resources.serviceEntry(store, "egress", "public-api", "{hosts: [api.example.com], " + HTTP + "}");
        Resources.serviceEntry(store, "egress", "billing-only", "{hosts: [pay.example.com], " + HTTP
                + ", exportTo: [billing]}");
        Resources.serviceEntry(store, "shop", "shop-own", "{hosts: [shop.example.com], " + HTTP
                + ", exportTo: [\".\"]}");
        Resources.authorizationPolicy(store, "egress", "public-api-callers", "{targetRefs: [{kind: ServiceEntry,"
                + " group: networking.istio.io, name: public-api}], rules: [{from: [{source: {namespaces: [shop]}}]}]}");
        Resources.authorizationPolicy(store, "egress", "unrelated", "{targetRefs: [{kind: ServiceEntry,"
                + " group: networking.istio.io, name: billing-only}], rules: [{}]}");
        Resources.authorizationPolicy(store, "shop", "shop-own-callers", "{targetRefs: [{kind: ServiceEntry,"
                + " group: networking.istio.io, name: shop-own}], rules: [{}]}");
        hub.storeChanged();

        assertThat(documents(SHOP_ORDERS)).containsExactlyInAnyOrder("AuthorizationPolicy shop/shop-own-callers",
                "ServiceEntry egress/public-api", "AuthorizationPolicy egress/public-api-callers",
                "ServiceEntry shop/shop-own");
        assertThat(documents(BILLING_LEDGER)).containsExactlyInAnyOrder("ServiceEntry egress/public-api",
                "AuthorizationPolicy egress/public-api-callers", "ServiceEntry egress/billing-only",
                "AuthorizationPolicy egress/unrelated");

        // A Sidecar narrows entries as it narrows services: NAMESPACE/HOST.
        Resources.sidecar(store, "shop", "default", "{egress: [{hosts: [\"./*\", \"egress/other.example.com\"]}]}");
        hub.storeChanged();
        assertThat(documents(SHOP_ORDERS)).containsExactlyInAnyOrder("AuthorizationPolicy shop/shop-own-callers",
                "ServiceEntry shop/shop-own");
        Resources.sidecar(store, "shop", "default", "{egress: [{hosts: [\"*/api.example.com\"]}]}");
        hub.storeChanged();
        assertThat(documents(SHOP_ORDERS)).containsExactlyInAnyOrder("AuthorizationPolicy shop/shop-own-callers",
                "ServiceEntry egress/public-api", "AuthorizationPolicy egress/public-api-callers");

        store.delete(new ResourceKey("ServiceEntry", "egress", "public-api"), Store.ANY_VERSION);
        hub.storeChanged();
        assertThat(documents(SHOP_ORDERS)).containsExactly("AuthorizationPolicy shop/shop-own-callers");
    }

    @Test
    void theEntryArrivesAsTheSidecarReadsIt() throws Exception {
        Resources.serviceEntry(store, "shop", "api", "{hosts: [api.example.com], location: MESH_EXTERNAL,"
                + " ports: [{number: 80, name: http, protocol: HTTP, targetPort: 443}], resolution: STATIC,"
                + " endpoints: [{address: 10.1.2.3}], tls: {mode: SIMPLE, sni: api.example.com}}");
        hub.storeChanged();
        ServiceEntry entry = (ServiceEntry) parsed(SHOP_ORDERS).getFirst();
        assertThat(entry.hosts()).containsExactly("api.example.com");
        assertThat(entry.ports().getFirst().targetPort()).isEqualTo(443);
        assertThat(entry.endpoints().getFirst().address()).isEqualTo("10.1.2.3");
        assertThat(entry.tls().sni()).isEqualTo("api.example.com");
        assertThat(parsed(SHOP_ORDERS).getFirst()).isInstanceOf(ServiceEntry.class);
        assertThat(parsed(BILLING_LEDGER)).hasSize(1).first().isNotInstanceOf(AuthorizationPolicy.class);
    }

    private List<PolicyDocument> parsed(WorkloadIdentity workload) throws Exception {
        hub.refreshAndWait();
        IssuedSnapshot issued = hub.next(workload, 0, Duration.ofSeconds(60)).get(30, TimeUnit.SECONDS).orElseThrow();
        String text = new SnapshotVerifier(new JWKSet(key.toPublicJWK()), workload.spiffeId()).verify(issued.jws())
                .policies();
        return PolicyDocuments.parse(text, "snapshot");
    }

    private List<String> documents(WorkloadIdentity workload) throws Exception {
        return parsed(workload).stream().map(d -> d.kind() + " " + d.metadata().id()).toList();
    }
}
