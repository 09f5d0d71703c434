package dev.outrider.tools.inject;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import static java.util.Objects.requireNonNull;

/**
 * {@code outrider inject} without the I/O: manifest text in, injected manifest text and warnings out. Each workload
 * document (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Pod) gets the sidecar in its pod template
 * ({@link PodInjector}); every other document (Services, ConfigMaps, Lists, custom resources, other API versions)
 * is written back as it was read. Either every document is written or, when one has a problem, none is.
 */
public final class ManifestInjector {
    private ManifestInjector() {
    }

    /**
     * The result of one run.
     *
     * @param yaml     the manifest to write (empty when the input had no documents)
     * @param warnings one line each, naming the document, for stderr
     * @param injected how many pod templates got the sidecar
     */
    public record Result(String yaml, List<String> warnings, int injected) {
        public Result {
            requireNonNull(yaml, "yaml");
            warnings = List.copyOf(warnings);
        }
    }

    /**
     * @param source the file name, or {@code <stdin>}, as messages name it
     * @throws InjectException naming every document that cannot be read or injected
     */
    public static Result inject(String text, String source, InjectOptions options) {
        requireNonNull(text, "text");
        requireNonNull(source, "source");
        requireNonNull(options, "options");
        List<ManifestText.Document> documents = ManifestText.read(text, source);
        List<JsonNode> out = new ArrayList<>(documents.size());
        List<String> warnings = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        Map<PodInjector.Status, Integer> counts = new EnumMap<>(PodInjector.Status.class);
        for (ManifestText.Document d : documents) {
            JsonNode node = d.node();
            String where = source + ": document " + d.index() + " (line " + d.line() + ")" + label(node);
            try {
                switch (PodTemplate.locate(node)) {
                    case PodTemplate.Workload(PodTemplate t) -> {
                        PodInjector.Outcome outcome = PodInjector.inject(node, options);
                        counts.merge(outcome.status(), 1, Integer::sum);
                        for (String w : outcome.warnings()) {
                            warnings.add(where + ": " + w);
                        }
                        node = outcome.document();
                    }
                    case PodTemplate.OtherVersion v -> warnings.add(where + ": " + v.kind() + " " + v.apiVersion()
                            + " passed through, not injected (outrider inject reads " + v.kind() + " " + v.expected()
                            + ")");
                    case PodTemplate.Other o -> {
                        if (isListOfWorkloads(node)) {
                            warnings.add(where + ": kind List passed through, not injected (its items are not "
                                    + "read; give the items as documents separated by ---)");
                        }
                    }
                }
            } catch (IllegalArgumentException e) {
                problems.add(where + ": " + e.getMessage());
            }
            out.add(node);
        }
        if (!problems.isEmpty()) {
            throw new InjectException(problems);
        }
        if (counts.isEmpty() && !documents.isEmpty()) {
            warnings.add(source + ": no Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob or Pod to inject; "
                    + "the documents are passed through");
        }
        return new Result(ManifestText.write(out), warnings, counts.getOrDefault(PodInjector.Status.INJECTED, 0));
    }

    /**
     * {@code , Deployment shop/orders}; {@code , Pod orders} when the document has no namespace; {@code , Job} when
     * it has no name; empty when it has no kind.
     */
    private static String label(JsonNode node) {
        String kind = PodTemplate.text(node.get("kind"));
        if (kind == null) {
            return "";
        }
        JsonNode metadata = node.path("metadata");
        String namespace = PodTemplate.text(metadata.get("namespace"));
        String name = PodTemplate.text(metadata.get("name"));
        return ", " + kind + (name == null ? "" : " " + (namespace == null ? name : namespace + "/" + name));
    }

    private static boolean isListOfWorkloads(JsonNode node) {
        if (!"List".equals(PodTemplate.text(node.get("kind"))) || !node.path("items").isArray()) {
            return false;
        }
        for (JsonNode item : node.path("items")) {
            try {
                if (!(PodTemplate.locate(item) instanceof PodTemplate.Other)) {
                    return true;
                }
            } catch (IllegalArgumentException e) {
                return true; // a workload kind, malformed
            }
        }
        return false;
    }
}
