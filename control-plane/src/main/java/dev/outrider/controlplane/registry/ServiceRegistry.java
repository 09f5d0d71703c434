package dev.outrider.controlplane.registry;

import dev.outrider.core.model.DnsLabel;
import dev.outrider.core.model.ServiceName;
import dev.outrider.controlplane.ca.WorkloadIdentity;
import dev.outrider.controlplane.model.MeshConfig;
import dev.outrider.core.model.ResourceKind;
import dev.outrider.controlplane.model.ServiceSpec;
import dev.outrider.controlplane.store.ResourceKey;
import dev.outrider.controlplane.store.Store;
import dev.outrider.controlplane.store.StoreReader;
import dev.outrider.controlplane.store.StoredResource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import static java.util.Objects.requireNonNull;

/**
 * The live instances of services (docs/control-plane.md, "Service registry"). A sidecar registers the instance it
 * fronts and refreshes it every third of the TTL; one not refreshed for {@link #ttl()} is removed by the next
 * {@link #expire()} (the server runs it periodically).
 *
 * <p>Registrations are stored ({@code Registration/<namespace>/<instance>}, see {@link RegistrationJson}) so a
 * restarted control plane keeps serving them: on construction each stored one is loaded as seen now, i.e. gets a
 * fresh TTL. Only a new or changed registration is written; a refresh of an unchanged one updates its last-seen
 * time in memory. With a store that expires leases (etcd, shared by replicas), a registration is written with
 * a lease of the TTL, a refresh renews the lease (whichever replica receives it), etcd deletes a registration
 * whose lease ran out, and every replica learns it from the store's watch ({@link #reload}); {@link #expire}
 * then does nothing. Listeners run after every change of the set of endpoints (register new/changed, deregister,
 * expire), on the thread that made it, outside the lock.
 *
 * <p>Threading: one lock guards the in-memory entries and is held across the store write or delete that goes
 * with each change, so memory and store agree and a reader that saw the store's revision after a registration
 * write also sees the registration in {@link #live()} (the snapshot hub relies on it). Store writes are rare
 * (new instances, expiries); a refresh waits behind at most the write in progress, and renews its lease outside the
 * lock. Call from a thread that may block on disk, never an event loop.
 */
public final class ServiceRegistry {
    /** The store kind of registrations. */
    public static final String KIND = "Registration";
    /** Longest accepted {@code host:port}: a DNS name of 253 characters, ':' and five digits. */
    private static final int MAX_ADDRESS_LENGTH = 253 + 6;
    private static final Logger log = LoggerFactory.getLogger(ServiceRegistry.class);

    private final Store store;
    private final Clock clock;
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
    private final Object lock = new Object();
    /** Guarded by {@link #lock}; equal to the stored registrations whenever the lock is free. */
    private final Map<ResourceKey, Entry> entries = new HashMap<>();
    /** The MeshConfig last read and its store version (0: defaults); a stale value is only re-read. */
    private volatile CachedConfig config = new CachedConfig(-1, MeshConfig.DEFAULTS);
    /**
     * True once the store's watch keeps {@link #config} current ({@link #reloadAll} read it, {@link #apply} takes
     * its changes): {@link #knownTtl} then answers without a store read.
     */
    private volatile boolean configWatched;
    /**
     * The Services as the store's watch delivered them ({@link #apply}, {@link #reloadAll}); used once
     * {@link #configWatched}, to check a registration's Service without a store read (one etcd round trip per
     * refresh). A Service that cannot be read is absent: the store read reports it.
     */
    private final Map<ResourceKey, ServiceSpec> services = new ConcurrentHashMap<>();

    private record CachedConfig(long version, MeshConfig config) {
        /** The MeshConfig stored as {@code storedOrNull}; the defaults at version 0 when none is stored. */
        static CachedConfig of(StoredResource storedOrNull) {
            return storedOrNull == null ? new CachedConfig(0, MeshConfig.DEFAULTS)
                    : new CachedConfig(storedOrNull.resourceVersion(), MeshConfig.of(storedOrNull));
        }
    }

    /** A registration and when its sidecar last registered it. Guarded by {@link #lock}. */
    private static final class Entry {
        final Registration registration;
        Instant lastSeen;

        Entry(Registration registration, Instant lastSeen) {
            this.registration = registration;
            this.lastSeen = lastSeen;
        }
    }

