package dev.outrider.controlplane.snapshot;

import dev.outrider.core.model.ServiceName;
import dev.outrider.core.policy.AuthorizationPolicy;
import dev.outrider.core.policy.PolicyDocument;
import dev.outrider.core.policy.PolicyDocuments;
import dev.outrider.core.policy.ServiceEntry;
import dev.outrider.core.policy.PolicyException;
import dev.outrider.core.snapshot.SnapshotEndpoint;
import dev.outrider.controlplane.model.MeshConfig;
import dev.outrider.controlplane.model.ResourceDocuments;
import dev.outrider.core.model.ResourceKind;
import dev.outrider.controlplane.model.ServiceSpec;
import dev.outrider.controlplane.model.SidecarSelection;
import dev.outrider.controlplane.model.SidecarSpec;
import dev.outrider.controlplane.ca.WorkloadIdentity;
import dev.outrider.controlplane.registry.Registration;
import dev.outrider.controlplane.registry.ServiceRegistry;
import dev.outrider.controlplane.store.ResourceKey;
import dev.outrider.controlplane.store.Store;
import dev.outrider.controlplane.store.StoreReader;
import dev.outrider.controlplane.store.StoredResource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * What each workload sees (docs/control-plane.md, "Snapshots"): the policies of its namespace and of the mesh's root
 * namespace; the ServiceEntries exported to its namespace (narrowed by a Sidecar's egress hosts as services are),
 * appended to the policy text with the AuthorizationPolicies whose targetRefs name them; and the live endpoints, each with its Service's protocol, of every Service exported to its namespace
 * and, when a Sidecar applies to it ({@link SidecarSelection}), named by that Sidecar's egress hosts. The content
 * depends on the workload's scope only (its namespace and the egress hosts in force for it), so it is computed once
 * per scope, however many workloads share it; the hub signs it per workload.
 *
 * <p>Each stored policy is checked again with the sidecar's reader before it goes out (results cached per
 * resource version), so a document the current reader refuses (a damaged store, or one accepted by an older
 * control plane) is left out and logged rather than making every snapshot of its namespace unusable. A stored
 * Sidecar that cannot be read is left out the same way (its workloads then get what they would without it). An
 * endpoint goes out only while its registering identity is still allowed by its Service.
 *
 * <p>Confined to the hub thread.
 */
final class SnapshotContents {
    private static final Logger log = LoggerFactory.getLogger(SnapshotContents.class);
    private static final List<ResourceKind> POLICY_KINDS = List.of(ResourceKind.AUTHORIZATION_POLICY,
            ResourceKind.REQUEST_AUTHENTICATION, ResourceKind.RATE_LIMIT_POLICY, ResourceKind.PEER_AUTHENTICATION);

    /** One scope's view; equal contents mean nothing to issue. */
    record Content(String policies, List<SnapshotEndpoint> endpoints) {
        Content {
            requireNonNull(policies, "policies");
            endpoints = List.copyOf(endpoints);
        }
    }

    /**
     * What a workload's content depends on: its namespace, and the egress hosts in force for it ("." resolved,
     * sorted, distinct), or null when no Sidecar narrows it (every service exported to the namespace).
     */
    record Scope(String namespace, List<SidecarSpec.Host> hosts) {
        static Scope of(String namespace, Optional<SidecarSpec> sidecar) {
            List<SidecarSpec.Host> hosts = sidecar.map(SidecarSpec::hosts).orElse(null);
            if (hosts == null) {
                return new Scope(namespace, null);
            }
            return new Scope(namespace, hosts.stream().map(h -> h.resolve(namespace)).distinct().sorted().toList());
        }

        boolean calls(ServiceName service) {
            if (hosts == null) {
                return true;
            }
            for (SidecarSpec.Host host : hosts) {
                if (host.matches(service)) {
                    return true;
                }
            }
            return false;
        }

        /** Whether the egress hosts name one of the entry's hosts ({@code NAMESPACE/HOST}), or there are none. */
        boolean calls(ServiceEntry entry) {
            if (hosts == null) {
                return true;
            }
            for (SidecarSpec.Host host : hosts) {
                for (String h : entry.hosts()) {
                    if (host.matchesHost(entry.metadata().namespace(), h)) {
                        return true;
                    }
                }
            }
            return false;
        }
    }

