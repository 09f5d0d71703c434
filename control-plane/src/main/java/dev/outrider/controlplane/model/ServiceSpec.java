package dev.outrider.controlplane.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.outrider.core.document.DocumentFields;
import dev.outrider.core.model.DnsLabel;
import dev.outrider.core.model.ResourceKind;
import dev.outrider.core.model.ServiceName;
import dev.outrider.core.model.ServiceProtocol;
import dev.outrider.controlplane.store.StoredResource;

import java.util.List;

import static dev.outrider.core.document.DocumentFields.quote;
import static java.util.Objects.requireNonNull;

/**
 * A Service resource as the registry and the snapshot compiler use it, defaults applied:
 * <pre>{@code
 * spec:
 *   protocol: auto            # http1 | http2 | auto (default auto)
 *   serviceAccounts: [orders] # who may register instances (default: [metadata.name])
 *   exportTo: ["*"]           # "*" every namespace (default), "." its own, or namespace names
 * }</pre>
 *
 * @param name            the service and its namespace
 * @param protocol        how callers' sidecars speak to its instances (carried to them in snapshots)
 * @param serviceAccounts non-empty, distinct DNS labels; immutable
 * @param exportTo        non-empty, distinct: {@code "*"} alone, or {@code "."} and namespace names; immutable
 */
public record ServiceSpec(ServiceName name, ServiceProtocol protocol, List<String> serviceAccounts,
                          List<String> exportTo) {
    /**
     * {@code auto}: HTTP/1.1 callers over pooled HTTP/1.1, HTTP/2 callers over h2 (README.md, "Between
     * sidecars"); it costs a sidecar the least CPU for HTTP/1.1 traffic (bench/RESULTS.md).
     */
    public static final ServiceProtocol DEFAULT_PROTOCOL = ServiceProtocol.DEFAULT;
    /** {@code exportTo} entry meaning every namespace. */
    public static final String ALL_NAMESPACES = "*";
    /** {@code exportTo} entry meaning the service's own namespace. */
    public static final String OWN_NAMESPACE = ".";

    private static final String DEFAULT_WHEN_EMPTY = "leave it out for the default";
    static final List<String> SPEC_FIELDS = List.of("protocol", "serviceAccounts", "exportTo");

    public ServiceSpec {
        requireNonNull(name, "name");
        requireNonNull(protocol, "protocol");
        serviceAccounts = List.copyOf(requireNonNull(serviceAccounts, "serviceAccounts"));
        exportTo = List.copyOf(requireNonNull(exportTo, "exportTo"));
        if (serviceAccounts.isEmpty() || exportTo.isEmpty()) {
            throw new IllegalArgumentException("serviceAccounts and exportTo must not be empty");
        }
    }

    /** Whether workloads of {@code namespace} get this service's endpoints. */
    public boolean exportedTo(String namespace) {
        requireNonNull(namespace, "namespace");
        return exportTo.contains(ALL_NAMESPACES) || exportTo.contains(namespace)
                || (exportTo.contains(OWN_NAMESPACE) && namespace.equals(name.namespace()));
    }

    /** Whether a workload with service account {@code serviceAccount} (of the service's namespace) may register. */
    public boolean allowsServiceAccount(String serviceAccount) {
        return serviceAccounts.contains(requireNonNull(serviceAccount, "serviceAccount"));
    }

    /**
     * The spec of a stored Service document (validated when it was written).
     *
     * @throws IllegalArgumentException when {@code resource} is not a Service
     * @throws IllegalStateException    when the stored document is not a valid Service (a damaged store)
     */
    public static ServiceSpec of(StoredResource resource) {
        requireNonNull(resource, "resource");
        if (!resource.key().kind().equals(ResourceKind.SERVICE.kind())) {
            throw new IllegalArgumentException(resource.key() + " is not a Service");
        }
        JsonNode document = ResourceDocuments.readStored(resource);
        try {
            return read(new ServiceName(resource.key().name(), resource.key().namespace()), document.get("spec"));
        } catch (ResourceValidationException e) {
            throw new IllegalStateException("stored " + resource.key() + " is not a valid Service: "
                    + e.getMessage(), e);
        }
    }

    /** Reads (and validates) {@code spec}, null or absent meaning {@code {}}. */
    static ServiceSpec read(ServiceName name, JsonNode spec) {
        if (spec == null || spec.isNull()) {
            return new ServiceSpec(name, DEFAULT_PROTOCOL, List.of(name.name()), List.of(ALL_NAMESPACES));
        }
        DocumentFields fields = DocumentFields.of(spec, "spec", ResourceValidationException.FIELDS, SPEC_FIELDS);
        String protocol = fields.string("protocol", p -> ServiceProtocol.WIRE_NAMES.contains(p) ? null
                : quote(p) + " is not a protocol; use " + String.join(", ", ServiceProtocol.WIRE_NAMES));
        List<String> accounts = fields.distinctStrings("serviceAccounts", DocumentFields.Check.LABEL,
                DEFAULT_WHEN_EMPTY);
        List<String> exportTo = fields.distinctStrings("exportTo", ServiceSpec::exportEntryProblem,
                DEFAULT_WHEN_EMPTY);
        if (exportTo != null && exportTo.size() > 1 && exportTo.contains(ALL_NAMESPACES)) {
            throw ResourceValidationException.invalid(fields.path("exportTo") + "[" + exportTo.indexOf(ALL_NAMESPACES)
                    + "]", "'*' (every namespace) cannot be combined with other entries");
        }
        return new ServiceSpec(name, protocol == null ? DEFAULT_PROTOCOL : ServiceProtocol.of(protocol),
                accounts == null ? List.of(name.name()) : accounts,
                exportTo == null ? List.of(ALL_NAMESPACES) : exportTo);
    }

    private static String exportEntryProblem(String entry) {
        return entry.equals(ALL_NAMESPACES) || entry.equals(OWN_NAMESPACE) || DnsLabel.isValid(entry) ? null
                : quote(entry) + " is not '*' (every namespace), '.' (its own) or a namespace (RFC 1123 label)";
    }
}
