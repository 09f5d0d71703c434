package dev.outrider.controlplane.snapshot;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import dev.outrider.core.model.ServiceName;
import dev.outrider.core.model.ServiceProtocol;
import dev.outrider.core.model.SpiffeId;
import dev.outrider.core.policy.PolicyDocument;
import dev.outrider.core.policy.PolicyDocuments;
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
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SnapshotHubTest {
    private static final Duration LONG = Duration.ofSeconds(60);
    private static final WorkloadIdentity SHOP_ORDERS = new WorkloadIdentity("cluster.local", "shop", "orders");
    private static final WorkloadIdentity SHOP_FRONTEND = new WorkloadIdentity("cluster.local", "shop", "frontend");
    private static final WorkloadIdentity BILLING = new WorkloadIdentity("cluster.local", "billing", "invoices");
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
        registry = new ServiceRegistry(store, clock);
        hub = newHub();
    }

    @AfterEach
    void close() {
        hub.close();
        store.close();
    }

    private SnapshotHub newHub() throws JOSEException {
        return new SnapshotHub(store, SnapshotSigner.of(key), registry, "cluster.local", clock);
    }

    @Test
    void theFirstSnapshotIsTheCurrentRevisionSignedForTheWorkload() throws Exception {
        Resources.authorizationPolicy(store, "shop", "deny-admin", DENY_ADMIN);
        Resources.authorizationPolicy(store, "billing", "other", DENY_ADMIN);

        IssuedSnapshot issued = get(hub.next(SHOP_ORDERS, 0, LONG)).orElseThrow();
        assertThat(issued.version()).isEqualTo(store.revision() + 1);
        WorkloadSnapshot snapshot = verify(issued, SHOP_ORDERS);
        assertThat(snapshot.versionNumber()).isEqualTo(issued.version());
        assertThat(snapshot.issuedAt()).isEqualTo(clock.instant());
        assertThat(policyIds(snapshot)).containsExactly("shop/deny-admin");
        assertThat(snapshot.endpoints()).isEmpty();
        assertThat(hub.latestVersion(SHOP_ORDERS)).hasValue(issued.version());
        assertThat(hub.current(SHOP_ORDERS)).contains(issued);
        assertThat(hub.latestVersion(BILLING)).isEmpty();
        assertThat(hub.current(BILLING)).isEmpty();

        // Asking again with an older version answers at once with the same snapshot.
        CompletableFuture<Optional<IssuedSnapshot>> again = hub.next(SHOP_ORDERS, issued.version() - 1, LONG);
        assertThat(again).isCompletedWithValue(Optional.of(issued));
    }

    @Test
    void anUnchangedSnapshotIsReSignedUnderANewVersionOnceADayOld() throws Exception {
        Resources.authorizationPolicy(store, "shop", "deny-admin", DENY_ADMIN);
        IssuedSnapshot first = get(hub.next(SHOP_ORDERS, 0, LONG)).orElseThrow();
        WorkloadSnapshot firstSnapshot = verify(first, SHOP_ORDERS);
        CompletableFuture<Optional<IssuedSnapshot>> held = hub.next(SHOP_ORDERS, first.version(), LONG);

        // Younger than a day: nothing to re-sign, the revision does not move.
        long revision = store.revision();
        clock.advance(Duration.ofHours(23));
        hub.reissueStaleAndWait();
        assertThat(store.revision()).isEqualTo(revision);
        assertThat(held).isNotDone();

        clock.advance(Duration.ofHours(1));
        hub.reissueStaleAndWait();

        IssuedSnapshot second = get(held).orElseThrow();
        assertThat(store.revision()).isEqualTo(revision + 1);
        assertThat(second.version()).isEqualTo(store.revision() + 1).isGreaterThan(first.version());
        WorkloadSnapshot secondSnapshot = verify(second, SHOP_ORDERS);
        assertThat(secondSnapshot.issuedAt()).isEqualTo(clock.instant()).isAfter(firstSnapshot.issuedAt());
        assertThat(secondSnapshot.policies()).isEqualTo(firstSnapshot.policies());
        assertThat(secondSnapshot.endpoints()).isEqualTo(firstSnapshot.endpoints());

        // A restarted hub on the same store never goes below the re-signed version (same content, same version).
        hub.close();
        hub = newHub();
        assertThat(get(hub.next(SHOP_ORDERS, 0, LONG)).orElseThrow().version()).isGreaterThanOrEqualTo(second.version());
    }

    @Test
    void reSigningNeedsAtLeastAMinute() {
        assertThatThrownBy(() -> new SnapshotHub(store, SnapshotSigner.of(key), registry, "cluster.local", clock,
                Duration.ofSeconds(59))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("reissueAfter must be at least 1 minute");
    }

    @Test
    void aWaiterIsWokenByAWriteWithALargerVersion() throws Exception {
        IssuedSnapshot first = get(hub.next(SHOP_ORDERS, 0, LONG)).orElseThrow();
        CompletableFuture<Optional<IssuedSnapshot>> held = hub.next(SHOP_ORDERS, first.version(), LONG);
        assertThat(held).isNotDone();

        Resources.authorizationPolicy(store, "shop", "deny-admin", DENY_ADMIN);
        hub.storeChanged();

        IssuedSnapshot second = get(held).orElseThrow();
        assertThat(second.version()).isEqualTo(store.revision() + 1).isGreaterThan(first.version());
        assertThat(policyIds(verify(second, SHOP_ORDERS))).containsExactly("shop/deny-admin");

        store.delete(new ResourceKey("AuthorizationPolicy", "shop", "deny-admin"), Store.ANY_VERSION);
        hub.storeChanged();
        IssuedSnapshot third = get(hub.next(SHOP_ORDERS, second.version(), LONG)).orElseThrow();
        assertThat(third.version()).isEqualTo(store.revision() + 1).isGreaterThan(second.version());
        assertThat(policyIds(verify(third, SHOP_ORDERS))).isEmpty();
    }

    @Test
    void writesThatChangeNothingAWorkloadSeesNeitherBumpNorWakeIt() throws Exception {
        Resources.authorizationPolicy(store, "shop", "deny-admin", DENY_ADMIN);
        IssuedSnapshot first = get(hub.next(SHOP_ORDERS, 0, LONG)).orElseThrow();
        CompletableFuture<Optional<IssuedSnapshot>> held = hub.next(SHOP_ORDERS, first.version(), LONG);
        IssuedSnapshot billing = get(hub.next(BILLING, 0, LONG)).orElseThrow();
        CompletableFuture<Optional<IssuedSnapshot>> billingHeld = hub.next(BILLING, billing.version(), LONG);

        Resources.authorizationPolicy(store, "billing", "deny-admin", DENY_ADMIN); // another namespace
        hub.storeChanged();
        Resources.authorizationPolicy(store, "shop", "deny-admin", DENY_ADMIN); // the same document again
        hub.storeChanged();
        Resources.service(store, "shop", "payments", "{}"); // a service without instances
        hub.storeChanged();
        hub.refreshAndWait();

        assertThat(get(billingHeld).orElseThrow().version()).isGreaterThan(billing.version());
        assertThat(held).isNotDone();
        assertThat(hub.latestVersion(SHOP_ORDERS)).hasValue(first.version());
        assertThat(store.revision()).isGreaterThan(first.version() + 1); // three writes after it, no new version
    }

    @Test
    void rootNamespacePoliciesReachEveryWorkload() throws Exception {
        Resources.authorizationPolicy(store, "shop", "deny-admin", DENY_ADMIN);
        long shopVersion = get(hub.next(SHOP_ORDERS, 0, LONG)).orElseThrow().version();
        long billingVersion = get(hub.next(BILLING, 0, LONG)).orElseThrow().version();
        CompletableFuture<Optional<IssuedSnapshot>> shop = hub.next(SHOP_ORDERS, shopVersion, LONG);
        CompletableFuture<Optional<IssuedSnapshot>> billing = hub.next(BILLING, billingVersion, LONG);

        Resources.authorizationPolicy(store, "outrider-system", "mesh-wide", DENY_ADMIN);
        hub.storeChanged();

        assertThat(policyIds(verify(get(shop).orElseThrow(), SHOP_ORDERS)))
                .containsExactly("outrider-system/mesh-wide", "shop/deny-admin");
        assertThat(policyIds(verify(get(billing).orElseThrow(), BILLING)))
                .containsExactly("outrider-system/mesh-wide");

        // Another root namespace: the old one's policies no longer apply everywhere.
        long before = hub.latestVersion(BILLING).orElseThrow();
        Resources.meshConfig(store, "{rootNamespace: mesh-root}");
        hub.storeChanged();
        IssuedSnapshot moved = get(hub.next(BILLING, before, LONG)).orElseThrow();
        assertThat(policyIds(verify(moved, BILLING))).isEmpty();
    }

    @Test
    void allThreePolicyKindsGoOut() throws Exception {
        Resources.put(store, dev.outrider.core.model.ResourceKind.REQUEST_AUTHENTICATION, "shop", "jwt", """
                apiVersion: security.istio.io/v1
                kind: RequestAuthentication
                spec: {jwtRules: [{issuer: "https://issuer.example", jwksUri: "https://issuer.example/jwks"}]}
                """);
        Resources.put(store, dev.outrider.core.model.ResourceKind.RATE_LIMIT_POLICY, "shop", "limits", """
                apiVersion: outrider.dev/v1
                kind: RateLimitPolicy
                spec: {rules: [{maxInFlight: 10}]}
                """);
        Resources.authorizationPolicy(store, "shop", "deny-admin", DENY_ADMIN);
        WorkloadSnapshot snapshot = verify(get(hub.next(SHOP_ORDERS, 0, LONG)).orElseThrow(), SHOP_ORDERS);
        assertThat(PolicyDocuments.parse(snapshot.policies(), "test")).extracting(PolicyDocument::kind)
                .containsExactlyInAnyOrder("AuthorizationPolicy", "RequestAuthentication", "RateLimitPolicy");
    }

    @Test
    void endpointsFollowRegistrationsAndExpiry() throws Exception {
        long v0 = get(hub.next(SHOP_FRONTEND, 0, LONG)).orElseThrow().version();
        CompletableFuture<Optional<IssuedSnapshot>> held = hub.next(SHOP_FRONTEND, v0, LONG);

        registry.register(SHOP_ORDERS, "orders", "orders-1", "10.0.0.5:15006"); // the registry wakes the hub
        IssuedSnapshot registered = get(held).orElseThrow();
        assertThat(registered.version()).isEqualTo(store.revision() + 1);
        assertThat(verify(registered, SHOP_FRONTEND).endpoints()).containsExactly(new SnapshotEndpoint(
                new ServiceName("orders", "shop"), "10.0.0.5:15006", SpiffeId.parse("spiffe://cluster.local/ns/shop/sa/orders")));

        held = hub.next(SHOP_FRONTEND, registered.version(), LONG);
        clock.advance(Duration.ofSeconds(30));
        registry.register(SHOP_ORDERS, "orders", "orders-1", "10.0.0.5:15006"); // refresh: nothing changes
        hub.refreshAndWait();
        assertThat(held).isNotDone();

        clock.advance(registry.ttl());
        assertThat(registry.expire()).isEqualTo(1);
        IssuedSnapshot expired = get(held).orElseThrow();
        assertThat(expired.version()).isGreaterThan(registered.version());
        assertThat(verify(expired, SHOP_FRONTEND).endpoints()).isEmpty();

        registry.register(SHOP_ORDERS, "orders", "orders-2", "[fd00::2]:15006");
        IssuedSnapshot again = get(hub.next(SHOP_FRONTEND, expired.version(), LONG)).orElseThrow();
        assertThat(verify(again, SHOP_FRONTEND).endpoints()).extracting(SnapshotEndpoint::address)
                .containsExactly("[fd00::2]:15006");
        registry.deregister(SHOP_ORDERS, "orders-2");
        IssuedSnapshot drained = get(hub.next(SHOP_FRONTEND, again.version(), LONG)).orElseThrow();
        assertThat(verify(drained, SHOP_FRONTEND).endpoints()).isEmpty();
    }

    @Test
    void endpointsCarryTheirServicesProtocolAndAChangeOfItIsANewSnapshot() throws Exception {
        Resources.service(store, "shop", "orders", "{protocol: http2}");
        Resources.service(store, "shop", "payments", "{protocol: http1}");
        registry.register(SHOP_ORDERS, "orders", "orders-1", "10.0.0.5:15006");
        registry.register(SHOP_ORDERS, "orders", "orders-2", "10.0.0.6:15006");
        registry.register(new WorkloadIdentity("cluster.local", "shop", "payments"), "payments", "payments-1",
                "10.0.0.7:15006");
        IssuedSnapshot first = get(hub.next(SHOP_FRONTEND, 0, LONG)).orElseThrow();
        assertThat(verify(first, SHOP_FRONTEND).endpoints())
                .extracting(e -> e.service().name() + " " + e.address() + " " + e.protocol())
                .containsExactly("orders 10.0.0.5:15006 HTTP2", "orders 10.0.0.6:15006 HTTP2",
                        "payments 10.0.0.7:15006 HTTP1");

        Resources.service(store, "shop", "orders", "{protocol: http1}");
        hub.storeChanged();
        IssuedSnapshot changed = get(hub.next(SHOP_FRONTEND, first.version(), LONG)).orElseThrow();
        assertThat(changed.version()).isGreaterThan(first.version());
        assertThat(verify(changed, SHOP_FRONTEND).endpoints()).extracting(SnapshotEndpoint::protocol)
                .containsExactly(ServiceProtocol.HTTP1, ServiceProtocol.HTTP1, ServiceProtocol.HTTP1);

        Resources.service(store, "shop", "orders", "{}");
        hub.storeChanged();
        IssuedSnapshot defaulted = get(hub.next(SHOP_FRONTEND, changed.version(), LONG)).orElseThrow();
        assertThat(verify(defaulted, SHOP_FRONTEND).endpoints()).extracting(SnapshotEndpoint::protocol)
                .containsExactly(ServiceProtocol.AUTO, ServiceProtocol.AUTO, ServiceProtocol.HTTP1);
    }

    @Test
    void endpointsGoOnlyWhereTheServiceIsExportedAndWhileItsAccountIsAllowed() throws Exception {
        Resources.service(store, "shop", "orders", "{exportTo: [\".\"]}");
        registry.register(SHOP_ORDERS, "orders", "orders-1", "10.0.0.5:15006");
        assertThat(verify(get(hub.next(SHOP_FRONTEND, 0, LONG)).orElseThrow(), SHOP_FRONTEND).endpoints())
                .hasSize(1);
        IssuedSnapshot billing = get(hub.next(BILLING, 0, LONG)).orElseThrow();
        assertThat(verify(billing, BILLING).endpoints()).isEmpty();

        Resources.service(store, "shop", "orders", "{exportTo: [\".\", billing]}");
        hub.storeChanged();
        assertThat(verify(get(hub.next(BILLING, billing.version(), LONG)).orElseThrow(), BILLING).endpoints())
                .hasSize(1);

        long frontend = hub.latestVersion(SHOP_FRONTEND).orElseThrow();
        Resources.service(store, "shop", "orders", "{serviceAccounts: [orders-v2]}");
        hub.storeChanged();
        assertThat(verify(get(hub.next(SHOP_FRONTEND, frontend, LONG)).orElseThrow(), SHOP_FRONTEND).endpoints())
                .isEmpty();
    }

    @Test
    void aHeldRequestEndsEmptyAfterItsWait() throws Exception {
        long v = get(hub.next(SHOP_ORDERS, 0, LONG)).orElseThrow().version();
        assertThat(get(hub.next(SHOP_ORDERS, v, Duration.ofMillis(50)))).isEmpty();
        assertThat(get(hub.next(SHOP_ORDERS, v, Duration.ZERO))).isEmpty();
        assertThat(get(hub.next(SHOP_ORDERS, v + 5, Duration.ZERO))).isEmpty();
    }

    @Test
    void aNewWorkloadIsCompiledEvenWithAZeroWait() throws Exception {
        assertThat(get(hub.next(SHOP_ORDERS, 0, Duration.ZERO))).isPresent();
    }

    @Test
    void anEmptyStoreGivesVersionOneToASidecarWithoutASnapshot() throws Exception {
        hub.close();
        store.close();
        store = FileStore.open(dir.resolve("empty"));
        registry = new ServiceRegistry(store, clock);
        hub = newHub();
        IssuedSnapshot first = get(hub.next(SHOP_ORDERS, 0, LONG)).orElseThrow();
        assertThat(first.version()).isEqualTo(1);
        assertThat(verify(first, SHOP_ORDERS).policies()).isEmpty();
        assertThat(get(hub.next(SHOP_ORDERS, 1, Duration.ofMillis(20)))).isEmpty();
    }

    @Test
    void oneWriteWakesAHundredWaitingWorkloads() throws Exception {
        List<WorkloadIdentity> workloads = new ArrayList<>();
        List<CompletableFuture<Optional<IssuedSnapshot>>> held = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            WorkloadIdentity w = new WorkloadIdentity("cluster.local", i % 2 == 0 ? "shop" : "billing", "sa-" + i);
            workloads.add(w);
            long v = get(hub.next(w, 0, LONG)).orElseThrow().version();
            held.add(hub.next(w, v, LONG));
        }
        assertThat(held).noneMatch(CompletableFuture::isDone);

        Resources.authorizationPolicy(store, "outrider-system", "mesh-wide", DENY_ADMIN);
        hub.storeChanged();

        CompletableFuture.allOf(held.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        for (int i = 0; i < 100; i++) {
            IssuedSnapshot issued = held.get(i).get().orElseThrow();
            assertThat(issued.version()).isEqualTo(store.revision() + 1);
            assertThat(policyIds(verify(issued, workloads.get(i)))).containsExactly("outrider-system/mesh-wide");
        }
    }

    @Test
    void pollersRacingWritesMissNoChangeAndSeeVersionsOnlyGrow() throws Exception {
        int pollers = 8;
        int writes = 100;
        List<CompletableFuture<List<Long>>> seen = new ArrayList<>();
        try (ExecutorService threads = Executors.newFixedThreadPool(pollers)) {
            for (int p = 0; p < pollers; p++) {
                WorkloadIdentity w = new WorkloadIdentity("cluster.local", "shop", "poller-" + p);
                seen.add(CompletableFuture.supplyAsync(() -> poll(w, writes), threads));
            }
            for (int i = 1; i <= writes; i++) {
                Resources.authorizationPolicy(store, "shop", "p-" + i, DENY_ADMIN);
                hub.storeChanged();
            }
            for (CompletableFuture<List<Long>> versions : seen) {
                List<Long> v = versions.get(60, TimeUnit.SECONDS);
                assertThat(v).isSorted().doesNotHaveDuplicates();
                assertThat(v.getLast()).isEqualTo(store.revision() + 1);
            }
        }
    }

    /** Long-polls like a sidecar until it holds a snapshot with all {@code writes} policies; the versions it got. */
    private List<Long> poll(WorkloadIdentity w, int writes) {
        List<Long> versions = new ArrayList<>();
        long after = 0;
        try {
            while (true) {
                Optional<IssuedSnapshot> next = get(hub.next(w, after, LONG));
                IssuedSnapshot issued = next.orElseThrow(() -> new AssertionError(w + " waited in vain after " + versions));
                versions.add(issued.version());
                after = issued.version();
                if (policyIds(verify(issued, w)).size() == writes) {
                    return versions;
                }
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void aRestartedHubNeverGoesBackInVersion() throws Exception {
        Resources.authorizationPolicy(store, "shop", "deny-admin", DENY_ADMIN);
        registry.register(SHOP_ORDERS, "orders", "orders-1", "10.0.0.5:15006");
        Resources.authorizationPolicy(store, "billing", "unrelated", DENY_ADMIN);
        IssuedSnapshot before = get(hub.next(SHOP_ORDERS, 0, LONG)).orElseThrow();
        hub.close();
        store.close();

        store = FileStore.open(dir);
        registry = new ServiceRegistry(store, clock);
        hub = newHub();
        IssuedSnapshot after = get(hub.next(SHOP_ORDERS, 0, LONG)).orElseThrow();
        assertThat(after.version()).isGreaterThanOrEqualTo(before.version());
        WorkloadSnapshot snapshot = verify(after, SHOP_ORDERS);
        assertThat(policyIds(snapshot)).containsExactly("shop/deny-admin");
        assertThat(snapshot.endpoints()).extracting(SnapshotEndpoint::address).containsExactly("10.0.0.5:15006");
        // A sidecar holding the old version is not answered again with the same content.
        assertThat(get(hub.next(SHOP_ORDERS, after.version(), Duration.ofMillis(20)))).isEmpty();
    }

    @Test
    void aDamagedStoredPolicyIsLeftOutAndTheRestStillGoesOut() throws Exception {
        Resources.authorizationPolicy(store, "shop", "deny-admin", DENY_ADMIN);
        store.put(new ResourceKey("AuthorizationPolicy", "shop", "broken"),
                ("{\"apiVersion\":\"outrider.dev/v1\",\"kind\":\"AuthorizationPolicy\",\"metadata\":{\"name\":\"broken\","
                        + "\"namespace\":\"shop\"},\"spec\":{\"action\":\"MAYBE\"}}").getBytes(StandardCharsets.UTF_8),
                Store.ANY_VERSION);
        WorkloadSnapshot snapshot = verify(get(hub.next(SHOP_ORDERS, 0, LONG)).orElseThrow(), SHOP_ORDERS);
        assertThat(policyIds(snapshot)).containsExactly("shop/deny-admin");
    }

    @Test
    void cancelledAndClosedWaitersAreReleased() throws Exception {
        long v = get(hub.next(SHOP_ORDERS, 0, LONG)).orElseThrow().version();
        CompletableFuture<Optional<IssuedSnapshot>> cancelled = hub.next(SHOP_ORDERS, v, LONG);
        cancelled.cancel(false);
        CompletableFuture<Optional<IssuedSnapshot>> held = hub.next(SHOP_ORDERS, v, LONG);

        hub.close();
        assertThat(held).isCompletedWithValue(Optional.empty());
        assertThat(cancelled).isCancelled();
        assertThatThrownBy(() -> hub.next(SHOP_ORDERS, v, LONG).get())
                .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(IllegalStateException.class);
        hub.storeChanged(); // ignored once closed
        hub.close();
    }

    @Test
    void refusesWorkloadsOfAnotherTrustDomainAndNegativeWaits() {
        assertThatThrownBy(() -> hub.next(new WorkloadIdentity("example.org", "shop", "orders"), 0, LONG))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("trust domain cluster.local");
        assertThatThrownBy(() -> hub.next(SHOP_ORDERS, 0, Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private static Optional<IssuedSnapshot> get(CompletableFuture<Optional<IssuedSnapshot>> future) throws Exception {
        return future.get(30, TimeUnit.SECONDS);
    }

    private WorkloadSnapshot verify(IssuedSnapshot issued, WorkloadIdentity workload) {
        return new SnapshotVerifier(new JWKSet(key.toPublicJWK()), workload.spiffeId()).verify(issued.jws());
    }

    private static List<String> policyIds(WorkloadSnapshot snapshot) {
        return PolicyDocuments.parse(snapshot.policies(), "test").stream().map(d -> d.metadata().id()).toList();
    }
}