    /**
     * A workload's content and the greatest store version among what it was compiled from (every stored policy of
     * its namespace and the root namespace, the MeshConfig, every Service and Sidecar, the registrations in it):
     * with reads at one revision, two contents that differ have a change between them at a version above the
     * older one's inputs, which is what {@link SnapshotHub} labels replicas' snapshots with.
     */
    record Compiled(Content content, long inputsVersion) {
    }

    /** A stored policy or ServiceEntry at one version, as the sidecar's reader read it: null when it refused it. */
    private record Checked(long version, PolicyDocument document) {
        boolean valid() {
            return document != null;
        }
    }

    /** A ServiceEntry that passed the reader, its stored JSON, and the AuthorizationPolicies targeting it. */
    private record Entry(ServiceEntry entry, StoredResource stored, List<StoredResource> targeting) {
    }

    /** A stored Sidecar at one version: its spec, or null when it cannot be read (logged once per version). */
    private record ParsedSidecar(long version, SidecarSpec spec) {
    }

    private final Store store;
    private final ServiceRegistry registry;
    /** Whether each policy's stored version passed the sidecar's reader; only policies still stored are kept. */
    private final Map<ResourceKey, Checked> checked = new HashMap<>();
    /** Each stored Sidecar, read once per version; only Sidecars still stored are kept. */
    private final Map<ResourceKey, ParsedSidecar> sidecars = new HashMap<>();
    /**
     * The content last computed for each scope in use: a content equal to it is handed out as this same instance,
     * so the hub's comparison of a workload's content with what it was issued is a reference check.
     */
    private final Map<Scope, Content> previous = new HashMap<>();

    SnapshotContents(Store store, ServiceRegistry registry) {
        this.store = requireNonNull(store, "store");
        this.registry = requireNonNull(registry, "registry");
    }

    /**
     * The content of each of {@code workloads}, as of now: resources from the store, registrations from the
     * registry's memory. Workloads of one scope get the same instance.
     */
    Map<WorkloadIdentity, Compiled> compute(Collection<WorkloadIdentity> workloads) {
        List<ServiceRegistry.StoredRegistration> live = new ArrayList<>();
        for (Registration r : registry.live()) {
            live.add(new ServiceRegistry.StoredRegistration(r, 0));
        }
        return compute(workloads, store, live);
    }

    /**
     * As above, everything read from {@code source} (a store as it was at one revision), registrations included,
     * so the content is exactly that of the store at that revision.
     */
    Map<WorkloadIdentity, Compiled> compute(Collection<WorkloadIdentity> workloads, StoreReader source) {
        return compute(workloads, source, ServiceRegistry.stored(source));
    }

    private Map<WorkloadIdentity, Compiled> compute(Collection<WorkloadIdentity> workloads, StoreReader source,
                                                    List<ServiceRegistry.StoredRegistration> live) {
        long[] global = new long[1]; // the greatest version among the MeshConfig, Services and Sidecars read
        Optional<StoredResource> meshConfig = source.get(MeshConfig.KEY);
        String root = meshConfig.map(MeshConfig::of).orElse(MeshConfig.DEFAULTS).rootNamespace();
        meshConfig.ifPresent(m -> global[0] = Math.max(global[0], m.resourceVersion()));
        Set<String> namespaces = new HashSet<>();
        for (WorkloadIdentity w : workloads) {
            namespaces.add(w.namespace());
        }
        Map<String, Long> policyVersions = new HashMap<>();
        Map<String, List<StoredResource>> policies = policiesByNamespace(source, namespaces, root, policyVersions);
        Map<ServiceName, List<ServiceRegistry.StoredRegistration>> registrations = new HashMap<>();
        for (ServiceRegistry.StoredRegistration r : live) {
            registrations.computeIfAbsent(r.registration().service(), s -> new ArrayList<>()).add(r);
        }
        List<ServiceSpec> services = services(source, global);
        SidecarSelection selection = new SidecarSelection(sidecars(source, global), root);
        List<Entry> entries = serviceEntries(source, global);
        Map<String, String> policyTexts = new HashMap<>();
        Map<Scope, Compiled> byScope = new HashMap<>();
        Map<WorkloadIdentity, Compiled> contents = new HashMap<>();
        for (WorkloadIdentity w : workloads) {
            Scope scope = Scope.of(w.namespace(), selection.applying(w.namespace(), w.serviceAccount()));
            Compiled compiled = byScope.computeIfAbsent(scope, s -> {
                String text = policyTexts.computeIfAbsent(s.namespace(), namespace -> {
                    List<StoredResource> visible = new ArrayList<>(policies.getOrDefault(namespace, List.of()));
                    if (!namespace.equals(root)) {
                        visible.addAll(policies.getOrDefault(root, List.of()));
                    }
                    return ResourceDocuments.policyText(visible);
                });
                long[] inputs = {Math.max(global[0], Math.max(policyVersions.getOrDefault(s.namespace(), 0L),
                        policyVersions.getOrDefault(root, 0L)))};
                Content fresh = new Content(text + entriesText(s, root, entries),
                        endpoints(s, services, registrations, inputs));
                Content last = previous.get(s);
                return new Compiled(fresh.equals(last) ? last : fresh, inputs[0]);
            });
            contents.put(w, compiled);
        }
        previous.clear();
        byScope.forEach((scope, compiled) -> previous.put(scope, compiled.content()));
        return contents;
    }

