package dev.outrider.tools.inject;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;
import java.util.Map;

import static java.util.Objects.requireNonNull;

/**
 * Where the pod of a workload document is: {@code spec.template} of a Deployment, StatefulSet, DaemonSet,
 * ReplicaSet or Job, {@code spec.jobTemplate.spec.template} of a CronJob, the document itself for a Pod. Only
 * the API versions Kubernetes serves today (apps/v1, batch/v1, v1) are workloads here.
 *
 * @param document the whole document
 * @param kind     the document's kind
 * @param name     its {@code metadata.name}, or null
 * @param path     the pod's path in the document ({@code spec.template}; empty for a Pod), for messages
 * @param pod      the node holding the pod's {@code metadata} and {@code spec}
 * @param outer    the metadata nodes around the pod's, innermost first (the CronJob's job template, the workload)
 */
record PodTemplate(ObjectNode document, String kind, String name, String path, ObjectNode pod, List<JsonNode> outer) {
    /** Kind → the API version it is read in. */
    private static final Map<String, String> API_VERSIONS = Map.of(
            "Pod", "v1",
            "Deployment", "apps/v1",
            "StatefulSet", "apps/v1",
            "DaemonSet", "apps/v1",
            "ReplicaSet", "apps/v1",
            "Job", "batch/v1",
            "CronJob", "batch/v1");

    PodTemplate {
        requireNonNull(document, "document");
        requireNonNull(kind, "kind");
        requireNonNull(path, "path");
        requireNonNull(pod, "pod");
        outer = List.copyOf(outer);
    }

    /** What a document is to inject. */
    sealed interface Located permits Workload, OtherVersion, Other {
    }

    /** A workload whose pod can be injected. */
    record Workload(PodTemplate template) implements Located {
    }

    /** A workload kind in an API version outrider inject does not read ({@code extensions/v1beta1}). */
    record OtherVersion(String kind, String apiVersion, String expected) implements Located {
    }

    /** Anything else: passed through as it is. */
    record Other() implements Located {
    }

    /**
     * Finds the pod of {@code document}.
     *
     * @throws IllegalArgumentException when a workload of a known kind and version has no pod template where
     *                                  Kubernetes requires one (the message names the path)
     */
    static Located locate(JsonNode document) {
        if (!(document instanceof ObjectNode doc)) {
            return new Other();
        }
        String kind = text(doc.get("kind"));
        String apiVersion = text(doc.get("apiVersion"));
        String expected = kind == null ? null : API_VERSIONS.get(kind);
        if (expected == null) {
            return new Other();
        }
        if (!expected.equals(apiVersion)) {
            return new OtherVersion(kind, apiVersion, expected);
        }
        JsonNode metadata = doc.path("metadata");
        String name = text(metadata.get("name"));
        return new Workload(switch (kind) {
            case "Pod" -> new PodTemplate(doc, kind, name, "", doc, List.of());
            case "CronJob" -> {
                ObjectNode jobTemplate = object(doc, "spec.jobTemplate");
                yield new PodTemplate(doc, kind, name, "spec.jobTemplate.spec.template",
                        object(doc, "spec.jobTemplate.spec.template"), List.of(jobTemplate.path("metadata"), metadata));
            }
            default -> new PodTemplate(doc, kind, name, "spec.template", object(doc, "spec.template"), List.of(metadata));
        });
    }

    /** {@code spec.template.spec}, or {@code spec} for a Pod. */
    String at(String field) {
        return path.isEmpty() ? field : path + "." + field;
    }

    /** The pod's {@code spec}. */
    ObjectNode spec() {
        return object(pod, "spec", at("spec"));
    }

    /** The node at a dotted path below {@code root}, which must be a mapping. */
    private static ObjectNode object(ObjectNode root, String dotted) {
        return object(root, dotted, dotted);
    }

    private static ObjectNode object(ObjectNode root, String dotted, String shownAs) {
        JsonNode n = root;
        for (String part : dotted.split("\\.")) {
            n = n.path(part);
        }
        if (!(n instanceof ObjectNode o)) {
            throw new IllegalArgumentException(shownAs + ": " + (n.isMissingNode() || n.isNull() ? "is required"
                    : "must be a mapping"));
        }
        return o;
    }

    static String text(JsonNode n) {
        return n != null && n.isTextual() && !n.asText().isEmpty() ? n.asText() : null;
    }
}
