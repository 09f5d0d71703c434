package dev.outrider.core.policy;

import java.util.Map;

import static java.util.Objects.requireNonNull;

/**
 * Kubernetes-style metadata of a policy document: name and namespace identify it; annotations carry
 * options such as {@code outrider.dev/dry-run: "true"} (Istio's {@code istio.io/dry-run} is accepted too).
 * A document in the mesh's root namespace applies to every workload in the mesh.
 */
public record ObjectMeta(String name, String namespace, Map<String, String> annotations) {
    public static final String DRY_RUN = "outrider.dev/dry-run";
    public static final String ISTIO_DRY_RUN = "istio.io/dry-run";

    public ObjectMeta {
        requireNonNull(name, "name");
        requireNonNull(namespace, "namespace");
        annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
    }

    /** Dry run: evaluate, log and count, do not enforce. */
    public boolean dryRun() {
        return "true".equalsIgnoreCase(annotations.get(DRY_RUN)) || "true".equalsIgnoreCase(annotations.get(ISTIO_DRY_RUN));
    }

    /** {@code namespace/name}, as policies are named in logs and errors. */
    public String id() {
        return namespace + "/" + name;
    }
}