    /**
     * Every stored ServiceEntry the sidecar's reader accepts, with the AuthorizationPolicies of its namespace whose
     * targetRefs name it; {@code greatestVersion} gets every ServiceEntry's version and every AuthorizationPolicy's of
     * a namespace holding one.
     */
    private List<Entry> serviceEntries(StoreReader source, long[] greatestVersion) {
        List<StoredResource> stored = source.list(ResourceKind.SERVICE_ENTRY.kind(), null);
        if (stored.isEmpty()) {
            return List.of();
        }
        Set<String> namespaces = new HashSet<>();
        for (StoredResource r : stored) {
            namespaces.add(r.key().namespace());
        }
        List<AuthorizationPolicy> targeting = new ArrayList<>();
        Map<AuthorizationPolicy, StoredResource> storedPolicy = new HashMap<>();
        for (StoredResource policy : source.list(ResourceKind.AUTHORIZATION_POLICY.kind(), null)) {
            if (namespaces.contains(policy.key().namespace())) {
                greatestVersion[0] = Math.max(greatestVersion[0], policy.resourceVersion());
                if (check(policy).document() instanceof AuthorizationPolicy p && p.targetsServiceEntries()) {
                    targeting.add(p);
                    storedPolicy.put(p, policy);
                }
            }
        }
        List<Entry> entries = new ArrayList<>();
        for (StoredResource r : stored) {
            greatestVersion[0] = Math.max(greatestVersion[0], r.resourceVersion());
            if (check(r).document() instanceof ServiceEntry entry) {
                List<StoredResource> policies = new ArrayList<>();
                for (AuthorizationPolicy p : targeting) {
                    if (p.targets(r.key().namespace(), r.key().name())) {
                        policies.add(storedPolicy.get(p));
                    }
                }
                entries.add(new Entry(entry, r, policies));
            }
        }
        return entries;
    }

    /**
     * The ServiceEntries the scope sees (exported to its namespace and named by its egress hosts, if any), and the
     * AuthorizationPolicies that target them from namespaces whose policies the scope's text does not already carry
     * (every policy of the scope's namespace and the root namespace is in it), as text to append to the policies.
     */
    private static String entriesText(Scope scope, String root, List<Entry> entries) {
        List<StoredResource> visible = new ArrayList<>();
        Set<ResourceKey> added = new HashSet<>();
        for (Entry e : entries) {
            if (!e.entry().exportedTo(scope.namespace()) || !scope.calls(e.entry())) {
                continue;
            }
            visible.add(e.stored());
            for (StoredResource policy : e.targeting()) {
                String ns = policy.key().namespace();
                if (!ns.equals(scope.namespace()) && !ns.equals(root) && added.add(policy.key())) {
                    visible.add(policy);
                }
            }
        }
        return ResourceDocuments.policyText(visible);
    }

    /** Every stored Sidecar that can be read. */
    private List<SidecarSpec> sidecars(StoreReader source, long[] greatestVersion) {
        List<SidecarSpec> specs = new ArrayList<>();
        Set<ResourceKey> stored = new HashSet<>();
        for (StoredResource sidecar : source.list(ResourceKind.SIDECAR.kind(), null)) {
            stored.add(sidecar.key());
            greatestVersion[0] = Math.max(greatestVersion[0], sidecar.resourceVersion());
            ParsedSidecar parsed = sidecars.get(sidecar.key());
            if (parsed == null || parsed.version() != sidecar.resourceVersion()) {
                SidecarSpec spec;
                try {
                    spec = SidecarSpec.of(sidecar);
                } catch (IllegalStateException e) {
                    log.warn("stored sidecar {} at version {} is left out of snapshots: {}", sidecar.key(),
                            sidecar.resourceVersion(), e.getMessage());
                    spec = null;
                }
                parsed = new ParsedSidecar(sidecar.resourceVersion(), spec);
                sidecars.put(sidecar.key(), parsed);
            }
            if (parsed.spec() != null) {
                specs.add(parsed.spec());
            }
        }
        sidecars.keySet().retainAll(stored);
        return specs;
    }

