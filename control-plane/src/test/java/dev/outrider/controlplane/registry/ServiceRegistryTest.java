package dev.outrider.controlplane.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.outrider.core.model.ServiceName;
import dev.outrider.core.model.SpiffeId;
import dev.outrider.controlplane.ca.WorkloadIdentity;
import dev.outrider.controlplane.model.MeshConfig;
import dev.outrider.controlplane.store.FileStore;
import dev.outrider.controlplane.store.ResourceKey;
import dev.outrider.controlplane.store.StoredResource;
import dev.outrider.controlplane.testing.MutableClock;
import dev.outrider.controlplane.testing.Resources;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class ServiceRegistryTest {
    private static final WorkloadIdentity ORDERS = new WorkloadIdentity("cluster.local", "shop", "orders");
    private static final WorkloadIdentity ORDERS_V2 = new WorkloadIdentity("cluster.local", "shop", "orders-v2");
    private static final WorkloadIdentity FRONTEND = new WorkloadIdentity("cluster.local", "shop", "frontend");
    private static final WorkloadIdentity BILLING_ORDERS = new WorkloadIdentity("cluster.local", "billing", "orders");
    private static final ResourceKey ORDERS_1 = new ResourceKey("Registration", "shop", "orders-1");

    @TempDir
    Path dir;
    private final MutableClock clock = new MutableClock();
    private final AtomicInteger changes = new AtomicInteger();
    private FileStore store;
    private ServiceRegistry registry;

    @BeforeEach
    void open() throws IOException {
        store = FileStore.open(dir);
        Resources.service(store, "shop", "orders", "{serviceAccounts: [orders, orders-v2]}");
        Resources.service(store, "shop", "frontend", "{}");
        registry = new ServiceRegistry(store, clock);
        registry.addListener(changes::incrementAndGet);
    }

    @AfterEach
    void close() {
        store.close();
    }

    @Test
    void registersAndStoresTheRegistration() throws IOException {
        Registration r = registry.register(ORDERS, "orders", "orders-1", "10.0.0.5:15006");

        assertThat(r).isEqualTo(new Registration(new ServiceName("orders", "shop"), "orders-1", "10.0.0.5:15006",
                SpiffeId.parse("spiffe://cluster.local/ns/shop/sa/orders")));
        assertThat(registry.live()).containsExactly(r);
        assertThat(changes).hasValue(1);
        JsonNode stored = JsonMapper.builder().build().readTree(store.get(ORDERS_1).orElseThrow().document());
        assertThat(stored.toString()).isEqualTo("{\"service\":\"orders\",\"instance\":\"orders-1\","
                + "\"address\":\"10.0.0.5:15006\",\"identity\":\"spiffe://cluster.local/ns/shop/sa/orders\"}");
    }

    @Test
    void aRefreshOfAnUnchangedRegistrationDoesNotWrite() {
        registry.register(ORDERS, "orders", "orders-1", "10.0.0.5:15006");
        long revision = store.revision();

        clock.advance(Duration.ofSeconds(20));
        registry.register(ORDERS, "orders", "orders-1", "10.0.0.5:15006");
        assertThat(store.revision()).isEqualTo(revision);
        assertThat(changes).hasValue(1);

        registry.register(ORDERS, "orders", "orders-1", "10.0.0.6:15006");
        assertThat(store.revision()).isEqualTo(revision + 1);
        assertThat(changes).hasValue(2);
        assertThat(registry.live()).extracting(Registration::address).containsExactly("10.0.0.6:15006");
    }

    @Test
    void theServiceMustExistInTheCallersNamespace() {
        RegistryException missing = catchThrowableOfType(RegistryException.class,
                () -> registry.register(ORDERS, "payments", "payments-1", "10.0.0.5:15006"));
        assertThat(missing.reason()).isEqualTo(RegistryException.Reason.NOT_FOUND);
        assertThat(missing).hasMessage("service 'payments' does not exist in namespace 'shop'");

        RegistryException elsewhere = catchThrowableOfType(RegistryException.class,
                () -> registry.register(BILLING_ORDERS, "orders", "orders-1", "10.0.0.5:15006"));
        assertThat(elsewhere.reason()).isEqualTo(RegistryException.Reason.NOT_FOUND);
        assertThat(registry.live()).isEmpty();
        assertThat(changes).hasValue(0);
    }

    @Test
    void theServiceMustListTheCallersServiceAccount() {
        RegistryException e = catchThrowableOfType(RegistryException.class,
                () -> registry.register(FRONTEND, "orders", "orders-1", "10.0.0.5:15006"));
        assertThat(e.reason()).isEqualTo(RegistryException.Reason.FORBIDDEN);
        assertThat(e).hasMessageContaining("service account 'frontend' may not register instances of service orders.shop");
        assertThat(store.get(ORDERS_1)).isEmpty();

        // serviceAccounts defaults to the service's own name; a listed second account may register too.
        assertThat(registry.register(FRONTEND, "frontend", "frontend-1", "10.0.0.9:15006")).isNotNull();
        assertThat(registry.register(ORDERS_V2, "orders", "orders-2", "10.0.0.7:15006")).isNotNull();
        assertThat(catchThrowableOfType(RegistryException.class,
                () -> registry.register(ORDERS, "frontend", "frontend-2", "10.0.0.8:15006")).reason())
                .isEqualTo(RegistryException.Reason.FORBIDDEN);
    }

    @ParameterizedTest
    @ValueSource(strings = {"10.0.0.5", "10.0.0.5:0", "10.0.0.5:65536", "10.0.0.5:-1", "::1:15006", "[::1]",
            "a b:80", "http://orders:80", "orders:80/path", "user@orders:80", "orders:http", ":80", "[::1]:80:80",
            "999.1.1.1:80", "orders_1:80"})
    void refusesAddressesThatAreNotHostAndPort(String address) {
        RegistryException e = catchThrowableOfType(RegistryException.class,
                () -> registry.register(ORDERS, "orders", "orders-1", address));
        assertThat(e.reason()).isEqualTo(RegistryException.Reason.INVALID);
        assertThat(e.field()).isEqualTo("address");
        assertThat(e).hasMessageContaining("is not host:port");
    }

    @ParameterizedTest
    @ValueSource(strings = {"10.0.0.5:15006", "[::1]:15006", "[fd00::7]:8443", "orders.shop.svc.cluster.local:15006",
            "localhost:1", "host:65535"})
    void acceptsIpLiteralsAndHostNames(String address) {
        assertThat(registry.register(ORDERS, "orders", "orders-1", address).address()).isEqualTo(address);
    }

    @Test
    void refusesMalformedFields() {
        RegistryException instance = catchThrowableOfType(RegistryException.class,
                () -> registry.register(ORDERS, "orders", "Orders_1", "10.0.0.5:15006"));
        assertThat(instance.reason()).isEqualTo(RegistryException.Reason.INVALID);
        assertThat(instance.field()).isEqualTo("instance");
        assertThat(instance).hasMessageContaining("'Orders_1' is not an RFC 1123 label");

        RegistryException service = catchThrowableOfType(RegistryException.class,
                () -> registry.register(ORDERS, null, "orders-1", "10.0.0.5:15006"));
        assertThat(service.field()).isEqualTo("service");
        assertThat(service).hasMessage("service is required");

        RegistryException address = catchThrowableOfType(RegistryException.class,
                () -> registry.register(ORDERS, "orders", "orders-1", "x".repeat(300) + ":80"));
        assertThat(address.field()).isEqualTo("address");
        assertThat(address).hasMessageContaining("longer than");
    }

    @Test
    void expiresRegistrationsNotRefreshedForTheTtl() {
        assertThat(registry.ttl()).isEqualTo(Duration.ofSeconds(60));
        registry.register(ORDERS, "orders", "orders-1", "10.0.0.5:15006");
        registry.register(ORDERS, "orders", "orders-2", "10.0.0.6:15006");

        clock.advance(Duration.ofSeconds(40));
        registry.register(ORDERS, "orders", "orders-1", "10.0.0.5:15006"); // refreshed; orders-2 is not
        clock.advance(Duration.ofSeconds(19));
        assertThat(registry.expire()).isZero();
        assertThat(changes).hasValue(2);

        clock.advance(Duration.ofSeconds(1));
        assertThat(registry.expire()).isEqualTo(1);
        assertThat(registry.live()).extracting(Registration::instance).containsExactly("orders-1");
        assertThat(store.get(new ResourceKey("Registration", "shop", "orders-2"))).isEmpty();
        assertThat(changes).hasValue(3);

        clock.advance(Duration.ofSeconds(40));
        assertThat(registry.expire()).isEqualTo(1);
        assertThat(registry.live()).isEmpty();
        assertThat(store.list("Registration", null)).isEmpty();
        assertThat(registry.expire()).isZero();
        assertThat(changes).hasValue(4);
    }

    @Test
    void theTtlFollowsTheMeshConfig() {
        registry.register(ORDERS, "orders", "orders-1", "10.0.0.5:15006");
        Resources.meshConfig(store, "{registrationTtl: 10s}");
        assertThat(registry.ttl()).isEqualTo(Duration.ofSeconds(10));
        clock.advance(Duration.ofSeconds(10));
        assertThat(registry.expire()).isEqualTo(1);
        Resources.meshConfig(store, "{registrationTtl: 5m}");
        assertThat(registry.ttl()).isEqualTo(Duration.ofMinutes(5));
    }

    @Test
    void theKnownTtlFollowsTheWatchOnceItStartedWithoutReadingTheStore() {
        Resources.meshConfig(store, "{registrationTtl: 10s}");
        assertThat(registry.knownTtl()).as("no watch yet: read from the store").isEqualTo(Duration.ofSeconds(10));

        registry.reloadAll(); // the watch started
        StoredResource twenty = Resources.meshConfig(store, "{registrationTtl: 20s}");
        assertThat(registry.knownTtl()).as("not delivered by the watch yet").isEqualTo(Duration.ofSeconds(10));
        assertThat(registry.ttl()).as("read from the store").isEqualTo(Duration.ofSeconds(20));
        registry.apply(twenty.key(), twenty);
        assertThat(registry.knownTtl()).isEqualTo(Duration.ofSeconds(20));
        registry.apply(twenty.key(), null); // deleted: the defaults
        assertThat(registry.knownTtl()).isEqualTo(MeshConfig.DEFAULTS.registrationTtl());
    }

    /**
     * Once the watch runs, a registration is checked against the Service the watch delivered when that allows it
     * (no store read per refresh); what the watch has not delivered yet is read from the store, so a Service
     * just created or just narrowed is never judged on an old view alone.
     */
    @Test
    void registrationsAreCheckedAgainstTheWatchedServiceAndTheStoreWhereTheWatchIsBehind() {
        registry.reloadAll(); // the watch started: it knows orders (orders, orders-v2) and frontend

        // Created, not delivered by the watch yet: read from the store.
        Resources.service(store, "shop", "billing", "{serviceAccounts: [orders]}");
        assertThat(registry.register(ORDERS, "billing", "billing-1", "10.0.0.6:15006")).isNotNull();

        // Narrowed in the store, not delivered yet: the watched view still allows orders-v2 (the watch's delay).
        StoredResource narrowed = Resources.service(store, "shop", "orders", "{serviceAccounts: [orders]}");
        assertThat(registry.register(ORDERS_V2, "orders", "orders-2", "10.0.0.7:15006")).isNotNull();
        // Delivered: refused at the next refresh.
        registry.apply(narrowed.key(), narrowed);
        RegistryException e = catchThrowableOfType(RegistryException.class,
                () -> registry.register(ORDERS_V2, "orders", "orders-2", "10.0.0.7:15006"));
        assertThat(e.reason()).isEqualTo(RegistryException.Reason.FORBIDDEN);

        // Deleted, delivered: not found.
        store.delete(narrowed.key(), narrowed.resourceVersion());
        registry.apply(narrowed.key(), null);
        assertThat(catchThrowableOfType(RegistryException.class,
                () -> registry.register(ORDERS, "orders", "orders-1", "10.0.0.5:15006")).reason())
                .isEqualTo(RegistryException.Reason.NOT_FOUND);
    }

    @Test
    void aRestartedRegistryServesStoredRegistrationsForOneTtl() throws IOException {
        Registration r = registry.register(ORDERS, "orders", "orders-1", "[fd00::5]:15006");
        clock.advance(Duration.ofSeconds(59)); // nearly expired before the restart
        store.close();

        store = FileStore.open(dir);
        ServiceRegistry restarted = new ServiceRegistry(store, clock);
        assertThat(restarted.live()).containsExactly(r);
        clock.advance(Duration.ofSeconds(59));
        assertThat(restarted.expire()).isZero(); // a fresh TTL from the restart
        restarted.register(ORDERS, "orders", "orders-1", "[fd00::5]:15006");
        long revision = store.revision();
        clock.advance(Duration.ofSeconds(59));
        assertThat(restarted.expire()).isZero();
        assertThat(store.revision()).isEqualTo(revision); // the refresh after restart wrote nothing either
        clock.advance(Duration.ofSeconds(1));
        assertThat(restarted.expire()).isEqualTo(1);
        assertThat(restarted.live()).isEmpty();
    }

    @Test
    void aDamagedStoredRegistrationIsReportedWithItsKey() {
        store.put(new ResourceKey("Registration", "shop", "orders-9"), "{\"service\":\"orders\"}".getBytes(),
                -1);
        IllegalStateException e = catchThrowableOfType(IllegalStateException.class,
                () -> new ServiceRegistry(store, clock));
        assertThat(e).hasMessageContaining("Registration/shop/orders-9");
    }

    @Test
    void onlyTheRegisteringIdentityMayDeregisterOrReplaceAnInstance() {
        registry.register(ORDERS, "orders", "orders-1", "10.0.0.5:15006");

        RegistryException takeover = catchThrowableOfType(RegistryException.class,
                () -> registry.register(ORDERS_V2, "orders", "orders-1", "10.0.0.66:15006"));
        assertThat(takeover.reason()).isEqualTo(RegistryException.Reason.FORBIDDEN);
        RegistryException foreign = catchThrowableOfType(RegistryException.class,
                () -> registry.deregister(ORDERS_V2, "orders-1"));
        assertThat(foreign.reason()).isEqualTo(RegistryException.Reason.FORBIDDEN);
        assertThat(registry.deregister(BILLING_ORDERS, "orders-1")).isFalse(); // another namespace's instance names
        assertThat(registry.live()).extracting(Registration::address).containsExactly("10.0.0.5:15006");
        assertThat(changes).hasValue(1);

        assertThat(registry.deregister(ORDERS, "orders-1")).isTrue();
        assertThat(store.get(ORDERS_1)).isEmpty();
        assertThat(registry.live()).isEmpty();
        assertThat(changes).hasValue(2);
        assertThat(registry.deregister(ORDERS, "orders-1")).isFalse();
        assertThat(changes).hasValue(2);
    }

    @Test
    void anExpiredInstanceNameMayBeTakenByAnotherIdentity() {
        registry.register(ORDERS, "orders", "orders-1", "10.0.0.5:15006");
        clock.advance(Duration.ofSeconds(60));
        Registration r = registry.register(ORDERS_V2, "orders", "orders-1", "10.0.0.66:15006");
        assertThat(registry.live()).containsExactly(r);
    }

    @Test
    void concurrentRegistrationsAreAllKeptAndStored() throws Exception {
        int threads = 8;
        int each = 25;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                futures.add(pool.submit(() -> {
                    for (int i = 0; i < each; i++) {
                        String instance = "orders-" + thread + "-" + i;
                        registry.register(ORDERS, "orders", instance, "10.0." + thread + "." + i + ":15006");
                        registry.register(ORDERS, "orders", instance, "10.0." + thread + "." + i + ":15006");
                        registry.live();
                    }
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(registry.live()).hasSize(threads * each);
        assertThat(store.list("Registration", "shop")).hasSize(threads * each);
        assertThat(changes).hasValue(threads * each);
        assertThat(new ServiceRegistry(store, clock).live()).isEqualTo(registry.live());
        assertThat(store.list("Registration", "shop")).extracting(StoredResource::key)
                .allMatch(k -> k.name().startsWith("orders-"));
    }
}
