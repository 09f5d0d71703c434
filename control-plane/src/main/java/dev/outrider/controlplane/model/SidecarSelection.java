package dev.outrider.controlplane.model;

import dev.outrider.core.model.ResourceKind;
import dev.outrider.controlplane.store.StoredResource;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static dev.outrider.core.document.DocumentFields.quote;
import static java.util.Objects.requireNonNull;

/**
 * Which Sidecar applies to a workload (docs/control-plane.md, "Sidecar"), decided as Istio decides it:
 * <ol>
 *   <li>a Sidecar of the workload's namespace whose {@code workloadSelector} names its service account;</li>
 *   <li>else the Sidecar of its namespace without a {@code workloadSelector};</li>
 *   <li>else the Sidecar without a {@code workloadSelector} of the mesh's root namespace (the mesh's default);</li>
 *   <li>else none: the workload gets every service exported to its namespace.</li>
 * </ol>
 * A Sidecar with a selector applies only in its own namespace, also in the root namespace. Where two Sidecars compete
 * at one step, the one whose name sorts first applies. The API refuses a write that would make two compete
 * ({@link #requireNoOverlap}), but it checks against what is stored before it writes: two writes racing (through two
 * replicas) can both pass, and an imported store is not checked. Istio takes the oldest; the store keeps no creation
 * time, and the name order is the same on every replica and after every restart.
 *
 * <p>Immutable and thread-safe.
 */
public final class SidecarSelection {
    private static final Comparator<SidecarSpec> BY_NAME = Comparator.comparing(s -> s.key().name());

    /** Per namespace, sorted by name. */
    private final Map<String, List<SidecarSpec>> byNamespace = new HashMap<>();
    private final String rootNamespace;

    /**
     * @param sidecars      every Sidecar of the mesh
     * @param rootNamespace the MeshConfig's {@code rootNamespace}
     */
    public SidecarSelection(Collection<SidecarSpec> sidecars, String rootNamespace) {
        requireNonNull(sidecars, "sidecars");
        this.rootNamespace = requireNonNull(rootNamespace, "rootNamespace");
        for (SidecarSpec s : sidecars) {
            byNamespace.computeIfAbsent(s.key().namespace(), n -> new ArrayList<>()).add(s);
        }
        byNamespace.values().forEach(list -> list.sort(BY_NAME));
    }

    /** The Sidecar that applies to the workloads of {@code serviceAccount} in {@code namespace}; empty for none. */
    public Optional<SidecarSpec> applying(String namespace, String serviceAccount) {
        requireNonNull(serviceAccount, "serviceAccount");
        List<SidecarSpec> own = byNamespace.getOrDefault(requireNonNull(namespace, "namespace"), List.of());
        for (SidecarSpec s : own) {
            if (s.hasSelector() && s.serviceAccounts().contains(serviceAccount)) {
                return Optional.of(s);
            }
        }
        Optional<SidecarSpec> namespaceDefault = withoutSelector(own);
        return namespaceDefault.isPresent() ? namespaceDefault
                : withoutSelector(byNamespace.getOrDefault(rootNamespace, List.of()));
    }

    private static Optional<SidecarSpec> withoutSelector(List<SidecarSpec> sidecars) {
        for (SidecarSpec s : sidecars) {
            if (!s.hasSelector()) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }

    /**
     * Refuses a Sidecar about to be written when another Sidecar of its namespace already applies to a workload it
     * would apply to: both without a selector, or both naming one service account. Replacing a Sidecar is not a
     * conflict with itself; stored Sidecars that cannot be read (a damaged store) are not counted.
     *
     * @param written a validated Sidecar
     * @param stored  the stored Sidecars of its namespace
     * @throws ResourceValidationException naming {@code spec.workloadSelector} or the service account listed twice
     */
    public static void requireNoOverlap(ValidatedResource written, List<StoredResource> stored) {
        requireNonNull(written, "written");
        requireNonNull(stored, "stored");
        if (!written.key().kind().equals(ResourceKind.SIDECAR.kind())) {
            throw new IllegalArgumentException(written.key() + " is not a Sidecar");
        }
        SidecarSpec spec = SidecarSpec.read(written.key(), ResourceDocuments.readJson(written.json()).get("spec"));
        List<SidecarSpec> others = new ArrayList<>();
        for (StoredResource resource : stored) {
            if (resource.key().namespace().equals(written.key().namespace())
                    && resource.key().kind().equals(written.key().kind())
                    && !resource.key().equals(written.key())) {
                try {
                    others.add(SidecarSpec.of(resource));
                } catch (IllegalStateException damaged) {
                    // not in force either (SnapshotContents leaves it out)
                }
            }
        }
        others.sort(BY_NAME);
        for (SidecarSpec other : others) {
            String otherName = "Sidecar " + other.key().namespace() + "/" + other.key().name();
            if (!spec.hasSelector() && !other.hasSelector()) {
                throw ResourceValidationException.invalid("spec.workloadSelector", "absent, so this Sidecar would"
                        + " apply to every workload of namespace " + quote(spec.key().namespace()) + ", as " + otherName
                        + " does already; give one of them a workloadSelector, or change " + otherName + " instead");
            }
            for (int i = 0; i < spec.serviceAccounts().size(); i++) {
                String account = spec.serviceAccounts().get(i);
                if (other.serviceAccounts().contains(account)) {
                    throw ResourceValidationException.invalid("spec.workloadSelector.serviceAccounts[" + i + "]",
                            quote(account) + " is already selected by " + otherName + "; a workload gets one Sidecar,"
                                    + " so name its service account in one of them only");
                }
            }
        }
    }
}
