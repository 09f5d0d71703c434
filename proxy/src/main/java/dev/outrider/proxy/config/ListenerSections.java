package dev.outrider.proxy.config;

import dev.outrider.core.document.DocumentFields;
import dev.outrider.core.model.ServiceName;
import dev.outrider.core.model.SpiffeId;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import static dev.outrider.proxy.config.BootstrapFields.enumValue;
import static dev.outrider.proxy.config.BootstrapFields.error;
import static dev.outrider.proxy.config.BootstrapFields.hostPort;
import static dev.outrider.proxy.config.BootstrapFields.integer;
import static dev.outrider.proxy.config.BootstrapFields.namespaceLabel;
import static dev.outrider.proxy.config.BootstrapFields.port;
import static dev.outrider.proxy.config.BootstrapFields.requiredString;
import static dev.outrider.proxy.config.BootstrapFields.serviceLabel;
import static dev.outrider.proxy.config.BootstrapFields.string;
import static dev.outrider.proxy.config.BootstrapLoader.DEFAULT_MAX_CONNECTIONS;
import static dev.outrider.proxy.config.BootstrapLoader.DEFAULT_MAX_CONNECTIONS_PER_PEER;

/**
 * The bootstrap file's sections about where traffic goes: {@code inbound}, {@code outbound}, {@code services},
 * and the {@code health} and {@code admin} listeners. Pure functions.
 */
final class ListenerSections {
    /** Upper bound for the connection limits: far beyond what one sidecar's file descriptors allow. */
    private static final int MAX_CONNECTION_LIMIT = 1_000_000;

    private ListenerSections() {
    }

    static InboundConfig inbound(DocumentFields root) {
        DocumentFields n = root.section("inbound", List.of("listen", "application", "applicationProtocol",
                "maxConnections", "maxConnectionsPerPeer", "tcp"));
        return new InboundConfig(hostPort(n, "listen", BootstrapLoader.DEFAULT_INBOUND, 0),
                hostPort(n, "application", BootstrapLoader.DEFAULT_APPLICATION, 1),
                enumValue(n, "applicationProtocol", Protocol.class, BootstrapLoader.DEFAULT_APPLICATION_PROTOCOL),
                integer(n, "maxConnections", DEFAULT_MAX_CONNECTIONS, 1, MAX_CONNECTION_LIMIT),
                integer(n, "maxConnectionsPerPeer", DEFAULT_MAX_CONNECTIONS_PER_PEER, 1, MAX_CONNECTION_LIMIT),
                tcp(n));
    }

    /** {@code inbound.tcp}: the application's TCP ports and the per-caller limits on their tunnels. */
    private static TcpPortsConfig tcp(DocumentFields inbound) {
        DocumentFields t = inbound.section("tcp", List.of("ports", "maxConnectionsPerSource",
                "connectionsPerSecond", "connectionBurst"));
        TcpPortsConfig d = TcpPortsConfig.NONE;
        Set<Integer> ports = new LinkedHashSet<>();
        for (DocumentFields.Item item : t.list("ports")) {
            JsonNode value = item.node() == null ? null : t.wording().scalar(item.node());
            if (value == null || !value.isIntegralNumber() || !value.canConvertToInt() || value.intValue() < 1
                    || value.intValue() > 65535) {
                throw itemError(item, t, "expected a port number (1-65535), got "
                        + (value == null ? "nothing" : BootstrapFields.describe(value)));
            }
            if (!ports.add(value.intValue())) {
                throw itemError(item, t, "duplicate port " + value.intValue());
            }
        }
        return new TcpPortsConfig(ports,
                integer(t, "maxConnectionsPerSource", d.maxConnectionsPerSource(), 1, MAX_CONNECTION_LIMIT),
                integer(t, "connectionsPerSecond", d.connectionsPerSecond(), 1, MAX_CONNECTION_LIMIT),
                integer(t, "connectionBurst", d.connectionBurst(), 1, MAX_CONNECTION_LIMIT));
    }

