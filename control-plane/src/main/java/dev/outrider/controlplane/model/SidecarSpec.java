package dev.outrider.controlplane.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.outrider.core.document.DocumentFields;
import dev.outrider.core.model.DnsLabel;
import dev.outrider.core.model.ResourceKind;
import dev.outrider.core.model.ServiceName;
import dev.outrider.controlplane.store.ResourceKey;
import dev.outrider.controlplane.store.StoredResource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.outrider.core.document.DocumentFields.quote;
import static java.util.Objects.requireNonNull;

/**
 * A Sidecar resource (docs/control-plane.md, "Sidecar"), after Istio's Sidecar with its field names: which services
 * the snapshots of the workloads it applies to carry.
 * <pre>{@code
 * spec:
 *   workloadSelector: {serviceAccounts: [web]}  # optional; absent: every workload of its namespace
 *   egress:                                     # optional; absent: every service exported to the namespace
 *   - hosts: ["./*", "payments/*"]              # NAMESPACE/SERVICE; "." the workload's namespace, "*" any
 * }</pre>
 * Which Sidecar applies to a workload is {@link SidecarSelection}'s to decide.
 *
 * @param key             the Sidecar's kind, namespace and name
 * @param serviceAccounts the workloads it selects by service account (of its namespace); empty: every workload of
 *                        the namespace (no selector); distinct DNS labels; immutable
 * @param hosts           the egress hosts, "." unresolved; null when {@code egress} is absent (every service
 *                        exported to the workload's namespace); otherwise non-empty, immutable
 */
public record SidecarSpec(ResourceKey key, List<String> serviceAccounts, List<Host> hosts) {
    /** {@code hosts} entry part meaning any namespace or any service. */
    public static final String ANY = "*";
    /** {@code hosts} namespace meaning the namespace of the workload the Sidecar applies to. */
    public static final String WORKLOADS_NAMESPACE = ".";
    /** The apiVersions a Sidecar is accepted under: Outrider's, and Istio's so that its documents port as they are. */
    static final List<String> API_VERSIONS = List.of(ResourceDocuments.API_VERSION, "networking.istio.io/v1",
            "networking.istio.io/v1beta1", "networking.istio.io/v1alpha3");

    static final List<String> SPEC_FIELDS = List.of("workloadSelector", "egress");
    private static final List<String> SELECTOR_FIELDS = List.of("serviceAccounts");
    private static final List<String> EGRESS_FIELDS = List.of("hosts");
    /** Istio fields with no meaning here, and why, per level: refused with the reason rather than as unknown. */
    private static final Map<String, String> ISTIO_SPEC_ONLY = Map.of(
            "ingress", "inbound listeners are the sidecar's bootstrap file's (inbound.listen)",
            "outboundTrafficPolicy", "a sidecar forwards only to the services of its snapshot and bootstrap file"
                    + " and the ServiceEntries exported to it (Istio's REGISTRY_ONLY)",
            "inboundConnectionPool", "inbound limits are RateLimitPolicy's");
    private static final Map<String, String> ISTIO_SELECTOR_ONLY = Map.of(
            "labels", "snapshots are per workload identity (namespace and service account), not per pod:"
                    + " select workloads with serviceAccounts");
    private static final String WHOLE_SERVICES = "a snapshot carries whole services, not listeners";
    private static final Map<String, String> ISTIO_EGRESS_ONLY = Map.of(
            "port", WHOLE_SERVICES, "bind", WHOLE_SERVICES, "captureMode", WHOLE_SERVICES);

    /**
     * One egress host, {@code NAMESPACE/SERVICE}.
     *
     * @param namespace {@code *} (any), {@code .} (the workload's namespace; {@link #resolve}d before matching) or a
     *                  namespace
     * @param service   {@code *} (any), a Service's name, or a ServiceEntry's host (a DNS name)
     */
    public record Host(String namespace, String service) implements Comparable<Host> {
        public Host {
            requireNonNull(namespace, "namespace");
            requireNonNull(service, "service");
        }

