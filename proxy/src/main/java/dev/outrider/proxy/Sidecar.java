package dev.outrider.proxy;

import dev.outrider.proxy.accesslog.AccessLog;
import dev.outrider.proxy.accesslog.AsyncAccessLog;
import dev.outrider.proxy.admin.AdminServer;
import dev.outrider.proxy.admin.HealthServer;
import dev.outrider.proxy.config.BootstrapConfig;
import dev.outrider.proxy.config.ConfigView;
import dev.outrider.proxy.config.HostPort;
import dev.outrider.proxy.config.UpstreamPortConfig;
import dev.outrider.proxy.forward.ForwardingContext;
import dev.outrider.proxy.forward.Route;
import dev.outrider.proxy.forward.RouteResolver;
import dev.outrider.proxy.forward.RouteResult;
import dev.outrider.proxy.http.DownstreamConnections;
import dev.outrider.proxy.http.RequestPathPolicy;
import dev.outrider.proxy.authn.JwksCache;
import dev.outrider.proxy.config.DefaultAction;
import dev.outrider.proxy.inbound.InboundInitializer;
import dev.outrider.proxy.inbound.InboundPolicy;
import dev.outrider.proxy.metrics.Direction;
import dev.outrider.proxy.metrics.ProxyMetrics;
import dev.outrider.proxy.metrics.Registries;
import dev.outrider.proxy.outbound.OutboundInitializer;
import dev.outrider.proxy.control.ControlPlaneLink;
import dev.outrider.proxy.control.SnapshotApplication;
import dev.outrider.proxy.outbound.OutboundRoutes;
import dev.outrider.proxy.outbound.RouteTableBuilder;
import dev.outrider.proxy.policy.PolicyDirectoryWatcher;
import dev.outrider.proxy.policy.PolicyMetrics;
import dev.outrider.proxy.policy.PolicySnapshot;
import dev.outrider.proxy.policy.PolicyStore;
import dev.outrider.proxy.policy.WorkloadPolicyCompiler;
import dev.outrider.proxy.ratelimit.RateLimiter;
import dev.outrider.proxy.runtime.DrainState;
import dev.outrider.proxy.transport.Transport;
import dev.outrider.proxy.upstream.Cluster;
import dev.outrider.proxy.upstream.Endpoint;
import dev.outrider.proxy.upstream.UpstreamPools;
import dev.outrider.proxy.tls.TlsState;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.HttpRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

import static java.util.Objects.requireNonNull;

/**
 * One running sidecar: inbound and outbound listeners, the health and admin servers, metrics and the
 * access log, started from a validated {@link BootstrapConfig}. Config, runtime (metrics, drain state,
 * pools) and pipelines are kept apart; nothing here is static.
 *
 * <p>Drain (SIGTERM or POST /drain): readiness turns false; the inbound listener closes first (a caller's
 * connect is refused from then on, and its sidecar moves to another endpoint, which is always safe) and its
 * connections finish their in-flight requests (HTTP/1.1 closes after the current response with
 * {@code Connection: close}, HTTP/2 sends GOAWAY); meanwhile, in the background, the sidecar deregisters from the
 * control plane so other sidecars stop picking this instance. The outbound listeners stay open until the inbound
 * side is done, so the application can still call its dependencies while it finishes requests; then they drain
 * the same way. Everything, deregistration included, is bounded by one drain timeout ({@code runtime.drainTimeout})
 * counted from the signal: a control plane that does not answer delays nothing, and what is left at the deadline
 * is closed.
 */