    /**
     * Loads the stored registrations, each as seen now.
     *
     * @throws IllegalStateException naming the key of a stored registration that cannot be read
     */
    public ServiceRegistry(Store store, Clock clock) {
        this.store = requireNonNull(store, "store");
        this.clock = requireNonNull(clock, "clock");
        Instant now = clock.instant();
        for (StoredResource stored : store.list(KIND, null)) {
            entries.put(stored.key(), new Entry(RegistrationJson.read(stored), now));
        }
    }

    /**
     * Registers (or refreshes) an instance of {@code service} in the caller's namespace.
     *
     * @param caller   the authenticated workload (its certificate)
     * @param service  the Service's name; it must exist in the caller's namespace and list the caller's service
     *                 account in {@code serviceAccounts}
     * @param instance a DNS label; unique in the namespace
     * @param address  {@code host:port}: an IP literal (IPv6 in brackets, {@code [::1]:15006}) or a DNS name, and
     *                 a port 1..65535
     * @throws RegistryException NOT_FOUND, FORBIDDEN (also when the instance is registered, and not expired, by
     *                           another identity) or INVALID (with the field)
     */
    public Registration register(WorkloadIdentity caller, String service, String instance, String address) {
        requireNonNull(caller, "caller");
        requireLabel("service", service);
        requireLabel("instance", instance);
        Registration registration = registration(caller, service, instance, address);
        ResourceKey serviceKey = new ResourceKey(ResourceKind.SERVICE.kind(), caller.namespace(), service);
        // The Service as the watch delivered it allows the caller: no store read. Anything else is read: the
        // watch may not have delivered a Service just written.
        ServiceSpec watched = configWatched ? services.get(serviceKey) : null;
        if (watched == null || !watched.allowsServiceAccount(caller.serviceAccount())) {
            requireAllowed(caller, registration, serviceKey);
        }
        ResourceKey key = keyOf(caller, instance);
        // A store that expires leases needs the TTL only to write; the other checks expiry with it.
        Duration ttl = store.expiresLeases() ? null : ttl();
        Instant now = clock.instant();
        boolean refresh;
        synchronized (lock) {
            Entry entry = requireFree(key, registration, ttl, now);
            refresh = entry != null && entry.registration.equals(registration);
            if (refresh) {
                entry.lastSeen = now; // a refresh: memory only, or the lease's renewal in a store that expires
                if (!store.expiresLeases()) {
                    return registration;
                }
            }
        }
        // Renewed outside the lock: the store's watch and other registrations do not wait for etcd meanwhile.
        if (refresh && store.keepAlive(key)) {
            return registration;
        }
        // New or changed, or the lease ran out just now: written, with a new lease.
        Duration writtenTtl = ttl == null ? ttl() : ttl;
        synchronized (lock) {
            requireFree(key, registration, ttl, now);
            store.putLeased(key, RegistrationJson.write(registration), Store.ANY_VERSION, writtenTtl);
            entries.put(key, new Entry(registration, now));
        }
        notifyListeners();
        return registration;
    }

    /** The stored Service at {@code serviceKey} exists and lists the caller's service account. */
    private void requireAllowed(WorkloadIdentity caller, Registration registration, ResourceKey serviceKey) {
        StoredResource stored = store.get(serviceKey).orElseThrow(() -> RegistryException.notFound(
                "service '" + serviceKey.name() + "' does not exist in namespace '" + caller.namespace() + "'"));
        if (!ServiceSpec.of(stored).allowsServiceAccount(caller.serviceAccount())) {
            throw RegistryException.forbidden("service account '" + caller.serviceAccount()
                    + "' may not register instances of service " + registration.service()
                    + " (it is not in the Service's serviceAccounts)");
        }
    }

    /**
     * Under {@link #lock}: the entry at {@code key}, unless another identity holds it (and, in a store without
     * leases, it has not expired by {@code ttl}).
     */
    private Entry requireFree(ResourceKey key, Registration registration, Duration ttl, Instant now) {
        Entry entry = entries.get(key);
        if (entry != null && (ttl == null || !expired(entry, ttl, now))
                && !entry.registration.identity().equals(registration.identity())) {
            throw RegistryException.forbidden("instance '" + registration.instance()
                    + "' is registered by another identity");
        }
        return entry;
    }

