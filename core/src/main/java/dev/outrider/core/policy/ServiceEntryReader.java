package dev.outrider.core.policy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.outrider.core.document.DocumentFields;
import dev.outrider.core.model.DnsLabel;
import dev.outrider.core.pem.Pem;
import dev.outrider.core.policy.ServiceEntry.Endpoint;
import dev.outrider.core.policy.ServiceEntry.Port;
import dev.outrider.core.policy.ServiceEntry.Protocol;
import dev.outrider.core.policy.ServiceEntry.Resolution;
import dev.outrider.core.policy.ServiceEntry.Tls;
import dev.outrider.core.policy.ServiceEntry.TlsMode;

import java.security.cert.CertificateException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.outrider.core.document.DocumentFields.quote;

/**
 * Reads the {@code spec} of a ServiceEntry in Istio's layout into a {@link ServiceEntry}, failing on the first
 * problem with its path. Istio fields Outrider does not support are refused by name with the reason, never ignored.
 * {@link DocumentReader} reads the envelope. Pure functions.
 */
final class ServiceEntryReader {
    static final List<String> SPEC = List.of("hosts", "addresses", "ports", "location", "resolution", "endpoints",
            "workloadSelector", "exportTo", "subjectAltNames", "tls");
    private static final List<String> PORT = List.of("number", "protocol", "name", "targetPort");
    private static final List<String> ENDPOINT = List.of("address", "ports", "labels", "network", "locality",
            "weight", "serviceAccount");
    private static final List<String> TLS = List.of("mode", "caCertificates", "sni", "insecureSkipVerify",
            "credentialName", "clientCertificate", "privateKey", "subjectAltNames");
    private static final String PROTOCOLS = "HTTP or HTTPS";

    private ServiceEntryReader() {
    }

    static ServiceEntry read(ObjectMeta metadata, DocumentFields spec) {
        refuse(spec, "addresses", "virtual addresses need traffic capture; the application reaches an entry by"
                + " its host through the outbound listener");
        refuse(spec, "workloadSelector", "an entry for mesh workloads is MESH_INTERNAL, which is not supported");
        refuse(spec, "subjectAltNames", "the server's certificate is verified against the SNI name (spec.tls.sni,"
                + " else the host)");
        List<String> hosts = spec.distinctStrings("hosts", ServiceEntryReader::host, "list the external hosts");
        if (hosts == null) {
            throw spec.fail("hosts", "is required: the DNS names of the external service");
        }
        spec.string("location", l -> switch (l) {
            case "MESH_EXTERNAL" -> null;
            case "MESH_INTERNAL" -> "MESH_INTERNAL is not supported: mesh services are Services; use MESH_EXTERNAL";
            default -> quote(l) + " is not a location; use MESH_EXTERNAL";
        });
        String resolution = spec.requiredString("resolution", r -> switch (r) {
            case "DNS", "STATIC" -> null;
            case "NONE", "DNS_ROUND_ROBIN", "DYNAMIC_DNS" -> r + " is not supported; use DNS or STATIC";
            default -> quote(r) + " is not a resolution; use DNS or STATIC";
        });
        List<Port> ports = ports(spec);
        Tls tls = tls(spec, ports);
        List<Endpoint> endpoints = endpoints(spec, ports);
        if (resolution.equals("STATIC") && endpoints.isEmpty()) {
            throw spec.fail("endpoints", "is required with resolution STATIC: the addresses of the external"
                    + " service");
        }
        if (resolution.equals("DNS") && !endpoints.isEmpty()) {
            throw spec.fail("endpoints", "are for resolution STATIC; with DNS the sidecar resolves the host the"
                    + " request names");
        }
        List<String> exportTo = spec.distinctStrings("exportTo", ServiceEntryReader::exportEntry,
                "leave it out to export to every namespace");
        if (exportTo != null && exportTo.size() > 1 && exportTo.contains(ServiceEntry.ALL_NAMESPACES)) {
            throw spec.errors().fail(spec.path("exportTo") + "[" + exportTo.indexOf(ServiceEntry.ALL_NAMESPACES)
                    + "]", "'*' (every namespace) cannot be combined with other entries");
        }
        return new ServiceEntry(metadata, hosts, ports, Resolution.valueOf(resolution), endpoints,
                exportTo == null ? List.of(ServiceEntry.ALL_NAMESPACES) : exportTo, tls);
    }

    private static List<Port> ports(DocumentFields spec) {
        List<DocumentFields.Item> items = spec.list("ports");
        if (items.isEmpty()) {
            throw spec.fail("ports", "is required: the ports the application calls, e.g. [{number: 80, name: http,"
                    + " protocol: HTTP}]");
        }
        List<Port> ports = new ArrayList<>();
        Map<Long, String> numbers = new HashMap<>();
        Map<String, String> names = new HashMap<>();
        for (DocumentFields.Item item : items) {
            DocumentFields p = spec.mapping(item, PORT);
            long number = p.requiredInteger("number", 1, 65535);
            String previous = numbers.putIfAbsent(number, item.path());
            if (previous != null) {
                throw p.fail("number", number + " is already declared at " + previous);
            }
            String protocol = p.requiredString("protocol", ServiceEntryReader::protocol);
            String name = p.requiredString("name", DocumentFields.Check.LABEL);
            previous = names.putIfAbsent(name, item.path());
            if (previous != null) {
                throw p.fail("name", quote(name) + " is already declared at " + previous);
            }
            long target = p.integer("targetPort", 1, 65535, number);
            ports.add(new Port((int) number, Protocol.valueOf(protocol), name, (int) target));
        }
        return ports;
    }

