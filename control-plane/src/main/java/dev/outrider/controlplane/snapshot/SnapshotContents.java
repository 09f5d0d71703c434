package dev.outrider.controlplane.snapshot;

import dev.outrider.core.model.ServiceName;
import dev.outrider.core.policy.PolicyDocuments;
import dev.outrider.core.policy.PolicyException;
import dev.outrider.core.snapshot.SnapshotEndpoint;
import dev.outrider.controlplane.model.MeshConfig;
import dev.outrider.controlplane.model.ResourceDocuments;
import dev.outrider.core.model.ResourceKind;
import dev.outrider.controlplane.model.ServiceSpec;
import dev.outrider.controlplane.registry.Registration;
import dev.outrider.controlplane.registry.ServiceRegistry;
import dev.outrider.controlplane.store.ResourceKey;
import dev.outrider.controlplane.store.Store;
import dev.outrider.controlplane.store.StoredResource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * What the workloads of each namespace see (docs/control-plane.md, "Snapshots"): the policies of their namespace
 * and of the mesh's root namespace, and the live endpoints of every Service exported to their namespace, each
 * with its Service's protocol. The content depends on the namespace only; the hub signs it per workload.
 *
 * <p>Each stored policy is checked again with the sidecar's reader before it goes out (results cached per
 * resource version), so a document the current reader refuses (a damaged store, or one accepted by an older
 * control plane) is left out and logged rather than making every snapshot of its namespace unusable. An endpoint
 * goes out only while its registering identity is still allowed by its Service.
 *
 * <p>Confined to the hub thread.
 */
final class SnapshotContents {
    private static final Logger log = LoggerFactory.getLogger(SnapshotContents.class);
    private static final List<ResourceKind> POLICY_KINDS = List.of(ResourceKind.AUTHORIZATION_POLICY,
            ResourceKind.REQUEST_AUTHENTICATION, ResourceKind.RATE_LIMIT_POLICY);

    /** One namespace's view; equal contents mean nothing to issue. */
    record Content(String policies, List<SnapshotEndpoint> endpoints) {
        Content {
            requireNonNull(policies, "policies");
            endpoints = List.copyOf(endpoints);
        }
    }

    private record Checked(long version, boolean valid) {
    }

    private final Store store;
    private final ServiceRegistry registry;
    /** Whether each policy's stored version passed the sidecar's reader; only policies still stored are kept. */
    private final Map<ResourceKey, Checked> checked = new HashMap<>();

    SnapshotContents(Store store, ServiceRegistry registry) {
        this.store = requireNonNull(store, "store");
        this.registry = requireNonNull(registry, "registry");
    }

    /** The content of each of {@code namespaces}, as of now. */
    Map<String, Content> compute(Set<String> namespaces) {
        String root = MeshConfig.load(store).rootNamespace();
        Map<String, List<StoredResource>> policies = policiesByNamespace(namespaces, root);
        Map<ServiceName, List<Registration>> registrations = new HashMap<>();
        for (Registration r : registry.live()) {
            registrations.computeIfAbsent(r.service(), s -> new ArrayList<>()).add(r);
        }
        List<ServiceSpec> services = services();
        Map<String, Content> contents = new HashMap<>();
        for (String namespace : namespaces) {
            List<StoredResource> visible = new ArrayList<>(policies.getOrDefault(namespace, List.of()));
            if (!namespace.equals(root)) {
                visible.addAll(policies.getOrDefault(root, List.of()));
            }
            contents.put(namespace, new Content(ResourceDocuments.policyText(visible),
                    endpoints(namespace, services, registrations)));
        }
        return contents;
    }

    private Map<String, List<StoredResource>> policiesByNamespace(Set<String> namespaces, String root) {
        Map<String, List<StoredResource>> byNamespace = new HashMap<>();
        Set<ResourceKey> stored = new HashSet<>();
        for (ResourceKind kind : POLICY_KINDS) {
            for (StoredResource policy : store.list(kind.kind(), null)) {
                String namespace = policy.key().namespace();
                if (!namespaces.contains(namespace) && !namespace.equals(root)) {
                    continue;
                }
                stored.add(policy.key());
                if (valid(policy)) {
                    byNamespace.computeIfAbsent(namespace, n -> new ArrayList<>()).add(policy);
                }
            }
        }
        checked.keySet().retainAll(stored);
        return byNamespace;
    }

    private boolean valid(StoredResource policy) {
        Checked c = checked.get(policy.key());
        if (c == null || c.version() != policy.resourceVersion()) {
            boolean valid;
            try {
                PolicyDocuments.parse(new String(policy.document(), StandardCharsets.UTF_8), policy.key().toString());
                valid = true;
            } catch (PolicyException | IllegalArgumentException e) {
                log.warn("stored policy {} at version {} is left out of snapshots: {}", policy.key(),
                        policy.resourceVersion(), e.getMessage());
                valid = false;
            }
            c = new Checked(policy.resourceVersion(), valid);
            checked.put(policy.key(), c);
        }
        return c.valid();
    }

    /** Every stored Service, ordered by namespace and name; a damaged one is logged and left out. */
    private List<ServiceSpec> services() {
        List<ServiceSpec> services = new ArrayList<>();
        for (StoredResource service : store.list(ResourceKind.SERVICE.kind(), null)) {
            try {
                services.add(ServiceSpec.of(service));
            } catch (IllegalStateException e) {
                log.warn("stored service {} is left out of snapshots: {}", service.key(), e.getMessage());
            }
        }
        return services;
    }

    /**
     * Ordered by service (namespace, name), then instance; an address listed once per service, with the service's
     * protocol (so a change of it changes the content).
     */
    private static List<SnapshotEndpoint> endpoints(String namespace, List<ServiceSpec> services,
                                                    Map<ServiceName, List<Registration>> registrations) {
        Map<String, SnapshotEndpoint> endpoints = new LinkedHashMap<>();
        for (ServiceSpec service : services) {
            if (!service.exportedTo(namespace)) {
                continue;
            }
            for (Registration r : registrations.getOrDefault(service.name(), List.of())) {
                String account = r.identity().serviceAccount();
                if (account != null && service.name().namespace().equals(r.identity().namespace())
                        && service.allowsServiceAccount(account)) {
                    endpoints.putIfAbsent(r.service() + " " + r.address(), r.endpoint(service.protocol()));
                }
            }
        }
        return List.copyOf(endpoints.values());
    }
}
