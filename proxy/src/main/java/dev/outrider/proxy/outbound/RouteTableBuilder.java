package dev.outrider.proxy.outbound;

import dev.outrider.core.model.ServiceName;
import dev.outrider.core.model.SpiffeId;
import dev.outrider.core.snapshot.SnapshotEndpoint;
import dev.outrider.proxy.config.BootstrapConfig;
import dev.outrider.proxy.config.HostPort;
import dev.outrider.proxy.config.Protocol;
import dev.outrider.proxy.config.ServiceConfig;
import dev.outrider.proxy.config.UpstreamPortConfig;
import dev.outrider.proxy.egress.EgressRouter;
import dev.outrider.proxy.forward.Route;
import dev.outrider.proxy.tls.TlsState;
import dev.outrider.proxy.upstream.Cluster;
import dev.outrider.proxy.upstream.Endpoint;
import dev.outrider.proxy.upstream.UpstreamTls;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * Builds the outbound routing table from the bootstrap file's {@code services} and, with a control plane, the
 * endpoints of the latest snapshot. A service named in both takes the snapshot's endpoints (the control plane
 * knows the live instances) and keeps the bootstrap file's protocol; a service only the snapshot names is spoken
 * to in the protocol its endpoints carry (its Service's {@code spec.protocol}, {@link Protocol#of}). Services
 * without endpoints get no route (404 naming the service).
 *
 * <p>An instance seen in the previous table with the same address and expected identities keeps its
 * {@link Endpoint} object, so its pooled connections and least-request counters carry over a snapshot change;
 * a changed identity gets a new endpoint (connections verified against the old identity are not reused).
 *
 * <p>Threading: called at start-up, then only by the thread that applies snapshots; host names are resolved
 * here, never on an event loop.
 */
public final class RouteTableBuilder {
    private static final Logger log = LoggerFactory.getLogger(RouteTableBuilder.class);

    private final BootstrapConfig config;
    private final TlsState tls;
    private final EgressRouter egress;
    /** Builder thread only: endpoints of the last table, by address and expected identities. */
    private Map<String, Endpoint> previous = Map.of();
    /** Builder thread only: whether a table was built (the first one is built at start-up). */
    private boolean built;

    /** @param tls the sidecar's TLS state, or null when mTLS is off (plaintext clusters) */
    public RouteTableBuilder(BootstrapConfig config, TlsState tls) {
        this(config, tls, null);
    }

    /**
     * @param tls    the sidecar's TLS state, or null when mTLS is off (plaintext clusters)
     * @param egress decides Hosts that are no mesh service (external services); null: 404 for them
     */
    public RouteTableBuilder(BootstrapConfig config, TlsState tls, EgressRouter egress) {
        this.config = requireNonNull(config, "config");
        this.tls = tls;
        this.egress = egress;
    }

    /** The table for the bootstrap services and {@code discovered} endpoints (may be empty). */
    public OutboundRouter build(List<SnapshotEndpoint> discovered) {
        requireNonNull(discovered, "discovered");
        Map<String, Endpoint> reused = new HashMap<>();
        Map<ServiceName, Route> byService = new HashMap<>();
        Map<ServiceName, ServiceConfig> configured = new LinkedHashMap<>();
        for (ServiceConfig svc : config.services()) {
            configured.put(svc.name(), svc);
        }
        Map<ServiceName, List<SnapshotEndpoint>> fromSnapshot = new LinkedHashMap<>();
        for (SnapshotEndpoint e : discovered) {
            fromSnapshot.computeIfAbsent(e.service(), k -> new ArrayList<>()).add(e);
        }
        for (ServiceConfig svc : configured.values()) {
            if (fromSnapshot.containsKey(svc.name())) {
                continue;
            }
            Set<SpiffeId> identities = Set.copyOf(svc.identities());
            List<Endpoint> endpoints = new ArrayList<>();
            for (HostPort hp : svc.endpoints()) {
                InetSocketAddress address = hp.toAddress();
                if (address.isUnresolved() && !built) {
                    // The first table, at start-up: a bootstrap endpoint that does not resolve is a config error.
                    throw new IllegalArgumentException("cannot resolve endpoint host '" + hp.host() + "'");
                }
                Endpoint ep = endpoint(address, identities, reused);
                if (ep != null) {
                    endpoints.add(ep);
                }
            }
            if (!endpoints.isEmpty()) {
                byService.put(svc.name(), route(svc.name(), svc.protocol(), endpoints, identities));
            }
        }
        for (Map.Entry<ServiceName, List<SnapshotEndpoint>> e : fromSnapshot.entrySet()) {
            ServiceName name = e.getKey();
            ServiceConfig svc = configured.get(name);
            // Every endpoint of one service carries the same protocol (WorkloadSnapshot checks it).
            Protocol protocol = svc == null ? Protocol.of(e.getValue().getFirst().protocol()) : svc.protocol();
            Set<SpiffeId> identities = new LinkedHashSet<>();
            for (SnapshotEndpoint se : e.getValue()) {
                identities.add(se.identity());
            }
            List<Endpoint> endpoints = new ArrayList<>();
            for (SnapshotEndpoint se : e.getValue()) {
                Endpoint ep = endpoint(new InetSocketAddress(se.host(), se.port()), identities, reused);
                if (ep != null) {
                    endpoints.add(ep);
                }
            }
            if (!endpoints.isEmpty()) {
                byService.put(name, route(name, protocol, endpoints, Set.copyOf(identities)));
            }
        }
        Map<Integer, Route> byPort = new HashMap<>();
        for (UpstreamPortConfig up : config.outbound().upstreams()) {
            Route r = byService.get(up.service());
            if (r != null) {
                byPort.put(up.port(), r);
            }
        }
        previous = reused;
        built = true;
        return new OutboundRouter(byService, byPort, config.node().namespace(), egress);
    }

    private Route route(ServiceName name, Protocol protocol, List<Endpoint> endpoints, Set<SpiffeId> identities) {
        UpstreamTls upstreamTls = tls == null ? null : new UpstreamTls(tls, identities, name.toString());
        return new Route(new Cluster(name.toString(), protocol, endpoints, upstreamTls));
    }

    /** The endpoint for {@code address}, reused from the previous table when nothing about it changed. */
    private Endpoint endpoint(InetSocketAddress address, Set<SpiffeId> identities, Map<String, Endpoint> reused) {
        if (address.isUnresolved()) {
            log.warn("endpoint {} cannot be resolved; left out until it can", address.getHostString());
            return null;
        }
        String key = address.getAddress().getHostAddress() + "|" + address.getPort() + "|"
                + identities.stream().map(SpiffeId::toString).sorted().toList();
        Endpoint ep = reused.get(key);
        if (ep == null) {
            ep = previous.get(key);
        }
        if (ep == null) {
            ep = new Endpoint(address);
        }
        reused.put(key, ep);
        return ep;
    }
}