    private static Tls tls(DocumentFields spec, List<Port> ports) {
        DocumentFields t = spec.object("tls", TLS);
        if (t == null) {
            return null;
        }
        String mode = t.requiredString("mode", m -> switch (m) {
            case "SIMPLE", "DISABLE" -> null;
            case "MUTUAL", "ISTIO_MUTUAL" -> m + " is not supported: the sidecar presents no client certificate"
                    + " to external services; use SIMPLE";
            default -> quote(m) + " is not a TLS mode; use SIMPLE or DISABLE";
        });
        for (String field : List.of("credentialName", "clientCertificate", "privateKey")) {
            refuse(t, field, "the sidecar presents no client certificate to external services");
        }
        refuse(t, "subjectAltNames", "the server's certificate is verified against the SNI name (sni, else the"
                + " host)");
        if (t.bool("insecureSkipVerify", false)) {
            throw t.fail("insecureSkipVerify", "true is refused: the server's certificate is always verified"
                    + " (give its CA in caCertificates)");
        }
        String ca = t.string("caCertificates", ServiceEntryReader::caCertificates);
        String sni = t.string("sni", s -> DnsLabel.isDnsName(s) ? null
                : quote(s) + " is not a DNS name (lower case, no trailing dot)");
        if (mode.equals("DISABLE")) {
            if (ca != null || sni != null) {
                throw t.fail(ca != null ? "caCertificates" : "sni", "has no effect with mode DISABLE (plaintext);"
                        + " leave it out, or use mode SIMPLE");
            }
            for (int i = 0; i < ports.size(); i++) {
                if (ports.get(i).protocol() == Protocol.HTTPS) {
                    throw t.fail("mode", "DISABLE contradicts spec.ports[" + i + "] (protocol HTTPS, always TLS);"
                            + " use SIMPLE or protocol HTTP");
                }
            }
        }
        return new Tls(TlsMode.valueOf(mode), ca, sni);
    }

    private static List<Endpoint> endpoints(DocumentFields spec, List<Port> ports) {
        List<Endpoint> endpoints = new ArrayList<>();
        for (DocumentFields.Item item : spec.list("endpoints")) {
            DocumentFields e = spec.mapping(item, ENDPOINT);
            for (String field : List.of("labels", "network", "locality", "weight", "serviceAccount")) {
                refuse(e, field, "endpoints carry an address and ports only");
            }
            String address = e.requiredString("address", PolicyValues::ipAddress);
            Map<String, Integer> byName = new LinkedHashMap<>();
            JsonNode node = e.get("ports");
            if (node != null && !node.isObject()) {
                throw e.fail("ports", "must be a mapping of port name to port number");
            }
            if (node != null) {
                for (Map.Entry<String, JsonNode> port : node.properties()) {
                    String at = e.path("ports") + "[" + port.getKey() + "]";
                    if (ports.stream().noneMatch(p -> p.name().equals(port.getKey()))) {
                        throw e.errors().fail(at, quote(port.getKey()) + " is not the name of a port in spec.ports");
                    }
                    JsonNode n = port.getValue();
                    if (!n.isIntegralNumber() || n.longValue() < 1 || n.longValue() > 65535) {
                        throw e.errors().fail(at, "must be a port number 1-65535");
                    }
                    byName.put(port.getKey(), n.intValue());
                }
            }
            endpoints.add(new Endpoint(address, byName));
        }
        return endpoints;
    }

    /** {@code name} is an Istio field Outrider does not support: refused with {@code reason}. */
    private static void refuse(DocumentFields fields, String name, String reason) {
        if (fields.has(name)) {
            throw fields.fail(name, "Istio's " + quote(name) + " is not supported: " + reason + "; leave it out");
        }
    }

    private static String host(String host) {
        if (host.startsWith("*")) {
            return quote(host) + ": wildcard hosts are not supported; list each host";
        }
        if (!DnsLabel.isDnsName(host)) {
            return quote(host) + " is not a DNS name (lower case, no trailing dot, no port)";
        }
        if (host.chars().allMatch(c -> (c >= '0' && c <= '9') || c == '.')) {
            return quote(host) + " is an IP address; name the host, and give addresses as STATIC endpoints";
        }
        if (host.endsWith(".svc") || host.contains(".svc.")) {
            return quote(host) + " is a mesh service name; a ServiceEntry declares external hosts";
        }
        return null;
    }

    private static String protocol(String protocol) {
        return switch (protocol) {
            case "HTTP", "HTTPS" -> null;
            case "TLS", "TCP", "GRPC", "HTTP2", "MONGO" -> "protocol " + protocol + " is not supported for"
                    + " external services yet; use " + PROTOCOLS + " (the application speaks HTTP to its sidecar)";
            default -> quote(protocol) + " is not a protocol; use " + PROTOCOLS;
        };
    }

    private static String caCertificates(String pem) {
        try {
            return Pem.certificates(pem).isEmpty() ? "holds no PEM certificate" : null;
        } catch (CertificateException | IllegalArgumentException e) {
            return "is not PEM certificates: " + e.getMessage();
        }
    }

    private static String exportEntry(String entry) {
        return entry.equals(ServiceEntry.ALL_NAMESPACES) || entry.equals(ServiceEntry.OWN_NAMESPACE)
                || DnsLabel.isValid(entry) ? null
                : quote(entry) + " is not '*' (every namespace), '.' (its own) or a namespace (RFC 1123 label)";
    }
}
