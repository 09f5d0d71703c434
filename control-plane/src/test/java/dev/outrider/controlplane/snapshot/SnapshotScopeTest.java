package dev.outrider.controlplane.snapshot;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import dev.outrider.core.snapshot.SnapshotEndpoint;
import dev.outrider.core.snapshot.SnapshotSigner;
import dev.outrider.core.snapshot.SnapshotVerifier;
import dev.outrider.core.snapshot.WorkloadSnapshot;
import dev.outrider.controlplane.ca.WorkloadIdentity;
import dev.outrider.controlplane.registry.ServiceRegistry;
import dev.outrider.controlplane.store.FileStore;
import dev.outrider.controlplane.store.ResourceKey;
import dev.outrider.controlplane.store.Store;
import dev.outrider.controlplane.testing.MutableClock;
import dev.outrider.controlplane.testing.Resources;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Snapshots scoped by Sidecars (docs/control-plane.md, "Sidecar"): what each workload's snapshot carries, that a
 * change outside a workload's scope neither bumps nor wakes it, that workloads of one scope share one content, and
 * that many snapshots are signed on the signing threads, each verifying for its workload.
 */
class SnapshotScopeTest {
    private static final Duration LONG = Duration.ofSeconds(60);
    private static final String ROOT = "outrider-system";
    private static final WorkloadIdentity SHOP_ORDERS = new WorkloadIdentity("cluster.local", "shop", "orders");
    private static final WorkloadIdentity SHOP_FRONTEND = new WorkloadIdentity("cluster.local", "shop", "frontend");
    private static final WorkloadIdentity BILLING_LEDGER = new WorkloadIdentity("cluster.local", "billing", "ledger");
    private static final String DENY_ADMIN = "{action: DENY, rules: [{to: [{operation: {paths: [\"/admin/*\"]}}]}]}";

    @TempDir
    Path dir;
    private final MutableClock clock = new MutableClock();
    private ECKey key;
    private FileStore store;
    private ServiceRegistry registry;
    private SnapshotHub hub;

    @BeforeEach
    void open() throws IOException, JOSEException {
        key = new ECKeyGenerator(Curve.P_256).keyID("cp-1").generate();
        store = FileStore.open(dir);
        Resources.service(store, "shop", "orders", "{}");
        Resources.service(store, "shop", "frontend", "{}");
        Resources.service(store, "billing", "ledger", "{}");
        registry = new ServiceRegistry(store, clock);
        registry.register(SHOP_ORDERS, "orders", "orders-1", "10.0.0.1:15006");
        registry.register(SHOP_FRONTEND, "frontend", "frontend-1", "10.0.0.2:15006");
        registry.register(BILLING_LEDGER, "ledger", "ledger-1", "10.0.1.1:15006");
        hub = new SnapshotHub(store, SnapshotSigner.of(key), registry, "cluster.local", clock);
    }

    @AfterEach
    void close() {
        hub.close();
        store.close();
    }

    @Test
    void withoutASidecarAWorkloadGetsEveryServiceExportedToItsNamespace() throws Exception {
        assertThat(services(SHOP_FRONTEND)).containsExactly("billing/ledger", "shop/frontend", "shop/orders");
    }

