package dev.outrider.proxy;

import dev.outrider.proxy.accesslog.AccessLog;
import dev.outrider.proxy.accesslog.AsyncAccessLog;
import dev.outrider.proxy.accesslog.AsyncSecurityEvents;
import dev.outrider.proxy.accesslog.SecurityEvents;
import dev.outrider.proxy.admin.AdminServer;
import dev.outrider.proxy.admin.HealthServer;
import dev.outrider.proxy.authn.JwksCache;
import dev.outrider.proxy.config.BootstrapConfig;
import dev.outrider.proxy.config.HostPort;
import dev.outrider.core.snapshot.RedisSettings;
import dev.outrider.proxy.config.UpstreamPortConfig;
import dev.outrider.proxy.control.ControlPlaneLink;
import dev.outrider.proxy.control.SnapshotApplication;
import dev.outrider.proxy.egress.EgressCompiler;
import dev.outrider.proxy.egress.EgressMetrics;
import dev.outrider.proxy.egress.EgressRouter;
import dev.outrider.proxy.forward.ForwardingContext;
import dev.outrider.proxy.forward.Route;
import dev.outrider.proxy.forward.RouteResolver;
import dev.outrider.proxy.forward.RouteResult;
import dev.outrider.proxy.http.DownstreamConnections;
import dev.outrider.proxy.http.RequestPathPolicy;
import dev.outrider.proxy.inbound.InboundInitializer;
import dev.outrider.proxy.inbound.InboundPolicy;
import dev.outrider.proxy.inbound.InboundTunnels;
import dev.outrider.proxy.metrics.TcpMetrics;
import dev.outrider.proxy.outbound.TcpOutboundInitializer;
import dev.outrider.proxy.metrics.Direction;
import dev.outrider.proxy.metrics.MeshMetrics;
import dev.outrider.proxy.tracing.Tracing;
import dev.outrider.proxy.metrics.ProxyMetrics;
import dev.outrider.proxy.metrics.Registries;
import dev.outrider.proxy.outbound.OutboundInitializer;
import dev.outrider.proxy.outbound.OutboundRoutes;
import dev.outrider.proxy.outbound.RouteTableBuilder;
import dev.outrider.proxy.policy.PolicyMetrics;
import dev.outrider.proxy.policy.PolicySource;
import dev.outrider.proxy.policy.PolicyStore;
import dev.outrider.proxy.policy.WorkloadPolicyCompiler;
import dev.outrider.proxy.ratelimit.RateLimiter;
import dev.outrider.proxy.ratelimit.SharedBudgets;
import dev.outrider.proxy.runtime.DrainState;
import dev.outrider.proxy.tls.TlsContexts;
import dev.outrider.proxy.tls.TlsState;
import dev.outrider.proxy.transport.Transport;
import dev.outrider.proxy.upstream.Cluster;
import dev.outrider.proxy.upstream.Endpoint;
import dev.outrider.proxy.upstream.UpstreamPools;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.HttpRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * One running sidecar, the composition root: inbound and outbound listeners, the health and admin servers,
 * metrics and the access log, started from a validated {@link BootstrapConfig}. Config, runtime (metrics, drain
 * state, pools) and pipelines are kept apart; nothing here is static. {@link #start} builds and starts the parts
 * in order, each pushed on one list of resources as it starts; the shutdown (at the end of a drain, or when the
 * start fails) closes them in reverse:
 * <pre>
 *   close order: admin ─▶ health ─▶ outbound listeners ─▶ inbound listener ─▶ open connections
 *                ─▶ upstream pools ─▶ policy source (directory watcher) ─▶ rate limiter ─▶ JWKS cache
 *                ─▶ TLS (certificate reloads) ─▶ control-plane link ─▶ event loops ─▶ access log
 *                ─▶ metrics registry
 * </pre>
 * Where the policies come from is {@link PolicySource}'s choice; {@code /config} is {@link ConfigEndpoint}; the
 * drain (SIGTERM or {@code POST /drain}) is {@link SidecarDrain}.
 */
public final class Sidecar implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Sidecar.class);

    private final Transport transport;
    private final DrainState drainState;
    private final SidecarDrain drain;
    private final CompletableFuture<Void> terminated;
    private final Channel inboundListener;
    private final List<Channel> outboundListeners;
    private final HealthServer health;
    private final AdminServer admin;

    private Sidecar(Transport transport, DrainState drainState, SidecarDrain drain, CompletableFuture<Void> terminated,
                    Channel inboundListener, List<Channel> outboundListeners, HealthServer health, AdminServer admin) {
        this.transport = transport;
        this.drainState = drainState;
        this.drain = drain;
        this.terminated = terminated;
        this.inboundListener = inboundListener;
        this.outboundListeners = outboundListeners;
        this.health = health;
        this.admin = admin;
    }

    /** Binds every listener and returns when the sidecar is ready (/ready answers 200). */
    public static Sidecar start(BootstrapConfig config) throws Exception {
        requireNonNull(config, "config");
        // Concurrent: the drain thread shuts down while a start that failed late may still be pushing.
        Deque<AutoCloseable> resources = new ConcurrentLinkedDeque<>();
        CompletableFuture<Void> terminated = new CompletableFuture<>();
        try {
            return start(config, resources, terminated);
        } catch (Exception | Error e) {
            shutdown(resources, terminated);
            throw e;
        }
    }

    private static Sidecar start(BootstrapConfig config, Deque<AutoCloseable> resources,
                                 CompletableFuture<Void> terminated) throws Exception {
        PrometheusMeterRegistry registry = Registries.prometheus();
        resources.push(registry::close);
        AccessLog accessLog = config.accessLog().enabled() ? AsyncAccessLog.start(config.accessLog(), registry)
                : AccessLog.disabled();
        resources.push(accessLog);
        SecurityEvents securityEvents = config.securityEvents().enabled()
                ? AsyncSecurityEvents.start(config.securityEvents(), registry) : SecurityEvents.disabled();
        resources.push(securityEvents);
        Transport transport = Transport.create(config.runtime().transport(), config.runtime().effectiveEventLoops(),
                "outrider");
        resources.push(() -> transport.group().shutdownGracefully(50, 2000, TimeUnit.MILLISECONDS)
                .awaitUninterruptibly(5, TimeUnit.SECONDS));
        ProxyMetrics metrics = new ProxyMetrics(registry, new MeshMetrics(registry,
                new MeshMetrics.Local(config.node().service(), config.node().identity()), MeshMetrics.DEFAULT_MAX_SERIES));
        DrainState drainState = new DrainState();

        ControlPlaneLink controlPlane = config.fromControlPlane()
                ? ControlPlaneLink.bootstrap(config) // the certificate first: TLS needs it
                : null;
        Deregistration deregistration = new Deregistration(controlPlane);
        resources.push(deregistration);
        TlsState tls = tls(config, registry, controlPlane, securityEvents);
        if (tls != null) {
            resources.push(tls);
        }

        PolicyMetrics policyMetrics = new PolicyMetrics(registry);
        JwksCache.Config d = JwksCache.Config.defaults();
        JwksCache jwks = new JwksCache(new JwksCache.Config(config.jwt().jwksRefresh(), d.refreshFraction(),
                d.unknownKidMinInterval(), d.retryInterval(), d.fetchTimeout(), d.maxBodyBytes()));
        resources.push(jwks);
        SharedBudgets sharedBudgets = config.rateLimits().redis() == null ? null
                : SharedBudgets.start(config.rateLimits().redis(), registry); // closed with the limiter
        RateLimiter rateLimiter = new RateLimiter(config.rateLimits().maxTracked(),
                config.rateLimits().sweepInterval(), System::nanoTime, registry, sharedBudgets);
        resources.push(rateLimiter);
        EgressMetrics egressMetrics = new EgressMetrics(registry);
        WorkloadPolicyCompiler compiler = new WorkloadPolicyCompiler(config.node(), config.policies(), config.jwt(),
                jwks, policyMetrics, rateLimiter, new EgressCompiler(TlsContexts.provider(config.tls().provider()),
                        egressMetrics, config.node().namespace()), config.inbound().application().port());
        // The first snapshot is in force before any listener opens.
        PolicySource policySource = PolicySource.start(config.policies(), controlPlane != null, compiler,
                policyMetrics);
        resources.push(policySource);
        PolicyStore policies = policySource.store();

        UpstreamPools pools = new UpstreamPools(transport, config.upstream());
        resources.push(() -> pools.close(2, TimeUnit.SECONDS));
        DownstreamConnections inboundConnections = new DownstreamConnections(Direction.INBOUND, metrics,
                config.inbound().maxConnections(), config.inbound().maxConnectionsPerPeer());
        // No caller identity on outbound (plaintext from the local application): only the listener limit applies.
        DownstreamConnections outboundConnections = new DownstreamConnections(Direction.OUTBOUND, metrics,
                config.outbound().maxConnections(), config.outbound().maxConnections());
        resources.push(() -> {
            inboundConnections.closeAll();
            outboundConnections.closeAll();
        });

        long drainMillis = config.runtime().drainTimeout().toMillis();
        TcpMetrics tcpMetrics = new TcpMetrics(registry, config.inbound().tcp().ports(),
                config.outbound().upstreams().stream().filter(UpstreamPortConfig::tcp)
                        .map(UpstreamPortConfig::targetPort).toList());
        Endpoint appEndpoint = endpoint(config.inbound().application());
        Cluster app = new Cluster("inbound|" + config.inbound().application(),
                config.inbound().applicationProtocol(), List.of(appEndpoint));
        // Without TCP ports no tunnel handler is added to the inbound pipelines (a CONNECT then gets 405 from forwarding).
        InboundTunnels tunnels = config.inbound().tcp().ports().isEmpty() ? null
                : new InboundTunnels(config.inbound().tcp(), appEndpoint.address().getAddress(),
                rateLimiter.sourceLimits(config.inbound().tcp().connectionsPerSecond(),
                        config.inbound().tcp().connectionBurst(), config.inbound().tcp().maxConnectionsPerSource()),
                tcpMetrics, pools, config.upstream().idleTimeout().toNanos());
        Tracing tracing = Tracing.start(config.tracing(), config.node().service(), registry);
        resources.push(tracing);
        ForwardingContext inboundCtx = new ForwardingContext(Direction.INBOUND, new RouteToApp(new Route(app)), pools,
                config.upstream(), metrics, accessLog, drainState, tls == null ? "http" : "https", tracing);
        Channel inboundListener = listen(transport, "inbound", config.inbound().listen(),
                new InboundInitializer(config.http(), drainMillis, inboundConnections, inboundCtx, tls,
                        new InboundPolicy(policies, policyMetrics, metrics, accessLog, securityEvents, drainState,
                                config.inbound().application().port(), tracing),
                        new RequestPathPolicy.Rules(config.policies().escapedSlashes(),
                                config.policies().pathParameters()), tunnels));
        resources.push(inboundListener::close);

        // Hosts that are no mesh service: the egress allow-list of the policy snapshot in force.
        EgressRouter egress = new EgressRouter(() -> policies.current().egress(), egressMetrics,
                config.node().identity());
        RouteTableBuilder routeBuilder = new RouteTableBuilder(config, tls, egress);
        OutboundRoutes routes = new OutboundRoutes(routeBuilder.build(List.of()));
        ForwardingContext outboundCtx = new ForwardingContext(Direction.OUTBOUND, routes, pools, config.upstream(),
                metrics, accessLog, drainState, "http", tracing);
        OutboundInitializer outboundInit = new OutboundInitializer(config.http(), drainMillis, outboundConnections,
                outboundCtx);
        List<Channel> outboundListeners = new ArrayList<>();
        outboundListeners.add(listen(transport, "outbound", config.outbound().listen(), outboundInit));
        resources.push(outboundListeners.getFirst()::close);
        for (UpstreamPortConfig up : config.outbound().upstreams()) {
            ChannelInitializer<Channel> init = !up.tcp() ? outboundInit : new TcpOutboundInitializer(
                    outboundConnections, up, routes, pools, tcpMetrics, accessLog,
                    config.http().idleTimeout().toNanos());
            Channel listener = listen(transport, (up.tcp() ? "outbound TCP port for " : "outbound port for ")
                    + up.service(), new HostPort(config.outbound().listen().host(), up.port()), init);
            outboundListeners.add(listener);
            resources.push(listener::close);
        }
        if (controlPlane != null) {
            controlPlane.watch(new SnapshotApplication(compiler, policies, policyMetrics, routeBuilder, routes),
                    (InetSocketAddress) inboundListener.localAddress(), metrics::plaintextConnections);
            controlPlane.bindMetrics(registry);
        }

        SidecarDrain drain = new SidecarDrain(config.runtime().drainTimeout(), drainState, inboundListener,
                outboundListeners, inboundConnections, outboundConnections, deregistration,
                () -> shutdown(resources, terminated));
        HealthServer health = HealthServer.start(transport, config.health(),
                () -> notReadyReason(drainState, controlPlane, policies));
        resources.push(health::close);
        AdminServer admin = AdminServer.start(transport, config.admin(), registry,
                new ConfigEndpoint(config, policies, rateLimiter, controlPlane), drain::start);
        resources.push(admin::close);
        Registries.bindJvm(registry); // /ready already answers: nothing before it needs the JVM's meters
        return new Sidecar(transport, drainState, drain, terminated, inboundListener, List.copyOf(outboundListeners),
                health, admin);
    }

    private static TlsState tls(BootstrapConfig config, PrometheusMeterRegistry registry,
                                ControlPlaneLink controlPlane, SecurityEvents securityEvents) throws Exception {
        if (!config.tls().enabled()) {
            log.warn("mTLS is DISABLED (tls.mode: disabled): sidecar traffic is plaintext and callers are not "
                    + "authenticated; use this on a trusted loopback only");
            return null;
        }
        TlsState tls = TlsState.start(config.tls(), config.node().identity(), registry, securityEvents);
        if (controlPlane != null) {
            controlPlane.attach(tls);
        }
        return tls;
    }

    private static Channel listen(Transport transport, String what, HostPort where, ChannelInitializer<Channel> init)
            throws Exception {
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

    /** {@code /ready}: null when the sidecar takes traffic; read on an event loop, so cheap. */
    private static String notReadyReason(DrainState drain, ControlPlaneLink controlPlane, PolicyStore policies) {
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

    /** Closes every resource in reverse order of opening, then completes {@code terminated}. */
    private static void shutdown(Deque<AutoCloseable> resources, CompletableFuture<Void> terminated) {
        try {
            AutoCloseable r;
            while ((r = resources.poll()) != null) {
                try {
                    r.close();
                } catch (Exception e) {
                    log.warn("shutting down: {}", e.toString());
                }
            }
        } finally {
            terminated.complete(null);
        }
    }

    /** Starts a graceful drain (idempotent, returns at once); {@link #terminated()} completes when done. */
    public void drain() {
        drain.start();
    }

    public boolean isDraining() {
        return drainState.isDraining();
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
