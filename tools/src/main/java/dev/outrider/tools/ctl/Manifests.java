package dev.outrider.tools.ctl;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.JacksonYAMLParseException;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.outrider.core.model.ResourceKind;
import dev.outrider.core.document.DocumentSyntax;
import dev.outrider.core.document.YamlAliasException;
import dev.outrider.core.policy.PolicyDocuments;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * The documents of a file given to {@code ctl apply -f} or {@code ctl delete -f}: multi-document YAML (or JSON
 * objects), split and read with Jackson, each resolved to the resource it addresses. A file that does not parse
 * yields nothing ({@link ManifestException}); a document that parses but cannot be addressed (no kind, unknown
 * kind, no name, no namespace) is one {@link Manifest} with a problem, so the others still go through.
 *
 * <p>Namespace of a namespaced document: {@code metadata.namespace}, else the {@code -n} namespace, else a
 * problem; both set and different is a problem too (the document would land elsewhere than asked). Pure
 * functions.
 */
final class Manifests {
    private static final YAMLMapper YAML = DocumentSyntax.yamlMapper();
    private static final JsonMapper JSON = DocumentSyntax.jsonMapper();

    private Manifests() {
    }

    /**
     * One document of a file.
     *
     * @param source    the file name (or {@code <stdin>})
     * @param index     1-based, counting every document of the file (empty ones too, as PolicyDocuments does)
     * @param line      where it starts
     * @param kind      null when {@code problem} is set
     * @param namespace null for MeshConfig or when {@code problem} is set
     * @param name      null when {@code problem} is set
     * @param document  the document as read (sent as JSON)
     * @param problem   why it cannot be sent; null when it can
     */
    record Manifest(String source, int index, int line, ResourceKind kind, String namespace, String name,
                    JsonNode document, String problem) {
        /** {@code authorizationpolicy shop/orders-allow}, {@code meshconfig default}. */
        String label() {
            return kind == null ? "" : kind.singular() + " " + (namespace == null ? name : namespace + "/" + name);
        }

        /** {@code policies.yaml: document 2 (line 14), authorizationpolicy shop/orders-allow}. */
        String where() {
            return source + ": document " + index + " (line " + line + ")" + (kind == null ? "" : ", " + label());
        }

        byte[] json() {
            try {
                return JSON.writeValueAsBytes(document);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** A file that is not YAML/JSON; nothing of it is used. */
    static final class ManifestException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        ManifestException(String message) {
            super(message);
        }
    }

    /**
     * The documents of every file in {@code paths}, in order: {@code -} is {@code stdin}, a directory stands for its
     * {@code *.yaml}, {@code *.yml} and {@code *.json} files (not recursive, by name, as the sidecar reads a policy
     * directory).
     *
     * @throws ManifestException when a file cannot be read or does not parse
     */
    static List<Manifest> load(List<String> paths, InputStream stdin, String defaultNamespace) {
        List<Manifest> all = new ArrayList<>();
        for (String path : paths) {
            if (path.equals("-")) {
                try {
                    all.addAll(read(new String(stdin.readAllBytes(), StandardCharsets.UTF_8), "<stdin>", defaultNamespace));
                } catch (IOException e) {
                    throw new ManifestException("<stdin>: cannot read: " + e.getMessage());
                }
                continue;
            }
            Path file = Path.of(path);
            List<Path> inputs;
            if (Files.isDirectory(file)) {
                try (Stream<Path> entries = Files.list(file)) {
                    inputs = entries.filter(PolicyDocuments::isPolicyFile)
                            .sorted(Comparator.comparing(p -> p.getFileName().toString())).toList();
                } catch (IOException e) {
                    throw new ManifestException(path + ": cannot list: " + e);
                }
            } else {
                inputs = List.of(file);
            }
            for (Path input : inputs) {
                String text;
                try {
                    text = Files.readString(input);
                } catch (NoSuchFileException e) {
                    throw new ManifestException(input + ": no such file");
                } catch (CharacterCodingException e) {
                    throw new ManifestException(input + ": not UTF-8 text");
                } catch (IOException e) {
                    throw new ManifestException(input + ": cannot read: " + e);
                }
                all.addAll(read(text, input.toString(), defaultNamespace));
            }
        }
        return List.copyOf(all);
    }

    /**
     * @param defaultNamespace the {@code -n} namespace, or null
     * @throws ManifestException when the text does not parse, or has a YAML anchor or alias
     */
    static List<Manifest> read(String text, String source, String defaultNamespace) {
        requireNonNull(text, "text");
        requireNonNull(source, "source");
        text = DocumentSyntax.withoutByteOrderMark(text);
        ObjectMapper mapper = text.stripLeading().startsWith("{") ? JSON : YAML;
        List<Manifest> manifests = new ArrayList<>();
        int index = 0;
        int line = 1;
        try (JsonParser parser = mapper.createParser(text)) {
            while (parser.nextToken() != null) {
                line = parser.currentTokenLocation().getLineNr();
                index++; // counted as PolicyDocuments counts them, so both name a document alike
                JsonNode node = mapper.readTree(parser);
                if (node == null || node.isNull() || node.isMissingNode()) {
                    continue; // an empty document (only comments, or "---" twice)
                }
                manifests.add(resolve(source, index, line, node, defaultNamespace));
            }
        } catch (YamlAliasException e) {
            throw new ManifestException(source + ": document " + e.document() + ": " + e.describe());
        } catch (JacksonYAMLParseException e) {
            throw new ManifestException(source + ": document " + Math.max(index, 1) + ": not YAML: " + DocumentSyntax.yamlProblem(e));
        } catch (StreamReadException e) {
            var at = e.getLocation();
            throw new ManifestException(source + ": document " + Math.max(index, 1) + ": not "
                    + (mapper == JSON ? "JSON" : "YAML") + ": " + e.getOriginalMessage()
                    + (at == null ? "" : " (line " + at.getLineNr() + ")"));
        } catch (IOException e) {
            throw new UncheckedIOException(e); // reading a String does no I/O
        }
        return List.copyOf(manifests);
    }

    private static Manifest resolve(String source, int index, int line, JsonNode node, String defaultNamespace) {
        if (!node.isObject()) {
            return problem(source, index, line, node, "a document must be a mapping with apiVersion, kind, metadata, spec");
        }
        JsonNode kindNode = node.get("kind");
        if (kindNode == null || !kindNode.isTextual()) {
            return problem(source, index, line, node, "kind: is required");
        }
        ResourceKind kind = ResourceKind.byKind(kindNode.asText()).orElse(null);
        if (kind == null) {
            return problem(source, index, line, node, "kind: '" + kindNode.asText() + "' is not one of "
                    + String.join(", ", kinds()));
        }
        JsonNode metadata = node.path("metadata");
        String name = text(metadata, "name");
        if (!kind.namespaced()) {
            return new Manifest(source, index, line, kind, null, name == null ? "default" : name, node, null);
        }
        if (name == null) {
            return problem(source, index, line, node, kind.kind() + ": metadata.name: is required");
        }
        String namespace = text(metadata, "namespace");
        String problem = null;
        if (namespace == null) {
            namespace = defaultNamespace;
            if (namespace == null) {
                problem = "metadata.namespace: not set; set it or use -n NAMESPACE";
            }
        } else if (defaultNamespace != null && !defaultNamespace.equals(namespace)) {
            problem = "metadata.namespace: '" + namespace + "' is not the namespace given with -n ('"
                    + defaultNamespace + "')";
        }
        return new Manifest(source, index, line, kind, namespace, name, node, problem);
    }

    private static Manifest problem(String source, int index, int line, JsonNode node, String problem) {
        return new Manifest(source, index, line, null, null, null, node, problem);
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value != null && value.isTextual() && !value.asText().isEmpty() ? value.asText() : null;
    }

    private static List<String> kinds() {
        List<String> kinds = new ArrayList<>();
        for (ResourceKind k : ResourceKind.values()) {
            kinds.add(k.kind());
        }
        return kinds;
    }
}
