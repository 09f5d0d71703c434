package dev.outrider.tools.inject;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static java.util.Objects.requireNonNull;

/**
 * Injects the sidecar into one pod template, or says why not. The order of the decisions:
 * <ol>
 *   <li>{@code outrider.dev/inject: "false"} on the pod template (or, when the template does not set it, on the
 *       CronJob's job template or the workload): left as it is;</li>
 *   <li>an {@code outrider-proxy} container and the {@code outrider.dev/injected} annotation: already injected,
 *       left as it is (this is what makes injecting twice change nothing);</li>
 *   <li>{@code hostNetwork: true}: left as it is, with a warning (the sidecar would listen on the node);</li>
 *   <li>any of the sidecar's names (container, volumes, port names) or ports already used: an error;</li>
 *   <li>otherwise the container goes first (init containers, or containers with {@code --legacy-sidecar}), the
 *       volumes last, the annotation last.</li>
 * </ol>
 * Untouched fields keep their order; new ones go where kubectl users look for them ({@code initContainers} just
 * before {@code containers}). Pure: works on a copy of the document.
 */
final class PodInjector {
    private static final int DEFAULT_APP_PORT = 8080;

    private PodInjector() {
    }

    enum Status { INJECTED, ALREADY_INJECTED, OPTED_OUT, HOST_NETWORK }

    /**
     * What became of one pod template.
     *
     * @param document the document to write (the input itself unless {@code status} is INJECTED)
     * @param warnings for stderr, without the document's name (the caller prefixes it)
     */
    record Outcome(JsonNode document, Status status, List<String> warnings) {
        Outcome {
            requireNonNull(document, "document");
            requireNonNull(status, "status");
            warnings = List.copyOf(warnings);
        }
    }

    /**
     * @param document a workload document (see {@link PodTemplate#locate})
     * @throws IllegalArgumentException the conflict or malformed field, naming its path
     */
    static Outcome inject(JsonNode document, InjectOptions options) {
        requireNonNull(document, "document");
        requireNonNull(options, "options");
        JsonNode copy = document.deepCopy();
        if (!(PodTemplate.locate(copy) instanceof PodTemplate.Workload(PodTemplate t))) {
            throw new IllegalArgumentException("not a workload of a kind outrider inject reads");
        }
        PodFields pod = new PodFields(t);
        if (optedOut(t, pod)) {
            return new Outcome(document, Status.OPTED_OUT, List.of());
        }
        String existing = pod.sidecarPath();
        if (existing != null) {
            if (PodTemplate.text(pod.annotations().get(SidecarContainer.INJECTED_ANNOTATION)) == null) {
                throw new IllegalArgumentException("container '" + SidecarContainer.CONTAINER + "' (" + existing
                        + ") is already there, but the pod has no " + SidecarContainer.INJECTED_ANNOTATION
                        + " annotation: it was not added by outrider inject; rename it");
            }
            return new Outcome(document, Status.ALREADY_INJECTED, List.of());
        }
        if (pod.spec().path("hostNetwork").asBoolean(false)) {
            return new Outcome(document, Status.HOST_NETWORK, List.of(
                    "not injected: " + t.at("spec.hostNetwork") + " is true; the sidecar would listen on the node's "
                            + "ports 15006 and 15021 and its traffic would not be the pod's"));
        }
        List<String> conflicts = pod.conflicts();
        if (!conflicts.isEmpty()) {
            throw new IllegalArgumentException("already uses the sidecar's names or ports: "
                    + String.join("; ", conflicts) + " (rename them, or opt out with "
                    + SidecarContainer.INJECT_ANNOTATION + ": \"false\")");
        }
        String service = options.service() != null ? options.service() : service(t, pod);
        int appPort = options.appPort() != null ? options.appPort() : pod.firstContainerPort(DEFAULT_APP_PORT);
        ObjectNode container = SidecarContainer.container(options, service, appPort);
        List<String> warnings = new ArrayList<>();
        ObjectNode spec = pod.spec();
        if (options.legacySidecar()) {
            String app = PodTemplate.text(pod.containers().get(0).get("name"));
            pod.containers().insert(0, container);
            if (app != null && !pod.annotations().has(SidecarContainer.DEFAULT_CONTAINER_ANNOTATION)) {
                pod.writableAnnotations().put(SidecarContainer.DEFAULT_CONTAINER_ANNOTATION, app);
            }
            String restart = PodTemplate.text(spec.get("restartPolicy"));
            if ("Never".equals(restart) || "OnFailure".equals(restart)) {
                warnings.add("with --legacy-sidecar, a pod with restartPolicy " + restart + " does not complete on "
                        + "its own: the sidecar keeps running after the application exits");
            }
        } else {
            ArrayNode init = pod.array("initContainers");
            if (init == null) {
                init = spec.arrayNode();
                putBefore(spec, "initContainers", init, "containers");
            }
            init.insert(0, container);
        }
        ArrayNode volumes = pod.array("volumes");
        if (volumes == null) {
            volumes = spec.putArray("volumes");
        }
        volumes.addAll(SidecarContainer.volumes());
        pod.writableAnnotations().put(SidecarContainer.INJECTED_ANNOTATION, InjectOptions.VERSION);
        return new Outcome(copy, Status.INJECTED, warnings);
    }

    /** The innermost {@code outrider.dev/inject} annotation decides; only "true" and "false" are values. */
    private static boolean optedOut(PodTemplate t, PodFields pod) {
        List<JsonNode> metadata = new ArrayList<>();
        metadata.add(pod.metadata());
        metadata.addAll(t.outer());
        for (JsonNode m : metadata) {
            JsonNode value = m.path("annotations").get(SidecarContainer.INJECT_ANNOTATION);
            if (value == null) {
                continue;
            }
            if (value.isTextual() && (value.asText().equals("true") || value.asText().equals("false"))) {
                return value.asText().equals("false");
            }
            throw new IllegalArgumentException("annotation " + SidecarContainer.INJECT_ANNOTATION + ": expected \"true\" or "
                    + "\"false\" (a quoted string), got " + value);
        }
        return false;
    }

    /** Label app.kubernetes.io/name, else label app, else the workload's name. */
    private static String service(PodTemplate t, PodFields pod) {
        JsonNode labels = pod.metadata().path("labels");
        for (String label : List.of("app.kubernetes.io/name", "app")) {
            String value = PodTemplate.text(labels.get(label));
            if (value != null) {
                return value;
            }
        }
        if (t.name() != null) {
            return t.name();
        }
        throw new IllegalArgumentException("no service name: the pod has no label app.kubernetes.io/name or app "
                + "and the " + t.kind() + " no metadata.name; use --service");
    }

    /** Puts {@code key} into {@code node} just before {@code before} (at the end when there is no such key). */
    static void putBefore(ObjectNode node, String key, JsonNode value, String before) {
        if (!node.has(before)) {
            node.set(key, value);
            return;
        }
        Map<String, JsonNode> fields = new LinkedHashMap<>();
        node.properties().forEach(e -> {
            if (e.getKey().equals(before)) {
                fields.put(key, value);
            }
            fields.put(e.getKey(), e.getValue());
        });
        node.removeAll();
        node.setAll(fields);
    }
}