    @Test
    void aRootSidecarIsTheDefaultAndTheNamespacesSidecarAndASelectingOneTakePrecedence() throws Exception {
        Resources.sidecar(store, ROOT, "default", "{egress: [{hosts: [\"./*\"]}]}");
        hub.storeChanged();
        assertThat(services(SHOP_FRONTEND)).containsExactly("shop/frontend", "shop/orders");
        assertThat(services(BILLING_LEDGER)).as("'.' is each workload's own namespace").containsExactly("billing/ledger");

        Resources.sidecar(store, "shop", "default", "{egress: [{hosts: [\"./orders\", \"billing/*\"]}]}");
        hub.storeChanged();
        assertThat(services(SHOP_FRONTEND)).containsExactly("billing/ledger", "shop/orders");
        assertThat(services(SHOP_ORDERS)).containsExactly("billing/ledger", "shop/orders");
        assertThat(services(BILLING_LEDGER)).containsExactly("billing/ledger");

        Resources.sidecar(store, "shop", "frontend", "{workloadSelector: {serviceAccounts: [frontend]},"
                + " egress: [{hosts: [\"*/ledger\"]}]}");
        hub.storeChanged();
        assertThat(services(SHOP_FRONTEND)).containsExactly("billing/ledger");
        assertThat(services(SHOP_ORDERS)).containsExactly("billing/ledger", "shop/orders");

        // Without egress, a Sidecar gives back everything exported: here it overrides the namespace's narrowing.
        Resources.sidecar(store, "shop", "frontend", "{workloadSelector: {serviceAccounts: [frontend]}}");
        hub.storeChanged();
        assertThat(services(SHOP_FRONTEND)).containsExactly("billing/ledger", "shop/frontend", "shop/orders");

        store.delete(new ResourceKey("Sidecar", "shop", "frontend"), Store.ANY_VERSION);
        store.delete(new ResourceKey("Sidecar", "shop", "default"), Store.ANY_VERSION);
        hub.storeChanged();
        assertThat(services(SHOP_FRONTEND)).containsExactly("shop/frontend", "shop/orders");

        // Another root namespace: the old one's Sidecar is no longer the default.
        Resources.meshConfig(store, "{rootNamespace: mesh-root}");
        hub.storeChanged();
        assertThat(services(SHOP_FRONTEND)).containsExactly("billing/ledger", "shop/frontend", "shop/orders");
    }

    @Test
    void aServiceGoesOutOnlyWhenExportedToTheWorkloadsNamespaceAndNamedByItsHosts() throws Exception {
        Resources.sidecar(store, "shop", "default", "{egress: [{hosts: [\"./*\", \"billing/*\"]}]}");
        Resources.service(store, "billing", "ledger", "{exportTo: [\".\"]}");
        hub.storeChanged();
        assertThat(services(SHOP_FRONTEND)).containsExactly("shop/frontend", "shop/orders");

        Resources.service(store, "billing", "ledger", "{exportTo: [\".\", shop]}");
        hub.storeChanged();
        assertThat(services(SHOP_FRONTEND)).containsExactly("billing/ledger", "shop/frontend", "shop/orders");
    }

    @Test
    void aChangeOutsideAWorkloadsScopeNeitherBumpsNorWakesIt() throws Exception {
        Resources.sidecar(store, ROOT, "default", "{egress: [{hosts: [\"./*\"]}]}");
        hub.storeChanged();
        IssuedSnapshot shop = get(hub.next(SHOP_FRONTEND, 0, LONG)).orElseThrow();
        CompletableFuture<Optional<IssuedSnapshot>> shopHeld = hub.next(SHOP_FRONTEND, shop.version(), LONG);
        IssuedSnapshot billing = get(hub.next(BILLING_LEDGER, 0, LONG)).orElseThrow();
        CompletableFuture<Optional<IssuedSnapshot>> billingHeld = hub.next(BILLING_LEDGER, billing.version(), LONG);

        registry.register(BILLING_LEDGER, "ledger", "ledger-2", "10.0.1.2:15006"); // the registry wakes the hub
        Resources.service(store, "billing", "invoices", "{protocol: http2}");
        hub.storeChanged();
        hub.refreshAndWait();

        IssuedSnapshot billingNext = get(billingHeld).orElseThrow();
        assertThat(verify(billingNext, BILLING_LEDGER).endpoints()).extracting(SnapshotEndpoint::address)
                .containsExactly("10.0.1.1:15006", "10.0.1.2:15006");
        assertThat(shopHeld).isNotDone();
        assertThat(hub.latestVersion(SHOP_FRONTEND)).hasValue(shop.version());

        registry.register(SHOP_ORDERS, "orders", "orders-2", "10.0.0.3:15006"); // in its scope: woken
        assertThat(verify(get(shopHeld).orElseThrow(), SHOP_FRONTEND).endpoints()).extracting(SnapshotEndpoint::address)
                .containsExactly("10.0.0.2:15006", "10.0.0.1:15006", "10.0.0.3:15006");
    }

    @Test
    void workloadsOfOneScopeShareOneComputedContent() {
        Resources.sidecar(store, ROOT, "default", "{egress: [{hosts: [\"./*\"]}]}");
        Resources.sidecar(store, "shop", "web", "{workloadSelector: {serviceAccounts: [web-0, web-1]},"
                + " egress: [{hosts: [\"*/*\"]}]}");
        List<WorkloadIdentity> workloads = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            workloads.add(new WorkloadIdentity("cluster.local", i % 2 == 0 ? "shop" : "billing", "web-" + i));
        }
        SnapshotContents contents = new SnapshotContents(store, registry);

