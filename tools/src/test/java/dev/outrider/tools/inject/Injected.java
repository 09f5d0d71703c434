package dev.outrider.tools.inject;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Iterator;

/** Test helpers reading an injected document: its pod, its sidecar, and the document without what inject added. */
final class Injected {
    private Injected() {
    }

    /** The node holding the pod's {@code metadata} and {@code spec}. */
    static ObjectNode pod(JsonNode document) {
        if (!(PodTemplate.locate(document) instanceof PodTemplate.Workload(PodTemplate t))) {
            throw new AssertionError("not a workload: " + document.path("kind"));
        }
        return t.pod();
    }

    /** The {@code outrider-proxy} container, or null. */
    static ObjectNode sidecar(JsonNode document) {
        JsonNode spec = pod(document).path("spec");
        for (String list : new String[] {"initContainers", "containers"}) {
            for (JsonNode c : spec.path(list)) {
                if (SidecarContainer.CONTAINER.equals(c.path("name").asText())) {
                    return (ObjectNode) c;
                }
            }
        }
        return null;
    }

    /**
     * {@code after} without the sidecar container, the sidecar's volumes and the annotations inject adds, and without
     * the lists and mappings that became empty; the {@code kubectl.kubernetes.io/default-container} annotation is
     * removed only when {@code before} did not have it.
     */
    static JsonNode strip(JsonNode after, JsonNode before) {
        JsonNode copy = after.deepCopy();
        ObjectNode pod = pod(copy);
        ObjectNode spec = (ObjectNode) pod.get("spec");
        for (String list : new String[] {"initContainers", "containers", "volumes"}) {
            if (spec.get(list) instanceof ArrayNode items) {
                for (Iterator<JsonNode> it = items.iterator(); it.hasNext(); ) {
                    String name = it.next().path("name").asText();
                    if (name.equals(SidecarContainer.CONTAINER) || SidecarContainer.VOLUMES.contains(name)) {
                        it.remove();
                    }
                }
                if (items.isEmpty()) {
                    spec.remove(list);
                }
            }
        }
        if (pod.get("metadata") instanceof ObjectNode metadata
                && metadata.get("annotations") instanceof ObjectNode annotations) {
            annotations.remove(SidecarContainer.INJECTED_ANNOTATION);
            if (!pod(before).path("metadata").path("annotations").has(SidecarContainer.DEFAULT_CONTAINER_ANNOTATION)) {
                annotations.remove(SidecarContainer.DEFAULT_CONTAINER_ANNOTATION);
            }
            if (annotations.isEmpty()) {
                metadata.remove("annotations");
            }
            if (metadata.isEmpty()) {
                pod.remove("metadata");
            }
        }
        return copy;
    }
}
