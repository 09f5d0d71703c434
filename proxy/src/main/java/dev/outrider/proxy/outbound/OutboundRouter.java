package dev.outrider.proxy.outbound;

import dev.outrider.core.model.ServiceName;
import dev.outrider.proxy.forward.NoRoute;
import dev.outrider.proxy.forward.Route;
import dev.outrider.proxy.forward.RouteResolver;
import dev.outrider.proxy.forward.RouteResult;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.collection.IntObjectHashMap;
import io.netty.util.collection.IntObjectMap;

import dev.outrider.proxy.egress.EgressRouter;

import java.net.InetSocketAddress;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * Outbound routing. An explicit upstream port (the connection's local port) names the service outright;
 * otherwise the Host header does, in any Kubernetes form ({@code orders}, {@code orders.shop},
 * {@code orders.shop.svc.cluster.local}, with or without a port). Mesh routes are looked up first, exactly as
 * before egress existed, so the mesh path pays nothing for it. A Host that is no mesh service goes to the
 * {@link EgressRouter}: a declared external service, or 403 (not in the egress allow-list, or refused by a policy
 * targeting its ServiceEntry). A Host in a mesh service's form that no ServiceEntry declares (a single label, a
 * {@code .svc} name, or {@code name.namespace} of this or a known mesh namespace) gets 404 naming the service, as before.
 *
 * <p>Immutable after construction; read by every event loop.
 */
public final class OutboundRouter implements RouteResolver {
    /** Kubernetes' default cluster domain, the suffix of fully qualified service names. */
    public static final String CLUSTER_DOMAIN = "cluster.local";

    private final Map<ServiceName, Route> byService;
    private final IntObjectMap<Route> byPort;
    private final String namespace;
    /** Namespaces of the mesh services routed: {@code name.namespace} of one of them is a mesh name. */
    private final Set<String> meshNamespaces = new HashSet<>();
    private final EgressRouter egress;

    /** Without egress: every Host that is no mesh service gets 404. */
    public OutboundRouter(Map<ServiceName, Route> byService, Map<Integer, Route> byPort, String namespace) {
        this(byService, byPort, namespace, null);
    }

    /** @param egress decides Hosts that are no mesh service; null: 404 for them all */
    public OutboundRouter(Map<ServiceName, Route> byService, Map<Integer, Route> byPort, String namespace,
                          EgressRouter egress) {
        this.byService = Map.copyOf(byService);
        this.byPort = new IntObjectHashMap<>(Math.max(4, byPort.size() * 2));
        byPort.forEach(this.byPort::put);
        this.namespace = requireNonNull(namespace, "namespace");
        this.egress = egress;
        meshNamespaces.add(namespace);
        for (ServiceName s : byService.keySet()) {
            meshNamespaces.add(s.namespace());
        }
    }

    /** The route to {@code service}, or null when this workload has no endpoints for it (TCP upstream ports). */
    public Route route(ServiceName service) {
        return byService.get(service);
    }

    @Override
    public RouteResult resolve(HttpRequest request, Channel connection) {
        if (!byPort.isEmpty() && connection.localAddress() instanceof InetSocketAddress local) {
            Route route = byPort.get(local.getPort());
            if (route != null) {
                return route;
            }
        }
        String host = request.headers().get(HttpHeaderNames.HOST);
        if (host == null || host.isEmpty()) {
            return new NoRoute(HttpResponseStatus.BAD_REQUEST,
                    "no Host header: set Host to the service name or use an explicit upstream port");
        }
        ServiceName service = ServiceName.fromHost(host, namespace, CLUSTER_DOMAIN);
        Route route = service == null ? null : byService.get(service);
        if (route == null) {
            return notInMesh(request, host, service);
        }
        return route;
    }

    /** The slow path: a Host that is no routed mesh service. */
    private RouteResult notInMesh(HttpRequest request, String host, ServiceName service) {
        if (egress != null) {
            RouteResult external = egress.resolve(request, host);
            if (external != null) {
                return external;
            }
            if (!meshForm(host, service)) {
                return egress.notDeclared(host, service != null);
            }
        }
        String named = service == null ? host : service.toString();
        return new NoRoute(HttpResponseStatus.NOT_FOUND, "no route to service '" + named + "'");
    }

    /** Whether {@code host} reads as a mesh service's name (then an unknown one is the mesh's 404, as before). */
    private boolean meshForm(String host, ServiceName service) {
        if (service == null) {
            return false;
        }
        int dot = host.indexOf('.');
        int colon = host.indexOf(':');
        return dot < 0 || (colon >= 0 && colon < dot) || host.contains(".svc")
                || meshNamespaces.contains(service.namespace());
    }
}
