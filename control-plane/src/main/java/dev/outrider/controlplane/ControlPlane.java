package dev.outrider.controlplane;

import dev.outrider.controlplane.api.AuditRoutes;
import dev.outrider.controlplane.api.CertificateRoutes;
import dev.outrider.controlplane.audit.AuditTrail;
import dev.outrider.controlplane.audit.AuditedRoutes;
import dev.outrider.controlplane.api.PublicRoutes;
import dev.outrider.controlplane.api.RegistrationRoutes;
import dev.outrider.controlplane.api.ResourceRoutes;
import dev.outrider.controlplane.api.SidecarRoutes;
import dev.outrider.controlplane.api.SnapshotRoutes;
import dev.outrider.controlplane.ca.BootstrapAuthenticators;
import dev.outrider.controlplane.ca.CaException;
import dev.outrider.controlplane.ca.JoinTokens;
import dev.outrider.controlplane.ca.KubernetesTokenAuthenticator;
import dev.outrider.controlplane.ca.WorkloadCa;
import dev.outrider.controlplane.ca.WorkloadIdentity;
import dev.outrider.controlplane.model.MeshConfig;
import dev.outrider.controlplane.registry.ServiceRegistry;
import dev.outrider.controlplane.server.AdminToken;
import dev.outrider.controlplane.server.ApiServer;
import dev.outrider.controlplane.server.Authenticator;
import dev.outrider.controlplane.server.Router;
import dev.outrider.controlplane.server.ServingCertificate;
import dev.outrider.controlplane.sidecars.SidecarStatuses;
import dev.outrider.controlplane.signing.SigningKey;
import dev.outrider.controlplane.snapshot.SnapshotHub;
import dev.outrider.controlplane.store.EtcdStore;
import dev.outrider.controlplane.store.FileStore;
import dev.outrider.controlplane.store.Leadership;
import dev.outrider.controlplane.store.ResourceKey;
import dev.outrider.controlplane.store.Store;
import dev.outrider.controlplane.store.StoredResource;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * One running control plane: store, CA, snapshot signing key, and the HTTPS API. {@link #start} brings them
 * up in order and fails naming the option at fault; {@link #close} takes them down in reverse (listener first,
 * so no request starts; then the worker, so writes in progress finish; the store last). Tests and the demo
 * start it in-process; {@code outrider control-plane} runs it as a process.
 *
 * <p>Threads: {@code ioThreads} event loops (NIO) for the API; a bounded worker pool for blocking work
 * (store writes with fsync, CA signing; a full queue answers 503); one scheduler thread for timers
 * (serving-certificate renewal, registration expiry); the snapshot hub's own thread (compiling, signing,
 * long-poll timeouts) and its signing pool (one thread per processor, for a change many workloads see).
 *
 * <pre>
 *   close order: API listener ─▶ worker (writes in progress finish) ─▶ audit log ─▶ snapshot hub
 *                ─▶ serving-cert renewal ─▶ event loops ─▶ scheduler ─▶ store
 * </pre>
 */
