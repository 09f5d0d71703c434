package dev.outrider.core.policy;

import java.util.List;
import java.util.Map;

import static java.util.Objects.requireNonNull;

/**
 * Istio's ServiceEntry (networking.istio.io/v1), the part the egress allow-list needs: an external service the
 * workloads it is exported to may call through their sidecar's outbound listener (docs/control-plane.md,
 * "ServiceEntry"). The application always speaks plain HTTP to its sidecar; what goes on the wire to the external
 * server is decided per port: {@code HTTP} plaintext unless {@link #tls} says {@code SIMPLE} (Istio's TLS origination
 * through a DestinationRule), {@code HTTPS} always TLS originated by the sidecar. Only {@code location:
 * MESH_EXTERNAL}; {@code resolution} DNS (the sidecar resolves the host the request names) or STATIC (the
 * {@link #endpoints} addresses).
 *
 * <pre>{@code
 * apiVersion: networking.istio.io/v1      # or outrider.dev/v1, networking.istio.io/v1beta1
 * kind: ServiceEntry
 * metadata: {name: payments-api, namespace: shop}
 * spec:
 *   hosts: [api.payments.example]
 *   location: MESH_EXTERNAL
 *   ports: [{number: 80, name: http, protocol: HTTP, targetPort: 443}]
 *   resolution: DNS
 *   exportTo: ["."]
 *   tls: {mode: SIMPLE, caCertificates: "-----BEGIN CERTIFICATE-----...", sni: api.payments.example}
 * }</pre>
 *
 * @param hosts     non-empty, distinct, lower-case DNS names (no wildcards)
 * @param ports     non-empty, distinct numbers and names
 * @param endpoints STATIC only (non-empty then); empty for DNS
 * @param exportTo  {@code "*"} alone (the default), or {@code "."} and namespace names
 * @param tls       Outrider's extension with Istio's ClientTLSSettings field names, or null
 */
public record ServiceEntry(ObjectMeta metadata, List<String> hosts, List<Port> ports, Resolution resolution,
                           List<Endpoint> endpoints, List<String> exportTo, Tls tls) implements PolicyDocument {
    public static final String ALL_NAMESPACES = "*";
    public static final String OWN_NAMESPACE = ".";

    public ServiceEntry {
        requireNonNull(metadata, "metadata");
        hosts = List.copyOf(hosts);
        ports = List.copyOf(ports);
        requireNonNull(resolution, "resolution");
        endpoints = List.copyOf(endpoints);
        exportTo = List.copyOf(exportTo);
        if (hosts.isEmpty() || ports.isEmpty() || exportTo.isEmpty()) {
            throw new IllegalArgumentException("hosts, ports and exportTo must not be empty");
        }
        if ((resolution == Resolution.STATIC) == endpoints.isEmpty()) {
            throw new IllegalArgumentException("endpoints are required with STATIC resolution and only then");
        }
    }

    @Override
    public String kind() {
        return "ServiceEntry";
    }

    /** A ServiceEntry selects no workloads: which workloads see it is {@link #exportTo} (and Sidecar egress hosts). */
    @Override
    public WorkloadSelector selector() {
        return WorkloadSelector.ALL;
    }

    /** Whether workloads of {@code namespace} may call it. */
    public boolean exportedTo(String namespace) {
        requireNonNull(namespace, "namespace");
        return exportTo.contains(ALL_NAMESPACES) || exportTo.contains(namespace)
                || (exportTo.contains(OWN_NAMESPACE) && namespace.equals(metadata.namespace()));
    }

    /** Whether the sidecar originates TLS to {@code port}'s target: an HTTPS port, or {@code tls.mode: SIMPLE}. */
    public boolean originatesTls(Port port) {
        return port.protocol() == Protocol.HTTPS || (tls != null && tls.mode() == TlsMode.SIMPLE);
    }

    /** The protocols supported; Istio's TLS, TCP, GRPC, HTTP2 and MONGO are refused by name when read. */
    public enum Protocol {
        HTTP, HTTPS
    }

    public enum Resolution {
        DNS, STATIC
    }

    public enum TlsMode {
        DISABLE, SIMPLE
    }

    /**
     * @param number     the port the application addresses (its Host header's port; 80 when it names none)
     * @param targetPort where the sidecar connects (defaults to {@code number})
     */
    public record Port(int number, Protocol protocol, String name, int targetPort) {
        public Port {
            requireNonNull(protocol, "protocol");
            requireNonNull(name, "name");
        }
    }

    /**
     * A STATIC endpoint.
     *
     * @param address an IPv4 or IPv6 address
     * @param ports   port name → the port this endpoint listens on for it (else the port's targetPort)
     */
    public record Endpoint(String address, Map<String, Integer> ports) {
        public Endpoint {
            requireNonNull(address, "address");
            ports = Map.copyOf(ports);
        }
    }

    /**
     * TLS from the sidecar to the external server (Istio's DestinationRule {@code trafficPolicy.tls}).
     *
     * @param caCertificates PEM certificates the server's chain must lead to, inline; null: the JDK's default trust
     *                       store (cacerts)
     * @param sni            the SNI to send and the name the server's certificate must carry, or null: the host the
     *                       request names
     */
    public record Tls(TlsMode mode, String caCertificates, String sni) {
        public Tls {
            requireNonNull(mode, "mode");
        }
    }
}
