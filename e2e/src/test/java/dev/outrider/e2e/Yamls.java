package dev.outrider.e2e;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.events.AliasEvent;
import org.yaml.snakeyaml.events.Event;
import org.yaml.snakeyaml.events.NodeEvent;

import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The YAML files of docker/ as trees, read by SnakeYAML (what Jackson's YAML support is built on) with
 * duplicate keys refused and anchors and merge keys resolved, as Compose and kubectl read them; and small
 * accessors that fail naming the path that is missing.
 */
final class Yamls {
    private Yamls() {
    }

    static List<Object> documents(Path file) throws IOException {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        List<Object> docs = new ArrayList<>();
        for (Object doc : new Yaml(options).loadAll(Files.readString(file))) {
            if (doc != null) {
                docs.add(doc);
            }
        }
        return docs;
    }

    /**
     * Whether the file uses an anchor ({@code &name}) or an alias ({@code *name}; merge keys use them), which
     * outrider inject refuses.
     */
    static boolean hasAnchorsOrAliases(Path file) throws IOException {
        for (Event e : new Yaml().parse(new StringReader(Files.readString(file)))) {
            if (e instanceof AliasEvent || e instanceof NodeEvent n && n.getAnchor() != null) {
                return true;
            }
        }
        return false;
    }

    /** The documents of {@code kind} (and {@code name}, when not null). */
    static List<Map<String, Object>> ofKind(List<Object> docs, String kind, String name) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Object d : docs) {
            Map<String, Object> m = map(d, "document");
            if (kind.equals(m.get("kind")) && (name == null || name.equals(at(m, "metadata.name")))) {
                out.add(m);
            }
        }
        return out;
    }

    static Map<String, Object> one(List<Object> docs, String kind, String name) {
        List<Map<String, Object>> found = ofKind(docs, kind, name);
        if (found.size() != 1) {
            throw new AssertionError("expected one " + kind + " " + name + ", found " + found.size());
        }
        return found.getFirst();
    }

    /** The value at a dotted path ({@code spec.template.spec}); an AssertionError names a missing step. */
    static Object at(Object root, String path) {
        Object node = root;
        String walked = "";
        for (String step : path.split("\\.")) {
            walked = walked.isEmpty() ? step : walked + "." + step;
            if (!(node instanceof Map<?, ?> m) || !m.containsKey(step)) {
                throw new AssertionError("no " + walked + " in " + root);
            }
            node = m.get(step);
        }
        return node;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o, String what) {
        if (!(o instanceof Map<?, ?>)) {
            throw new AssertionError(what + " is not a mapping: " + o);
        }
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Object o, String what) {
        if (!(o instanceof List<?>)) {
            throw new AssertionError(what + " is not a list: " + o);
        }
        return (List<Object>) o;
    }

    static String string(Object root, String path) {
        return Objects.toString(at(root, path));
    }
}