    /**
     * Removes the caller's own instance (a sidecar draining).
     *
     * @return false when no such instance is registered
     * @throws RegistryException FORBIDDEN when another identity registered it, INVALID for a malformed instance
     */
    public boolean deregister(WorkloadIdentity caller, String instance) {
        requireNonNull(caller, "caller");
        requireLabel("instance", instance);
        ResourceKey key = keyOf(caller, instance);
        synchronized (lock) {
            Entry entry = entries.get(key);
            if (entry == null) {
                return false;
            }
            if (!entry.registration.identity().equals(caller.spiffeId())) {
                throw RegistryException.forbidden("instance '" + instance + "' is registered by another identity");
            }
            store.delete(key, Store.ANY_VERSION);
            entries.remove(key);
        }
        notifyListeners();
        return true;
    }

    /**
     * The registrations stored in {@code source}, each with the store version it was written at (for readers of the
     * store as it was at one revision: {@link dev.outrider.controlplane.store.EtcdStore#at}).
     *
     * @throws IllegalStateException naming the key of a stored document that is not a registration
     */
    public static List<StoredRegistration> stored(StoreReader source) {
        List<StoredRegistration> out = new ArrayList<>();
        for (StoredResource r : source.list(KIND, null)) {
            out.add(new StoredRegistration(RegistrationJson.read(r), r.resourceVersion()));
        }
        return out;
    }

    /** A registration and the store version it was written at. */
    public record StoredRegistration(Registration registration, long version) {
    }

    /** How long a registration lives without a refresh: {@code registrationTtl} of the current MeshConfig. */
    public Duration ttl() {
        CachedConfig cached = config;
        StoredResource stored = store.get(MeshConfig.KEY).orElse(null);
        if (cached.version() != (stored == null ? 0 : stored.resourceVersion())) {
            // Two threads may both parse it; both get the same answer.
            cached = CachedConfig.of(stored);
            config = cached;
        }
        return cached.config().registrationTtl();
    }

    /**
     * {@link #ttl()} as the store's watch last delivered the MeshConfig, without a store read (with etcd, a round
     * trip saved per call); {@link #ttl()} until the watch has started. For uses that may lag a MeshConfig change
     * by the watch's delay (how long statuses are kept); leases take {@link #ttl()}.
     */
    public Duration knownTtl() {
        return configWatched ? config.config().registrationTtl() : ttl();
    }

    /**
     * Removes (from memory and store) every registration not refreshed for {@link #ttl()}.
     *
     * @return how many were removed
     */
    public int expire() {
        if (store.expiresLeases()) {
            return 0; // the store deletes unrenewed registrations itself; its watch tells reload()
        }
        Duration ttl = ttl();
        Instant now = clock.instant();
        int removed = 0;
        try {
            synchronized (lock) {
                for (Iterator<Map.Entry<ResourceKey, Entry>> it = entries.entrySet().iterator(); it.hasNext(); ) {
                    Map.Entry<ResourceKey, Entry> e = it.next();
                    if (expired(e.getValue(), ttl, now)) {
                        store.delete(e.getKey(), Store.ANY_VERSION);
                        it.remove();
                        removed++;
                        log.info("registration {} of {} expired (not refreshed for {})", e.getKey(),
                                e.getValue().registration.service(), ttl);
                    }
                }
            }
        } finally {
            if (removed > 0) {
                notifyListeners();
            }
        }
        return removed;
    }

    /**
     * Takes a change another process made to the store (from the store's watch, which carries the resource as the
     * change left it: no store read): {@code nowOrNull} is the registration at {@code key}, or null when it was
     * deleted (or expired); at {@link MeshConfig#KEY} the MeshConfig, kept for {@link #ttl}. Keys of other kinds
     * are ignored.
     */
    public void apply(ResourceKey key, StoredResource nowOrNull) {
        requireNonNull(key, "key");
        if (MeshConfig.KEY.equals(key)) {
            config = CachedConfig.of(nowOrNull);
            return;
        }
        if (ResourceKind.SERVICE.kind().equals(key.kind())) {
            watchService(key, nowOrNull);
            return;
        }
        if (!KIND.equals(key.kind())) {
            return;
        }
        boolean changed;
        synchronized (lock) {
            if (nowOrNull == null) {
                changed = entries.remove(key) != null;
            } else {
                changed = put(key, RegistrationJson.read(nowOrNull), clock.instant());
            }
        }
        if (changed) {
            notifyListeners();
        }
    }