    /** Valid policies by namespace; {@code versions} gets the greatest version of every policy of a namespace. */
    private Map<String, List<StoredResource>> policiesByNamespace(StoreReader source, Set<String> namespaces,
                                                                  String root, Map<String, Long> versions) {
        Map<String, List<StoredResource>> byNamespace = new HashMap<>();
        Set<ResourceKey> stored = new HashSet<>();
        for (ResourceKind kind : POLICY_KINDS) {
            for (StoredResource policy : source.list(kind.kind(), null)) {
                String namespace = policy.key().namespace();
                if (!namespaces.contains(namespace) && !namespace.equals(root)) {
                    continue;
                }
                stored.add(policy.key());
                versions.merge(namespace, policy.resourceVersion(), Math::max);
                if (valid(policy)) {
                    byNamespace.computeIfAbsent(namespace, n -> new ArrayList<>()).add(policy);
                }
            }
        }
        for (ResourceKind kind : List.of(ResourceKind.SERVICE_ENTRY, ResourceKind.AUTHORIZATION_POLICY)) {
            for (StoredResource r : source.list(kind.kind(), null)) {
                stored.add(r.key()); // ServiceEntries and the policies targeting them are checked with them
            }
        }
        checked.keySet().retainAll(stored);
        return byNamespace;
    }

    private boolean valid(StoredResource policy) {
        return check(policy).valid();
    }

    /** The stored document as the sidecar's reader reads it, once per version; logged when refused. */
    private Checked check(StoredResource policy) {
        Checked c = checked.get(policy.key());
        if (c == null || c.version() != policy.resourceVersion()) {
            PolicyDocument document;
            try {
                document = PolicyDocuments.parse(new String(policy.document(), StandardCharsets.UTF_8),
                        policy.key().toString()).getFirst();
            } catch (PolicyException | IllegalArgumentException | java.util.NoSuchElementException e) {
                log.warn("stored policy {} at version {} is left out of snapshots: {}", policy.key(),
                        policy.resourceVersion(), e.getMessage());
                document = null;
            }
            c = new Checked(policy.resourceVersion(), document);
            checked.put(policy.key(), c);
        }
        return c;
    }

    /** Every stored Service, ordered by namespace and name; a damaged one is logged and left out. */
    private List<ServiceSpec> services(StoreReader source, long[] greatestVersion) {
        List<ServiceSpec> services = new ArrayList<>();
        for (StoredResource service : source.list(ResourceKind.SERVICE.kind(), null)) {
            greatestVersion[0] = Math.max(greatestVersion[0], service.resourceVersion());
            try {
                services.add(ServiceSpec.of(service));
            } catch (IllegalStateException e) {
                log.warn("stored service {} is left out of snapshots: {}", service.key(), e.getMessage());
            }
        }
        return services;
    }

    /**
     * The endpoints of the services exported to the scope's namespace that it calls, ordered by service (namespace,
     * name), then instance; an address listed once per service, with the service's protocol (so a change of it
     * changes the content).
     */
    private static List<SnapshotEndpoint> endpoints(Scope scope, List<ServiceSpec> services,
                                                    Map<ServiceName, List<ServiceRegistry.StoredRegistration>> registrations,
                                                    long[] greatestVersion) {
        Map<String, SnapshotEndpoint> endpoints = new LinkedHashMap<>();
        for (ServiceSpec service : services) {
            if (!service.exportedTo(scope.namespace()) || !scope.calls(service.name())) {
                continue;
            }
            for (ServiceRegistry.StoredRegistration stored : registrations.getOrDefault(service.name(), List.of())) {
                Registration r = stored.registration();
                String account = r.identity().serviceAccount();
                if (account != null && service.name().namespace().equals(r.identity().namespace())
                        && service.allowsServiceAccount(account)) {
                    greatestVersion[0] = Math.max(greatestVersion[0], stored.version());
                    endpoints.putIfAbsent(r.service() + " " + r.address(), r.endpoint(service.protocol()));
                }
            }
        }
        return List.copyOf(endpoints.values());
    }
}