        /** The host read from {@code text}, or the problem with it. */
        static Host parse(String text) {
            int slash = text.indexOf('/');
            if (slash < 0) {
                throw new IllegalArgumentException(quote(text) + " has no namespace: write NAMESPACE/SERVICE, e.g."
                        + " './*' (every service of the workload's namespace), 'payments/*' or '*/orders'");
            }
            String namespace = text.substring(0, slash);
            String service = text.substring(slash + 1);
            if (namespace.equals("~")) {
                throw new IllegalArgumentException(quote(text) + ": '~' (no namespace) is not supported; every"
                        + " Service has a namespace");
            }
            if (!namespace.equals(ANY) && !namespace.equals(WORKLOADS_NAMESPACE) && !DnsLabel.isValid(namespace)) {
                throw new IllegalArgumentException(quote(text) + ": " + quote(namespace) + " is not '*' (any namespace),"
                        + " '.' (the workload's) or a namespace (RFC 1123 label)");
            }
            if (!service.equals(ANY) && !DnsLabel.isDnsName(service)) {
                throw new IllegalArgumentException(quote(text) + ": " + quote(service) + " is not '*' (every service"
                        + " of the namespace), a Service's metadata.name (an RFC 1123 label) or a ServiceEntry host"
                        + " (a DNS name)");
            }
            if (service.endsWith(".svc") || service.contains(".svc.")) {
                throw new IllegalArgumentException(quote(text) + ": " + quote(service) + " is a mesh service's DNS"
                        + " name; name a Service by its metadata.name (an RFC 1123 label)");
            }
            return new Host(namespace, service);
        }

        /** This host with {@code .} made {@code workloadNamespace}. */
        public Host resolve(String workloadNamespace) {
            return namespace.equals(WORKLOADS_NAMESPACE) ? new Host(workloadNamespace, service) : this;
        }

        /**
         * Whether this (resolved) host names {@code host}, a host of a ServiceEntry of {@code namespace}: Istio's
         * {@code NAMESPACE/DNS-NAME} (any namespace or {@code .}, then {@code api.example.com} or any host).
         */
        public boolean matchesHost(String namespace, String host) {
            return (this.namespace.equals(ANY) || this.namespace.equals(namespace))
                    && (service.equals(ANY) || service.equals(host));
        }

        /** Whether this (resolved) host names {@code service}. */
        public boolean matches(ServiceName service) {
            return (namespace.equals(ANY) || namespace.equals(service.namespace()))
                    && (this.service.equals(ANY) || this.service.equals(service.name()));
        }

        @Override
        public int compareTo(Host other) {
            int c = namespace.compareTo(other.namespace);
            return c != 0 ? c : service.compareTo(other.service);
        }

        @Override
        public String toString() {
            return namespace + "/" + service;
        }
    }

    public SidecarSpec {
        requireNonNull(key, "key");
        serviceAccounts = List.copyOf(requireNonNull(serviceAccounts, "serviceAccounts"));
        if (hosts != null) {
            hosts = List.copyOf(hosts);
            if (hosts.isEmpty()) {
                throw new IllegalArgumentException("hosts must not be empty (null: every exported service)");
            }
        }
    }

    /** Whether it has a {@code workloadSelector} (else it applies to every workload of its namespace). */
    public boolean hasSelector() {
        return !serviceAccounts.isEmpty();
    }

    /**
     * The spec of a stored Sidecar document (validated when it was written).
     *
     * @throws IllegalArgumentException when {@code resource} is not a Sidecar
     * @throws IllegalStateException    when the stored document is not a valid Sidecar (a damaged store)
     */
    public static SidecarSpec of(StoredResource resource) {
        requireNonNull(resource, "resource");
        if (!resource.key().kind().equals(ResourceKind.SIDECAR.kind())) {
            throw new IllegalArgumentException(resource.key() + " is not a Sidecar");
        }
        try {
            return read(resource.key(), ResourceDocuments.readStored(resource).get("spec"));
        } catch (ResourceValidationException e) {
            throw new IllegalStateException("stored " + resource.key() + " is not a valid Sidecar: " + e.getMessage(), e);
        }
    }