        Map<WorkloadIdentity, SnapshotContents.Content> first = contentsOf(contents.compute(workloads));
        Set<SnapshotContents.Content> distinct = Collections.newSetFromMap(new IdentityHashMap<>());
        distinct.addAll(first.values());
        assertThat(distinct).as("shop, shop with */*, billing").hasSize(3);
        assertThat(first.get(workloads.get(0)).endpoints()).hasSize(3); // web-0: */*
        assertThat(first.get(workloads.get(2)).endpoints()).hasSize(2); // web-2: shop only
        assertThat(first.get(workloads.get(1)).endpoints()).hasSize(1); // web-1 is of billing: the root default

        // Computed again without a change: the very same instances, so the hub compares references.
        Map<WorkloadIdentity, SnapshotContents.Content> second = contentsOf(contents.compute(workloads));
        for (WorkloadIdentity w : workloads) {
            assertThat(second.get(w)).isSameAs(first.get(w));
        }
    }

    @Test
    void twoHundredWorkloadsAreSignedOnTheSigningThreadsAndEachVerifies() throws Exception {
        List<WorkloadIdentity> workloads = new ArrayList<>();
        List<CompletableFuture<Optional<IssuedSnapshot>>> held = new ArrayList<>();
        Set<String> completedOn = ConcurrentHashMap.newKeySet();
        for (int i = 0; i < 200; i++) {
            WorkloadIdentity w = new WorkloadIdentity("cluster.local", "ns-" + i % 4, "sa-" + i);
            workloads.add(w);
        }
        for (WorkloadIdentity w : workloads) { // the first refresh compiles all of them at once
            hub.next(w, 0, LONG);
        }
        for (WorkloadIdentity w : workloads) {
            long v = get(hub.next(w, 0, LONG)).orElseThrow().version();
            CompletableFuture<Optional<IssuedSnapshot>> next = hub.next(w, v, LONG);
            next.whenComplete((r, e) -> completedOn.add(Thread.currentThread().getName()));
            held.add(next);
        }
        assertThat(held).noneMatch(CompletableFuture::isDone);

        Resources.authorizationPolicy(store, ROOT, "mesh-wide", DENY_ADMIN);
        hub.storeChanged();

        CompletableFuture.allOf(held.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        for (int i = 0; i < workloads.size(); i++) {
            IssuedSnapshot issued = held.get(i).get().orElseThrow();
            assertThat(issued.version()).isEqualTo(store.revision() + 1);
            WorkloadSnapshot snapshot = verify(issued, workloads.get(i));
            assertThat(snapshot.policies()).contains("mesh-wide");
        }
        assertThat(completedOn).isNotEmpty().allMatch(name -> name.startsWith("outrider-snapshot-signer-"));
    }

    /** The services ({@code namespace/name}) of the workload's current snapshot, once it is compiled. */
    private List<String> services(WorkloadIdentity workload) throws Exception {
        hub.refreshAndWait();
        IssuedSnapshot issued = get(hub.next(workload, 0, LONG)).orElseThrow();
        return verify(issued, workload).endpoints().stream()
                .map(e -> e.service().namespace() + "/" + e.service().name()).distinct().sorted().toList();
    }

    private static Optional<IssuedSnapshot> get(CompletableFuture<Optional<IssuedSnapshot>> future) throws Exception {
        return future.get(30, TimeUnit.SECONDS);
    }

    private WorkloadSnapshot verify(IssuedSnapshot issued, WorkloadIdentity workload) {
        return new SnapshotVerifier(new JWKSet(key.toPublicJWK()), workload.spiffeId()).verify(issued.jws());
    }

    private static Map<WorkloadIdentity, SnapshotContents.Content> contentsOf(
            Map<WorkloadIdentity, SnapshotContents.Compiled> compiled) {
        Map<WorkloadIdentity, SnapshotContents.Content> out = new java.util.HashMap<>();
        compiled.forEach((w, c) -> out.put(w, c.content()));
        return out;
    }
}