public final class ControlPlane implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ControlPlane.class);
    /** Requests waiting for a worker beyond this many are refused with 503 rather than queued without bound. */
    static final int WORKER_QUEUE = 1024;
    /** How often expired registrations are removed: a registration lives at most its TTL plus this. */
    static final Duration EXPIRY_PERIOD = Duration.ofSeconds(2);
    /** How often the audit trail is trimmed to its retention besides each append. */
    static final Duration AUDIT_TRIM_PERIOD = Duration.ofMinutes(1);

    private final ControlPlaneConfig config;
    /** Closed in reverse order of opening. */
    private final Deque<AutoCloseable> resources;
    private final ApiServer server;
    private final ServingCertificate servingCertificate;
    private final WorkloadCa ca;
    private final SigningKey signingKey;
    private boolean closed;

    private ControlPlane(ControlPlaneConfig config, Deque<AutoCloseable> resources, ApiServer server,
                         ServingCertificate servingCertificate, WorkloadCa ca, SigningKey signingKey) {
        this.config = config;
        this.resources = resources;
        this.server = server;
        this.servingCertificate = servingCertificate;
        this.ca = ca;
        this.signingKey = signingKey;
    }

    public static ControlPlane start(ControlPlaneConfig config) throws StartupException, InterruptedException {
        requireNonNull(config, "config");
        Clock clock = Clock.systemUTC();
        Deque<AutoCloseable> resources = new ArrayDeque<>();
        try {
            WorkloadCa ca = loadCa(config, clock);
            SigningKey signingKey = signingKey(config);
            AdminToken adminToken = adminToken(config);
            KubernetesTokenAuthenticator kubernetes = kubernetes(config, clock);
            Store store = openStore(config);
            resources.push(store);

            ScheduledExecutorService scheduler = scheduler();
            resources.push(scheduler::shutdownNow);
            EventLoopGroup io = new MultiThreadIoEventLoopGroup(config.ioThreads(),
                    new DefaultThreadFactory("cp-io", true), NioIoHandler.newFactory());
            resources.push(() -> io.shutdownGracefully(0, 5, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS));

            ServingCertificate serving = servingCertificate(config, ca, scheduler, clock);
            resources.push(serving);

            ServiceRegistry registry = registry(store, clock);
            // With a shared store the hub follows the store's watch alone (see SnapshotHub, "Replicas").
            SnapshotHub hub = new SnapshotHub(store, signingKey.signer(), registry, config.trustDomain(), clock,
                    SnapshotHub.DEFAULT_REISSUE_AFTER, store.isShared());
            hub.rateLimitRedis(config.rateLimitRedis());
            resources.push(hub);
            resources.push(store.watch(new Store.Listener() { // what other replicas write (etcd store)
                @Override
                public void changed(ResourceKey key, StoredResource nowOrNull) {
                    registry.apply(key, nowOrNull);
                }

                @Override
                public void resync() {
                    registry.reloadAll();
                }

                @Override
                public void caughtUp(long revision, long lastDeleted) {
                    hub.caughtUp(revision, lastDeleted);
                }
            }));
            SidecarStatuses statuses = new SidecarStatuses(clock, registry::knownTtl, store);
            resources.push(statuses);
            JoinTokens joinTokens = new JoinTokens(clock, store);
            Leadership sweeps = store.campaign("sweeps");
            resources.push(sweeps);
            scheduleSweeps(scheduler, sweeps, registry, statuses, joinTokens);
            AuditTrail audit = audit(config, store, clock);
            resources.push(audit);
            scheduleAuditTrim(scheduler, sweeps, audit);
            ExecutorService worker = worker(config.workerThreads());
            resources.push(() -> shutdown(worker));

            Router.Builder routes = Router.builder(worker);
            AuditedRoutes audited = new AuditedRoutes(routes, audit);
            new PublicRoutes(signingKey.publicKeysJson()).register(routes);
            new CertificateRoutes(ca, joinTokens, new BootstrapAuthenticators(joinTokens, kubernetes), ca.trustAnchor(),
                    () -> MeshConfig.load(store).certificateTtl()).register(routes, audited);
            new ResourceRoutes(store, hub::storeChanged).register(routes, audited);
            new AuditRoutes(audit, clock).register(routes);
            new RegistrationRoutes(registry, statuses).register(routes);
            new SnapshotRoutes(hub, statuses, config.trustDomain()).register(routes);
            new SidecarRoutes(statuses, hub, clock).register(routes);
            Authenticator authenticator = new Authenticator(config.trustDomain(),
                    new HashSet<>(config.adminIdentities()), adminToken);

            ApiServer server;
            try {
                server = ApiServer.bind(io, config.listen(), serving, routes.build(), authenticator,
                        config.idleTimeout());
            } catch (IllegalStateException e) {
                throw StartupException.environment("--listen", e.getMessage(), e);
            }
            resources.push(server);
            ControlPlane controlPlane = new ControlPlane(config, resources, server, serving, ca, signingKey);
            log.info("outrider control-plane listening on https://{} (trust domain {}, TLS {}, serving certificate"
                            + " for {} until {}, snapshot key {}{}{})", text(server.address()), config.trustDomain(),
                    serving.provider(), config.serverNames(), serving.certificate().getNotAfter().toInstant(),
                    signingKey.keyId(), kubernetes == null ? "" : ", Kubernetes service-account tokens of "
                            + kubernetes.issuer() + " for audience " + kubernetes.audience(),
                    adminToken == null ? "" : ", admin token auth ON (development mode)");
            return controlPlane;
        } catch (StartupException | InterruptedException | RuntimeException e) {
            closeAll(resources, e);
            throw e;
        }
    }

    /** The bound API address (the real port when {@code --listen} asked for port 0). */
    public InetSocketAddress address() {
        return server.address();
    }

    public ControlPlaneConfig config() {
        return config;
    }

    /** The mesh CA certificate (what clients trust the API's serving certificate with). */
    public X509Certificate caCertificate() {
        return ca.certificate();
    }

    /** The API's current serving certificate. */
    public X509Certificate servingCertificate() {
        return servingCertificate.certificate();
    }

    public String signingKeyId() {
        return signingKey.keyId();
    }

    /** Stops the listener (open connections and held requests are closed), the workers, then the store. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        closeAll(resources, null);
        log.info("outrider control-plane stopped");
    }

    private static void closeAll(Deque<AutoCloseable> resources, Throwable primary) {
        while (!resources.isEmpty()) {
            try {
                resources.pop().close();
            } catch (Exception e) {
                if (primary != null) {
                    primary.addSuppressed(e);
                } else {
                    log.warn("closing the control plane: {}", e.toString());
                }
            }
        }
    }

    private static WorkloadCa loadCa(ControlPlaneConfig config, Clock clock) throws StartupException {
        try {
            return WorkloadCa.load(config.caCertificate(), config.caKey(), config.trustDomain(), clock);
        } catch (CaException e) {
            throw StartupException.config("--ca-cert/--ca-key", e.getMessage(), e);
        }
    }

    private static SigningKey signingKey(ControlPlaneConfig config) throws StartupException {
        try {
            SigningKey key = SigningKey.loadOrGenerate(config.signingKey());
            key.writePublicKeys(config.snapshotKeysFile());
            return key;
        } catch (IOException e) {
            throw StartupException.config("--signing-key", e.getMessage(), e);
        }
    }

    private static AdminToken adminToken(ControlPlaneConfig config) throws StartupException {
        if (config.adminTokenFile() == null) {
            return null;
        }
        try {
            return AdminToken.read(config.adminTokenFile());
        } catch (IOException e) {
            throw StartupException.config("--admin-token-file", e.getMessage(), e);
        }
    }

    private static KubernetesTokenAuthenticator kubernetes(ControlPlaneConfig config, Clock clock)
            throws StartupException {
        ControlPlaneConfig.Kubernetes k8s = config.kubernetes();
        if (k8s == null) {
            return null;
        }
        try {
            return KubernetesTokenAuthenticator.load(k8s.issuer(), k8s.jwks(), k8s.audience(), config.trustDomain(),
                    clock);
        } catch (IllegalArgumentException e) {
            throw StartupException.config("--k8s-jwks", e.getMessage(), e);
        }
    }

    private static Store openStore(ControlPlaneConfig config) throws StartupException {
        if (config.etcd() != null) {
            try {
                return EtcdStore.open(config.etcd());
            } catch (UncheckedIOException e) {
                throw StartupException.environment("--store", e.getMessage(), e);
            }
        }
        try {
            return FileStore.open(config.storeDirectory());
        } catch (IOException e) {
            throw StartupException.config("--data-dir", e.getMessage(), e);
        }
    }

    private static AuditTrail audit(ControlPlaneConfig config, Store store, Clock clock) throws StartupException {
        try {
            return AuditTrail.open(store, config.audit().logFile(), config.audit().retention(), clock);
        } catch (IOException e) {
            throw StartupException.config("--audit-log", "cannot open " + config.audit().logFile() + ": "
                    + e.getMessage(), e);
        } catch (UncheckedIOException e) {
            throw StartupException.environment("--store", "trimming the audit trail: " + e.getMessage(), e);
        }
    }

    /**
     * Every {@link #AUDIT_TRIM_PERIOD}, on the scheduler thread, on the replica leading the sweeps: drops the audit
     * records past retention, so they also age out while nothing is written.
     */
    private static void scheduleAuditTrim(ScheduledExecutorService scheduler, Leadership leadership,
                                          AuditTrail audit) {
        scheduler.scheduleWithFixedDelay(() -> {
            if (!leadership.isLeader()) {
                return;
            }
            try {
                audit.trim();
            } catch (RuntimeException e) {
                log.warn("trimming the audit trail failed (retrying): {}", e.toString());
            }
        }, AUDIT_TRIM_PERIOD.toMillis(), AUDIT_TRIM_PERIOD.toMillis(), TimeUnit.MILLISECONDS);
    }

    private static ServiceRegistry registry(Store store, Clock clock) throws StartupException {
        try {
            return new ServiceRegistry(store, clock);
        } catch (IllegalStateException e) {
            throw StartupException.config("--data-dir", "stored registrations: " + e.getMessage(), e);
        }
    }

    private static ServingCertificate servingCertificate(ControlPlaneConfig config, WorkloadCa ca,
                                                         ScheduledExecutorService scheduler, Clock clock)
            throws StartupException {
        WorkloadIdentity identity = new WorkloadIdentity(config.trustDomain(), ControlPlaneConfig.SYSTEM_NAMESPACE,
                "control-plane");
        try {
            return ServingCertificate.start(ca, identity, config.serverNames(), WorkloadCa.DEFAULT_TTL,
                    config.tlsProvider(), scheduler, clock);
        } catch (CaException e) {
            throw StartupException.config(e.reason() == CaException.Reason.INVALID_REQUEST ? "--server-name"
                    : "--ca-cert/--ca-key", e.getMessage(), e);
        } catch (IOException e) {
            throw StartupException.environment("TLS", e.getMessage(), e);
        } catch (IllegalArgumentException | UnsatisfiedLinkError e) {
            throw StartupException.environment("TLS", e.getMessage(), e);
        }
    }

    /**
     * Every {@link #EXPIRY_PERIOD}, on the scheduler thread (store I/O, never on an event loop), on the replica that
     * leads the sweeps ({@link Store#campaign}; the file store's process always does): expires registrations not
     * refreshed for the registration TTL (with etcd, etcd's leases do it and this finds nothing), forgets sidecar
     * statuses and purges join tokens past their time. Each is harmless when two replicas run it at once.
     */
    private static void scheduleSweeps(ScheduledExecutorService scheduler, Leadership leadership,
                                       ServiceRegistry registry, SidecarStatuses statuses, JoinTokens joinTokens) {
        scheduler.scheduleWithFixedDelay(() -> {
            if (!leadership.isLeader()) {
                return;
            }
            try {
                int expired = registry.expire();
                if (expired > 0) {
                    log.info("{} registration(s) expired (not refreshed for {})", expired, registry.ttl());
                }
                int forgotten = statuses.sweep();
                if (forgotten > 0) {
                    log.info("{} sidecar status(es) forgotten (not seen for {} registration TTLs)", forgotten,
                            SidecarStatuses.FORGET_AFTER_TTLS);
                }
                joinTokens.purgeExpired();
            } catch (RuntimeException e) {
                log.warn("sweeping registrations, statuses and join tokens failed (retrying): {}", e.toString());
            }
        }, EXPIRY_PERIOD.toMillis(), EXPIRY_PERIOD.toMillis(), TimeUnit.MILLISECONDS);
    }

    private static ExecutorService worker(int threads) {
        ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(WORKER_QUEUE), new DefaultThreadFactory("cp-worker", true),
                new ThreadPoolExecutor.AbortPolicy());
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }

    private static ScheduledExecutorService scheduler() {
        ScheduledThreadPoolExecutor scheduler = new ScheduledThreadPoolExecutor(1,
                new DefaultThreadFactory("cp-scheduler", true));
        scheduler.setRemoveOnCancelPolicy(true);
        return scheduler;
    }

    /** Lets the tasks in progress finish (a store write is answered only once durable), at most 10 s. */
    private static void shutdown(ExecutorService worker) throws InterruptedException {
        worker.shutdown();
        if (!worker.awaitTermination(10, TimeUnit.SECONDS)) {
            worker.shutdownNow();
        }
    }

    static String text(InetSocketAddress address) {
        String host = address.getAddress() instanceof Inet6Address
                ? "[" + address.getAddress().getHostAddress() + "]" : address.getAddress().getHostAddress();
        return host + ":" + address.getPort();
    }

    @Override
    public String toString() {
        return "ControlPlane[" + text(address()) + ", trust domain " + config.trustDomain() + "]";
    }
}