    /** Reads (and validates) {@code spec}, null or absent meaning {@code {}}. */
    static SidecarSpec read(ResourceKey key, JsonNode spec) {
        if (spec == null || spec.isNull()) {
            return new SidecarSpec(key, List.of(), null);
        }
        refuseIstioOnly(spec, "spec", ISTIO_SPEC_ONLY);
        DocumentFields fields = DocumentFields.of(spec, "spec", ResourceValidationException.FIELDS, SPEC_FIELDS);
        return new SidecarSpec(key, serviceAccounts(fields), hosts(fields));
    }

    private static List<String> serviceAccounts(DocumentFields spec) {
        JsonNode selector = spec.get("workloadSelector");
        if (selector == null) {
            return List.of();
        }
        refuseIstioOnly(selector, spec.path("workloadSelector"), ISTIO_SELECTOR_ONLY);
        DocumentFields fields = spec.object("workloadSelector", SELECTOR_FIELDS);
        List<String> accounts = distinctOrNone(fields, "serviceAccounts", DocumentFields.Check.LABEL,
                "leave workloadSelector out to apply the Sidecar to every workload of its namespace");
        if (accounts.isEmpty()) {
            throw fields.fail("serviceAccounts", "is required: the service accounts whose workloads the Sidecar"
                    + " applies to (leave workloadSelector out for every workload of the namespace)");
        }
        return accounts;
    }

    private static List<Host> hosts(DocumentFields spec) {
        if (!spec.has("egress")) {
            return null;
        }
        List<DocumentFields.Item> egress = spec.list("egress");
        if (egress.isEmpty()) {
            throw spec.fail("egress", "must not be empty; leave egress out for every service exported to the"
                    + " workload's namespace");
        }
        if (egress.size() > 1) {
            throw ResourceValidationException.invalid(egress.get(1).path(), "one egress entry only (as Istio allows"
                    + " one without a port): list every host in " + egress.getFirst().path() + ".hosts");
        }
        refuseIstioOnly(egress.getFirst().node(), egress.getFirst().path(), ISTIO_EGRESS_ONLY);
        DocumentFields first = spec.mapping(egress.getFirst(), EGRESS_FIELDS);
        List<String> texts = distinctOrNone(first, "hosts", text -> {
            try {
                Host.parse(text);
                return null;
            } catch (IllegalArgumentException e) {
                return e.getMessage();
            }
        }, "write NAMESPACE/SERVICE hosts, e.g. './*'");
        if (texts.isEmpty()) {
            throw first.fail("hosts", "is required: the services the workloads call, as NAMESPACE/SERVICE (e.g."
                    + " './*', 'payments/*')");
        }
        List<Host> hosts = new ArrayList<>(texts.size());
        for (String text : texts) {
            hosts.add(Host.parse(text));
        }
        return hosts;
    }

    /** {@link DocumentFields#distinctStrings}, empty when absent. */
    private static List<String> distinctOrNone(DocumentFields fields, String name, DocumentFields.Check check,
                                               String whenEmpty) {
        List<String> values = fields.distinctStrings(name, check, whenEmpty);
        return values == null ? List.of() : values;
    }

    private static void refuseIstioOnly(JsonNode mapping, String path, Map<String, String> istioOnly) {
        if (!mapping.isObject()) {
            return; // DocumentFields reports it
        }
        for (Map.Entry<String, JsonNode> field : mapping.properties()) {
            String reason = istioOnly.get(field.getKey());
            if (reason != null) {
                throw ResourceValidationException.invalid(DocumentFields.child(path, field.getKey()),
                        "Istio's " + quote(field.getKey()) + " is not supported: " + reason + "; leave it out");
            }
        }
    }
}
