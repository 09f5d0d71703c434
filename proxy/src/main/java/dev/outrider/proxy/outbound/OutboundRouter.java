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

import java.net.InetSocketAddress;
import java.util.Map;

import static java.util.Objects.requireNonNull;

/**
 * Outbound routing. An explicit upstream port (the connection's local port) names the service outright;
 * otherwise the Host header does, in any Kubernetes form ({@code orders}, {@code orders.shop},
 * {@code orders.shop.svc.cluster.local}, with or without a port). A service this workload has no
 * endpoints for gets 404 naming it.
 *
 * <p>Immutable after construction; read by every event loop.
 */
public final class OutboundRouter implements RouteResolver {
    /** Kubernetes' default cluster domain, the suffix of fully qualified service names. */
    public static final String CLUSTER_DOMAIN = "cluster.local";

    private final Map<ServiceName, Route> byService;
    private final IntObjectMap<Route> byPort;
    private final String namespace;

    public OutboundRouter(Map<ServiceName, Route> byService, Map<Integer, Route> byPort, String namespace) {
        this.byService = Map.copyOf(byService);
        this.byPort = new IntObjectHashMap<>(Math.max(4, byPort.size() * 2));
        byPort.forEach(this.byPort::put);
        this.namespace = requireNonNull(namespace, "namespace");
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
            String named = service == null ? host : service.toString();
            return new NoRoute(HttpResponseStatus.NOT_FOUND, "no route to service '" + named + "'");
        }
        return route;
    }
}
