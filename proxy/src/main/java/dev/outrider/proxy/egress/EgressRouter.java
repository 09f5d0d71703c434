package dev.outrider.proxy.egress;

import dev.outrider.core.model.SpiffeId;
import dev.outrider.proxy.authz.AuthorizationEngine;
import dev.outrider.proxy.authz.Decision;
import dev.outrider.proxy.forward.NoRoute;
import dev.outrider.proxy.forward.RouteResult;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.collection.IntObjectMap;

import java.util.Locale;
import java.util.function.Supplier;

import static java.util.Objects.requireNonNull;

/**
 * The outbound listener's decision for a Host that is not a mesh service (the mesh routes are looked up first, so
 * this costs the mesh path nothing): a host and port a ServiceEntry declares goes to its external cluster when no
 * AuthorizationPolicy targeting the entry refuses this workload; anything else is refused with 403 naming the host.
 * Every outcome is counted ({@link EgressMetrics}). A pure decision over the egress table in force (read once per
 * request through {@code table}); refusals are {@link NoRoute} values the forwarding layer turns into responses.
 *
 * <p>Immutable; called by every event loop.
 */
public final class EgressRouter {
    /** Host without a port on the plaintext outbound listener: HTTP's default port. */
    private static final int DEFAULT_PORT = 80;

    private final Supplier<EgressTable> table;
    private final EgressMetrics metrics;
    private final String principal;
    private final String namespace;

    /**
     * @param table  the egress table in force (the current policy snapshot's)
     * @param caller this workload's identity: the source that targeting policies see
     */
    public EgressRouter(Supplier<EgressTable> table, EgressMetrics metrics, SpiffeId caller) {
        this.table = requireNonNull(table, "table");
        this.metrics = requireNonNull(metrics, "metrics");
        this.principal = requireNonNull(caller, "caller").principal();
        this.namespace = caller.namespace();
    }

    /**
     * The route for {@code host} (the request's Host header, non-empty), a refusal for a declared host this workload
     * may not call or on an undeclared port, or null when no ServiceEntry declares the host at all (the caller decides
     * between the mesh's 404 and {@link #notDeclared}).
     */
    public RouteResult resolve(HttpRequest request, String host) {
        int colon = host.lastIndexOf(':');
        boolean bracketed = host.charAt(0) == '[';
        int end = colon < 0 || (bracketed && colon < host.indexOf(']')) ? host.length() : colon;
        int port = DEFAULT_PORT;
        if (end < host.length()) {
            port = parsePort(host, end + 1);
            if (port < 0) {
                return null;
            }
        }
        if (end > 0 && host.charAt(end - 1) == '.') {
            end--; // a fully qualified name with its root dot
        }
        String name = host.substring(0, end).toLowerCase(Locale.ROOT);
        IntObjectMap<EgressRoute> ports = table.get().ports(name);
        if (ports == null) {
            return null;
        }
        EgressRoute route = ports.get(port);
        if (route == null) {
            metrics.notDeclared();
            return new NoRoute(HttpResponseStatus.FORBIDDEN, "egress to '" + name + ":" + port + "' refused: port "
                    + port + " of '" + name + "' is not in the egress allow-list (ServiceEntry "
                    + ports.values().iterator().next().entry() + " declares other ports)");
        }
        Decision decision = AuthorizationEngine.authorize(route.callers(),
                new EgressRequest(principal, namespace, request, port));
        if (!decision.allowed()) {
            metrics.deniedByPolicy();
            return new NoRoute(HttpResponseStatus.FORBIDDEN, "egress to '" + name + ":" + port + "' (ServiceEntry "
                    + route.entry() + ") refused for this workload by authorization policy: " + decision.reason());
        }
        metrics.allowed();
        return route.route();
    }

    /**
     * 403 for a host no ServiceEntry exported to this workload declares; counted.
     *
     * @param meshName the host also reads as {@code name.namespace} of a namespace this workload has no service of
     *                 ({@code payments.billing}, or {@code github.com}): the message says it is neither
     */
    public NoRoute notDeclared(String host, boolean meshName) {
        metrics.notDeclared();
        return new NoRoute(HttpResponseStatus.FORBIDDEN, "egress to '" + host + "' refused: "
                + (meshName ? "no mesh service of that name is in this workload's snapshot, and the host" : "the host")
                + " is not in the egress allow-list (no ServiceEntry exported to this workload declares it)");
    }

    private static int parsePort(String host, int from) {
        if (from >= host.length() || host.length() - from > 5) {
            return -1;
        }
        int port = 0;
        for (int i = from; i < host.length(); i++) {
            char c = host.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            port = port * 10 + (c - '0');
        }
        return port >= 1 && port <= 65535 ? port : -1;
    }
}
