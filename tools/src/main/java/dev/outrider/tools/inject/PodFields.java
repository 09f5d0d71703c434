package dev.outrider.tools.inject;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * Typed access to the fields of one pod template that injection reads and writes, each checked for the shape
 * Kubernetes requires; a wrong shape is an {@link IllegalArgumentException} naming the field's path
 * ({@code spec.template.spec.containers[0].ports: must be a list}).
 */
final class PodFields {
    private static final List<String> CONTAINER_LISTS = List.of("initContainers", "containers", "ephemeralContainers");

    private final PodTemplate template;

    PodFields(PodTemplate template) {
        this.template = requireNonNull(template, "template");
    }

    /** The pod's {@code metadata}, or a missing node (also for {@code metadata: null}). */
    JsonNode metadata() {
        return mapping(template.pod(), "metadata", template.at("metadata"));
    }

    /** The pod's annotations, or a missing node. */
    JsonNode annotations() {
        return mapping(metadata(), "annotations", template.at("metadata.annotations"));
    }

    /** The pod's annotations, created when missing ({@code metadata} first in the template, annotations last). */
    ObjectNode writableAnnotations() {
        ObjectNode pod = template.pod();
        if (metadata().isMissingNode()) {
            if (pod.has("metadata")) {
                pod.putObject("metadata"); // was null: replaced in place
            } else {
                PodInjector.putBefore(pod, "metadata", pod.objectNode(), "spec");
            }
        }
        ObjectNode m = (ObjectNode) pod.get("metadata");
        return annotations().isMissingNode() ? m.putObject("annotations") : (ObjectNode) m.get("annotations");
    }

    /** {@code parent.field} when a mapping, a missing node when absent or null; anything else is an error. */
    private static JsonNode mapping(JsonNode parent, String field, String path) {
        JsonNode n = parent.path(field);
        if (n.isNull()) {
            return MissingNode.getInstance();
        }
        if (!n.isMissingNode() && !n.isObject()) {
            throw new IllegalArgumentException(path + ": must be a mapping");
        }
        return n;
    }

    ObjectNode spec() {
        return template.spec();
    }

    /** {@code spec.containers}: a non-empty list. */
    ArrayNode containers() {
        ArrayNode c = array("containers");
        if (c == null || c.isEmpty()) {
            throw new IllegalArgumentException(template.at("spec.containers") + ": is required (a non-empty list)");
        }
        objects(c, template.at("spec.containers"));
        return c;
    }

    /** A list field of the pod's spec, or null when absent. */
    ArrayNode array(String field) {
        JsonNode n = spec().get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!(n instanceof ArrayNode a)) {
            throw new IllegalArgumentException(template.at("spec." + field) + ": must be a list");
        }
        return a;
    }

    /** The path of the {@code outrider-proxy} container, or null. */
    String sidecarPath() {
        for (String list : List.of("initContainers", "containers")) {
            List<ObjectNode> items = list.equals("containers") ? objects(containers(), template.at("spec.containers"))
                    : objects(array(list), template.at("spec." + list));
            for (int i = 0; i < items.size(); i++) {
                if (SidecarContainer.CONTAINER.equals(PodTemplate.text(items.get(i).get("name")))) {
                    return template.at("spec." + list + "[" + i + "]");
                }
            }
        }
        return null;
    }

    /**
     * Everything in the pod that uses a name or port of the sidecar: volumes, volume mounts, a StatefulSet's
     * volume claim templates (they become pod volumes), container port names (unique in a pod) and container
     * ports the sidecar listens on.
     */
    List<String> conflicts() {
        List<String> found = new ArrayList<>();
        String volumesPath = template.at("spec.volumes");
        List<ObjectNode> volumes = objects(array("volumes"), volumesPath);
        for (int i = 0; i < volumes.size(); i++) {
            String name = PodTemplate.text(volumes.get(i).get("name"));
            if (name != null && SidecarContainer.VOLUMES.contains(name)) {
                found.add("volume '" + name + "' (" + volumesPath + "[" + i + "])");
            }
        }
        JsonNode claims = template.document().path("spec").path("volumeClaimTemplates");
        if (template.kind().equals("StatefulSet") && claims.isArray()) {
            for (int i = 0; i < claims.size(); i++) {
                String name = PodTemplate.text(claims.get(i).path("metadata").get("name"));
                if (name != null && SidecarContainer.VOLUMES.contains(name)) {
                    found.add("volume claim template '" + name + "' (spec.volumeClaimTemplates[" + i + "])");
                }
            }
        }
        for (String list : CONTAINER_LISTS) {
            String listPath = template.at("spec." + list);
            List<ObjectNode> containers = objects(array(list), listPath);
            for (int i = 0; i < containers.size(); i++) {
                String at = listPath + "[" + i + "]";
                ObjectNode c = containers.get(i);
                List<ObjectNode> mounts = objects(list(c, "volumeMounts", at), at + ".volumeMounts");
                for (int j = 0; j < mounts.size(); j++) {
                    String name = PodTemplate.text(mounts.get(j).get("name"));
                    if (name != null && SidecarContainer.VOLUMES.contains(name)) {
                        found.add("volume mount '" + name + "' (" + at + ".volumeMounts[" + j + "])");
                    }
                }
                List<ObjectNode> ports = objects(list(c, "ports", at), at + ".ports");
                for (int j = 0; j < ports.size(); j++) {
                    String portAt = at + ".ports[" + j + "]";
                    String name = PodTemplate.text(ports.get(j).get("name"));
                    if (name != null && SidecarContainer.PORT_NAMES.contains(name)) {
                        found.add("port name '" + name + "' (" + portAt + ")");
                    }
                    JsonNode number = ports.get(j).get("containerPort");
                    if (number != null && number.canConvertToInt()
                            && SidecarContainer.PORTS_IN_USE.contains(number.intValue())) {
                        found.add("containerPort " + number.intValue() + " (" + portAt + ")");
                    }
                }
            }
        }
        return found;
    }

    /** {@code containers[0].ports[0].containerPort}, or {@code fallback} when the first container has no ports. */
    int firstContainerPort(int fallback) {
        String at = template.at("spec.containers[0]");
        List<ObjectNode> ports = objects(list((ObjectNode) containers().get(0), "ports", at), at + ".ports");
        if (ports.isEmpty()) {
            return fallback;
        }
        JsonNode number = ports.get(0).get("containerPort");
        if (number == null || !number.isIntegralNumber() || !number.canConvertToInt()
                || number.intValue() < 1 || number.intValue() > 65535) {
            throw new IllegalArgumentException(at + ".ports[0].containerPort: expected a port number (1 to 65535), got "
                    + (number == null ? "nothing" : number));
        }
        return number.intValue();
    }

    private static ArrayNode list(ObjectNode parent, String field, String parentPath) {
        JsonNode n = parent.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!(n instanceof ArrayNode a)) {
            throw new IllegalArgumentException(parentPath + "." + field + ": must be a list");
        }
        return a;
    }

    /** The items of a list of mappings (none for null). */
    private static List<ObjectNode> objects(ArrayNode list, String path) {
        if (list == null) {
            return List.of();
        }
        List<ObjectNode> items = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof ObjectNode o)) {
                throw new IllegalArgumentException(path + "[" + i + "]: must be a mapping");
            }
            items.add(o);
        }
        return items;
    }
}