    static OutboundConfig outbound(DocumentFields root, String namespace) {
        DocumentFields n = root.section("outbound", List.of("listen", "upstreams", "maxConnections"));
        List<UpstreamPortConfig> upstreams = new ArrayList<>();
        for (DocumentFields.Item item : n.list("upstreams")) {
            if (item.node().isNull()) {
                throw itemError(item, n, "expected a mapping with service and port");
            }
            DocumentFields u = n.mapping(item, List.of("service", "port", "protocol", "targetPort"));
            String text = requiredString(u, "service");
            ServiceName service;
            try {
                service = ServiceName.parse(text.strip(), namespace);
            } catch (IllegalArgumentException e) {
                throw error(u, "service", e.getMessage());
            }
            int port = port(u, "port", -1, 1);
            if (port < 0) {
                throw error(u, "port", "required");
            }
            UpstreamPortConfig.Kind kind = enumValue(u, "protocol", UpstreamPortConfig.Kind.class,
                    UpstreamPortConfig.Kind.HTTP);
            int targetPort = port(u, "targetPort", 0, 1);
            if (kind == UpstreamPortConfig.Kind.TCP && targetPort == 0) {
                throw error(u, "targetPort", "required with protocol: tcp (the service's TCP port)");
            }
            if (kind == UpstreamPortConfig.Kind.HTTP && targetPort != 0) {
                throw error(u, "targetPort", "only for protocol: tcp (an HTTP upstream port routes by service)");
            }
            upstreams.add(new UpstreamPortConfig(service, port, kind, targetPort));
        }
        return new OutboundConfig(hostPort(n, "listen", BootstrapLoader.DEFAULT_OUTBOUND, 0), upstreams,
                integer(n, "maxConnections", DEFAULT_MAX_CONNECTIONS, 1, MAX_CONNECTION_LIMIT));
    }

    static List<ServiceConfig> services(DocumentFields root, String defaultNamespace, String trustDomain) {
        List<ServiceConfig> services = new ArrayList<>();
        for (DocumentFields.Item item : root.list("services")) {
            if (item.node().isNull()) {
                throw itemError(item, root, "expected a mapping with name and endpoints");
            }
            DocumentFields s = root.mapping(item, List.of("name", "namespace", "protocol", "endpoints", "identities"));
            String name = serviceLabel(s, "name", requiredString(s, "name"));
            String namespace = namespaceLabel(s, "namespace", string(s, "namespace", defaultNamespace));
            Protocol protocol = enumValue(s, "protocol", Protocol.class, BootstrapLoader.DEFAULT_SERVICE_PROTOCOL);
            List<HostPort> endpoints = new ArrayList<>();
            for (DocumentFields.Item e : s.list("endpoints")) {
                if (e.node().isNull()) {
                    throw itemError(e, s, "expected host:port, got nothing");
                }
                endpoints.add(hostPort(e.node(), e.path(), 1, s));
            }
            if (endpoints.isEmpty()) {
                throw error(s, "endpoints", "at least one endpoint (host:port) is required");
            }
            List<SpiffeId> identities = new ArrayList<>();
            for (DocumentFields.Item i : s.list("identities")) {
                if (i.node().isNull()) {
                    throw itemError(i, s, "expected a SPIFFE ID (spiffe://<trust-domain>/ns/<namespace>/sa/<account>)");
                }
                try {
                    identities.add(SpiffeId.parse(requiredString(i.node(), i.path(), s).strip()));
                } catch (IllegalArgumentException e) {
                    throw itemError(i, s, e.getMessage());
                }
            }
            if (identities.isEmpty()) {
                // Kubernetes convention: a service's pods run as the service account of the same name.
                identities.add(SpiffeId.ofServiceAccount(trustDomain, namespace, name));
            }
            services.add(new ServiceConfig(new ServiceName(name, namespace), protocol, endpoints, identities));
        }
        return services;
    }

    /** {@code health.listen} or {@code admin.listen}. */
    static HostPort listener(DocumentFields root, String section, HostPort def) {
        return hostPort(root.section(section, List.of("listen")), "listen", def, 0);
    }

    private static ConfigException itemError(DocumentFields.Item item, DocumentFields in, String problem) {
        return (ConfigException) in.errors().fail(item.path(), problem);
    }
}