public final class Sidecar implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Sidecar.class);

    private final BootstrapConfig config;
    private final Transport transport;
    private final PrometheusMeterRegistry registry;
    private final ProxyMetrics metrics;
    private PolicyMetrics policyMetrics;
    private final AccessLog accessLog;
    private final UpstreamPools pools;
    private final DrainState drain = new DrainState();
    private final DownstreamConnections inboundConnections;
    private final DownstreamConnections outboundConnections;
    private final CompletableFuture<Void> terminated = new CompletableFuture<>();
    private TlsState tls;
    private JwksCache jwks;
    private RateLimiter rateLimiter;
    private PolicyDirectoryWatcher policyWatcher;
    private PolicyStore policies;
    private WorkloadPolicyCompiler compiler;
    private ControlPlaneLink controlPlane;
    /** The link was closed, or is being closed (the drain deregisters in the background; shutdown closes it). */
    private final AtomicBoolean controlPlaneClosed = new AtomicBoolean();
    private RouteTableBuilder routeBuilder;
    private OutboundRoutes routes;
    private final List<Channel> outboundListeners = new ArrayList<>();
    private Channel inboundListener;
    private HealthServer health;
    private AdminServer admin;

    private Sidecar(BootstrapConfig config) {
        this.config = config;
        this.transport = Transport.create(config.runtime().transport(), config.runtime().effectiveEventLoops(),
                "outrider");
        this.registry = Registries.prometheus();
        ProxyMetrics metrics = new ProxyMetrics(registry);
        this.accessLog = config.accessLog().enabled() ? AsyncAccessLog.start(config.accessLog(), registry)
                : AccessLog.disabled();
        this.pools = new UpstreamPools(transport, config.upstream());
        this.inboundConnections = new DownstreamConnections(Direction.INBOUND, metrics,
                config.inbound().maxConnections(), config.inbound().maxConnectionsPerPeer());
        // No caller identity on outbound (plaintext from the local application): only the listener limit applies.
        this.outboundConnections = new DownstreamConnections(Direction.OUTBOUND, metrics,
                config.outbound().maxConnections(), config.outbound().maxConnections());
        this.metrics = metrics;
    }

    /** Binds every listener and returns when the sidecar is ready (/ready answers 200). */
    public static Sidecar start(BootstrapConfig config) throws Exception {
        requireNonNull(config, "config");
        Sidecar s = new Sidecar(config);
        try {
            s.bind();
        } catch (Exception e) {
            s.shutdownNow();
            throw e;
        }
        return s;
    }

    private void bind() throws Exception {
        long drainMillis = config.runtime().drainTimeout().toMillis();
        if (config.fromControlPlane()) {
            controlPlane = ControlPlaneLink.bootstrap(config); // the certificate first: TLS needs it
        }
        if (config.tls().enabled()) {
            tls = TlsState.start(config.tls(), config.node().identity(), registry);
            if (controlPlane != null) {
                controlPlane.attach(tls);
            }
        } else {
            log.warn("mTLS is DISABLED (tls.mode: disabled): sidecar traffic is plaintext and callers are not "
                    + "authenticated; use this on a trusted loopback only");
        }
        startPolicies();
        Cluster app = new Cluster("inbound|" + config.inbound().application(),
                config.inbound().applicationProtocol(), List.of(endpoint(config.inbound().application())));
        RouteToApp toApp = new RouteToApp(new Route(app));
        ForwardingContext inboundCtx = new ForwardingContext(Direction.INBOUND, toApp, pools, config.upstream(),
                metrics, accessLog, drain, tls == null ? "http" : "https");
        inboundListener = listen("inbound", config.inbound().listen(),
                new InboundInitializer(config.http(), drainMillis, inboundConnections, inboundCtx, tls,
                        new InboundPolicy(policies, policyMetrics, metrics, accessLog, drain,
                                config.inbound().application().port()),
                        new RequestPathPolicy.Rules(config.policies().escapedSlashes(),
                                config.policies().pathParameters())));

        routeBuilder = new RouteTableBuilder(config, tls);
        routes = new OutboundRoutes(routeBuilder.build(List.of()));
        ForwardingContext outboundCtx = new ForwardingContext(Direction.OUTBOUND, routes, pools, config.upstream(),
                metrics, accessLog, drain, "http");
        OutboundInitializer outboundInit = new OutboundInitializer(config.http(), drainMillis, outboundConnections,
                outboundCtx);
        outboundListeners.add(listen("outbound", config.outbound().listen(), outboundInit));
        for (UpstreamPortConfig up : config.outbound().upstreams()) {
            outboundListeners.add(listen("outbound port for " + up.service(),
                    new HostPort(config.outbound().listen().host(), up.port()), outboundInit));
        }
        if (controlPlane != null) {
            controlPlane.watch(new SnapshotApplication(compiler, policies, policyMetrics, routeBuilder, routes),
                    (InetSocketAddress) inboundListener.localAddress());
        }
        health = HealthServer.start(transport, config.health(), this::notReadyReason);
        admin = AdminServer.start(transport, config.admin(), registry, this::configView,
                this::drain);
    }

    /**
     * The first policy snapshot, before any listener opens: from the policy directory (which is then
     * watched), or an empty one when there is no policy source (the default action decides every request).
     */
    private void startPolicies() {
        policyMetrics = new PolicyMetrics(registry);
        JwksCache.Config d = JwksCache.Config.defaults();
        jwks = new JwksCache(new JwksCache.Config(config.jwt().jwksRefresh(), d.refreshFraction(),
                d.unknownKidMinInterval(), d.retryInterval(), d.fetchTimeout(), d.maxBodyBytes()));
        rateLimiter = new RateLimiter(config.rateLimits().maxTracked(), config.rateLimits().sweepInterval(),
                System::nanoTime, registry);
        compiler = new WorkloadPolicyCompiler(config.node(), config.policies(), config.jwt(), jwks, policyMetrics,
                rateLimiter);
        boolean denyByDefault = config.policies().defaultAction() == DefaultAction.DENY;
        if (controlPlane != null) {
            // Fail closed until the control plane's snapshot (or a valid last-known-good one) is in force.
            PolicySnapshot none = compiler.compile("none", "control plane (no snapshot yet)", List.of())
                    .refusing("no policy snapshot from the control plane yet");
            policies = new PolicyStore(none);
            policyMetrics.retain(none);
        } else if (config.policies().directory() != null) {
            policyWatcher = PolicyDirectoryWatcher.start(config.policies().directory(),
                    config.policies().reloadInterval(), compiler, policyMetrics);
            policies = policyWatcher.store();
        } else {
            PolicySnapshot none = compiler.compile("none", "no policy source", List.of());
            policies = new PolicyStore(none);
            policyMetrics.retain(none);
            if (denyByDefault) {
                log.warn("no policy source (policies.directory is not set) and policies.defaultAction is deny: "
                        + "every inbound request will be refused with 403");
            }
        }
        if (!denyByDefault) {
            log.warn("policies.defaultAction is allow: inbound requests that no ALLOW policy covers are let through "
                    + "(the mesh default is deny)");
        }
    }

    private Channel listen(String what, HostPort where, ChannelInitializer<Channel> init) throws Exception {
        try {
            return new ServerBootstrap()
                    .group(transport.group())
                    .channel(transport.serverChannel())
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .childOption(ChannelOption.AUTO_READ, false)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(init)
                    .bind(where.toAddress())
                    .sync()
                    .channel();
        } catch (Exception e) {
            throw new IOException("cannot listen on " + where + " (" + what + "): " + e.getMessage(), e);
        }
    }

    /** {@code /config}: the bootstrap config (redacted) and which policy snapshot is in force. */
    private Map<String, Object> configView() {
        Map<String, Object> view = new java.util.LinkedHashMap<>(ConfigView.redacted(config));
        PolicySnapshot p = policies.current();
        Map<String, Object> snapshot = new java.util.LinkedHashMap<>();
        snapshot.put("version", p.version());
        snapshot.put("source", p.source());
        snapshot.put("appliedAt", p.appliedAt().toString());
        snapshot.put("documents", p.documents());
        snapshot.put("authorizationPolicies", p.policies());
        snapshot.put("authorizationRules", p.authorization().ruleCount());
        snapshot.put("jwtAuthentication", !p.authentication().isEmpty());
        snapshot.put("rateLimitPolicies", p.rateLimits().policies());
        snapshot.put("rateLimitRules", p.rateLimits().ruleCount());
        snapshot.put("rateLimitTrackedKeys", rateLimiter.trackedKeys());
        view.put("policySnapshot", snapshot);
        if (controlPlane != null) {
            var watch = controlPlane.state();
            Map<String, Object> link = new java.util.LinkedHashMap<>();
            link.put("appliedVersion", watch == null || watch.appliedVersion() < 0 ? null : watch.appliedVersion());
            link.put("source", watch == null ? null : watch.source().toString());
            link.put("lastError", watch == null ? null : watch.lastError());
            link.put("lastContact", watch == null || watch.lastContact() == null ? null : watch.lastContact().toString());
            link.put("certificateNotAfter", controlPlane.certificateNotAfter().toString());
            view.put("controlPlaneLink", link);
        }
        return view;
    }

    /**
     * Deregisters from the control plane and stops watching and renewing; idempotent, and returns at once when
     * another thread is already doing it. Blocks up to the control-plane client's request timeout when the
     * control plane does not answer: the drain runs it in the background ({@link #deregisterInBackground}).
     */
    private void closeControlPlane() {
        if (controlPlane != null && controlPlaneClosed.compareAndSet(false, true)) {
            try {
                controlPlane.close();
            } catch (RuntimeException e) {
                log.warn("closing the control-plane link: {}", e.toString());
            }
        }
    }

    /** {@code /ready}: null when the sidecar takes traffic; read on an event loop, so cheap. */
    private String notReadyReason() {
        if (drain.isDraining()) {
            return "draining";
        }
        if (controlPlane != null && policies.current().refusal() != null) {
            return controlPlane.notReadyReason();
        }
        return null;
    }

    /** Endpoints are resolved here, once, off the event loops. */
    private static Endpoint endpoint(HostPort hp) {
        InetSocketAddress address = hp.toAddress();
        if (address.isUnresolved()) {
            throw new IllegalArgumentException("cannot resolve endpoint host '" + hp.host() + "'");
        }
        return new Endpoint(address);
    }

    /** Starts a graceful drain (idempotent, returns at once); {@link #terminated()} completes when done. */
    public void drain() {
        if (!drain.start()) {
            return;
        }
        Thread t = new Thread(this::runDrain, "outrider-drain");
        t.setDaemon(false);
        t.start();
    }

    public boolean isDraining() {
        return drain.isDraining();
    }

    private void runDrain() {
        long deadline = System.nanoTime() + config.runtime().drainTimeout().toNanos();
        try {
            inboundListener.close().syncUninterruptibly(); // first: nothing new is accepted from here on
            log.info("draining: not ready; inbound listener closed; finishing in-flight requests (timeout {} ms)",
                    config.runtime().drainTimeout().toMillis());
            CompletableFuture<Void> deregistered = deregisterInBackground();
            inboundConnections.drain();
            awaitEmpty(inboundConnections, deadline);
            for (Channel ch : outboundListeners) {
                ch.close().syncUninterruptibly();
            }
            outboundConnections.drain();
            awaitEmpty(outboundConnections, deadline);
            awaitDeregistration(deregistered, deadline);
            int left = inboundConnections.size() + outboundConnections.size();
            if (left > 0) {
                log.warn("drain timeout reached: closing {} connection(s) still open", left);
            }
            log.info("drained");
        } catch (RuntimeException e) {
            log.error("drain failed; shutting down", e);
        } finally {
            shutdownNow();
        }
    }

    /**
     * Deregistration, best effort, on its own daemon thread (the control-plane client blocks until its request
     * timeout when the control plane hangs); completes when done or failed. Nothing waits for it past the drain
     * deadline, and the registration expires by itself on the control plane when it does not get through.
     */
    private CompletableFuture<Void> deregisterInBackground() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        if (controlPlane == null) {
            done.complete(null);
            return done;
        }
        Thread.ofPlatform().daemon().name("outrider-deregister").start(() -> {
            try {
                closeControlPlane();
            } finally {
                done.complete(null);
            }
        });
        return done;
    }

    private static void awaitDeregistration(CompletableFuture<Void> deregistered, long deadlineNanos) {
        try {
            deregistered.get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            log.warn("drain deadline reached before the control plane answered the deregistration; the registration "
                    + "expires by itself");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            // closeControlPlane logs its own failures and never completes exceptionally
        }
    }

    private static void awaitEmpty(DownstreamConnections connections, long deadlineNanos) {
        while (connections.size() > 0 && System.nanoTime() < deadlineNanos) {
            try {
                Thread.sleep(10); // the drain thread, never an event loop
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void shutdownNow() {
        try {
            if (inboundListener != null) {
                inboundListener.close();
            }
            for (Channel ch : outboundListeners) {
                ch.close();
            }
            inboundConnections.closeAll();
            outboundConnections.closeAll();
            pools.close(2, TimeUnit.SECONDS);
            if (health != null) {
                health.close();
            }
            if (admin != null) {
                admin.close();
            }
            if (tls != null) {
                tls.close();
            }
            if (policyWatcher != null) {
                policyWatcher.close();
            }
            closeControlPlane();
            if (jwks != null) {
                jwks.close();
            }
            if (rateLimiter != null) {
                rateLimiter.close();
            }
            transport.group().shutdownGracefully(50, 2000, TimeUnit.MILLISECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
            accessLog.close();
            registry.close();
        } finally {
            terminated.complete(null);
        }
    }

    /** Completes when the sidecar has drained and released everything. */
    public CompletableFuture<Void> terminated() {
        return terminated;
    }

    public String transportName() {
        return transport.name();
    }

    /** The bound addresses (port 0 in the config means an ephemeral port). */
    public InetSocketAddress inboundAddress() {
        return (InetSocketAddress) inboundListener.localAddress();
    }

    public InetSocketAddress outboundAddress() {
        return (InetSocketAddress) outboundListeners.getFirst().localAddress();
    }

    public InetSocketAddress healthAddress() {
        return health.address();
    }

    public InetSocketAddress adminAddress() {
        return admin.address();
    }

    @Override
    public void close() {
        drain();
        terminated.join();
    }

    /** Inbound routing: everything goes to the local application. */
    private record RouteToApp(Route route) implements RouteResolver {
        @Override
        public RouteResult resolve(HttpRequest request, Channel connection) {
            return route;
        }
    }
}