    /**
     * {@link #reload} of every registration and the MeshConfig: after the store's watch (re)started and may have
     * missed changes. From then on the watch's changes ({@link #apply}) keep the MeshConfig current.
     */
    public void reloadAll() {
        config = CachedConfig.of(store.get(MeshConfig.KEY).orElse(null));
        Map<ResourceKey, StoredResource> storedServices = new HashMap<>();
        for (StoredResource r : store.list(ResourceKind.SERVICE.kind(), null)) {
            storedServices.put(r.key(), r);
        }
        services.keySet().retainAll(storedServices.keySet());
        storedServices.forEach(this::watchService);
        configWatched = true;
        boolean changed = false;
        Instant now = clock.instant();
        synchronized (lock) {
            Map<ResourceKey, Registration> stored = new HashMap<>();
            for (StoredResource r : store.list(KIND, null)) {
                stored.put(r.key(), RegistrationJson.read(r));
            }
            changed |= entries.keySet().retainAll(stored.keySet());
            for (Map.Entry<ResourceKey, Registration> e : stored.entrySet()) {
                changed |= put(e.getKey(), e.getValue(), now);
            }
        }
        if (changed) {
            notifyListeners();
        }
    }

    private void watchService(ResourceKey key, StoredResource nowOrNull) {
        ServiceSpec spec = null;
        if (nowOrNull != null) {
            try {
                spec = ServiceSpec.of(nowOrNull);
            } catch (RuntimeException e) {
                spec = null; // registrations read it from the store and report what is wrong
            }
        }
        if (spec == null) {
            services.remove(key);
        } else {
            services.put(key, spec);
        }
    }

    /** Under {@link #lock}: a registration read from the store; true when it is new or changed. */
    private boolean put(ResourceKey key, Registration registration, Instant now) {
        Entry entry = entries.get(key);
        if (entry != null && entry.registration.equals(registration)) {
            return false;
        }
        entries.put(key, new Entry(registration, now));
        return true;
    }

    /** The current registrations, ordered by service namespace, service name and instance. */
    public List<Registration> live() {
        List<Registration> live = new ArrayList<>();
        synchronized (lock) {
            for (Entry e : entries.values()) {
                live.add(e.registration);
            }
        }
        live.sort(Comparator.comparing((Registration r) -> r.service().namespace())
                .thenComparing(r -> r.service().name()).thenComparing(Registration::instance));
        return live;
    }

    /** Runs {@code onChange} after every change of the set of registrations; it must be quick and not block. */
    public void addListener(Runnable onChange) {
        listeners.add(requireNonNull(onChange, "onChange"));
    }

    /** Stops calling {@code onChange}. */
    public void removeListener(Runnable onChange) {
        listeners.remove(requireNonNull(onChange, "onChange"));
    }

    private void notifyListeners() {
        for (Runnable listener : listeners) {
            try {
                listener.run();
            } catch (RuntimeException e) {
                log.error("registry listener failed", e);
            }
        }
    }

    private static boolean expired(Entry entry, Duration ttl, Instant now) {
        return !entry.lastSeen.plus(ttl).isAfter(now);
    }

    private static ResourceKey keyOf(WorkloadIdentity caller, String instance) {
        return new ResourceKey(KIND, caller.namespace(), instance);
    }

    private static void requireLabel(String field, String value) {
        if (!DnsLabel.isValid(value)) {
            throw RegistryException.invalid(field, field + " " + (value == null ? "is required"
                    : quoted(value) + " is not an RFC 1123 label (lower-case letters, digits and '-', at most 63)"));
        }
    }

    private static Registration registration(WorkloadIdentity caller, String service, String instance,
                                             String address) {
        if (address == null || address.isEmpty()) {
            throw RegistryException.invalid("address", "address is required");
        }
        if (address.length() > MAX_ADDRESS_LENGTH) {
            throw RegistryException.invalid("address", "address is longer than " + MAX_ADDRESS_LENGTH + " characters");
        }
        try {
            return new Registration(new ServiceName(service, caller.namespace()), instance, address,
                    caller.spiffeId());
        } catch (IllegalArgumentException e) {
            // service, instance and identity are valid here: the address is what the endpoint refused.
            throw RegistryException.invalid("address", "address " + quoted(address)
                    + " is not host:port (an IP address, IPv6 in brackets, or a DNS name, and a port 1..65535)");
        }
    }

    private static String quoted(String value) {
        String shown = value.length() > 80 ? value.substring(0, 80) + "..." : value;
        StringBuilder sb = new StringBuilder("'");
        shown.chars().forEach(c -> sb.append(c < 0x20 || c == 0x7f ? '?' : (char) c));
        return sb.append('\'').toString();
    }
}
