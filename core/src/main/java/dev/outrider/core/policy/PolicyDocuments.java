package dev.outrider.core.policy;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.outrider.core.document.DocumentSyntax;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static java.util.Objects.requireNonNull;

/**
 * Reads policy documents: Kubernetes-style YAML (or JSON) in Istio's layout, validated once into the records
 * of this package. Any problem is a {@link PolicyException} naming the source, the document and the field.
 * The kinds are {@link AuthorizationPolicy}, {@link RequestAuthentication} and {@link PeerAuthentication} (Istio's,
 * under any of the apiVersions below) and {@link RateLimitPolicy} (Outrider's own, {@code outrider.dev/v1} only; its record
 * shows its layout).
 *
 * <pre>{@code
 * apiVersion: outrider.dev/v1          # or security.istio.io/v1, security.istio.io/v1beta1
 * kind: AuthorizationPolicy            # or RequestAuthentication, PeerAuthentication, or RateLimitPolicy (outrider.dev/v1 only)
 * metadata: {name: allow-frontend, namespace: shop, annotations: {outrider.dev/dry-run: "true"}}
 * spec:                                # absent = {}
 *   selector: {matchLabels: {app: orders}}
 *   action: ALLOW
 *   rules:
 *   - from: [{source: {principals: ["cluster.local/ns/shop/sa/frontend"]}}]
 *     to: [{operation: {methods: [GET], paths: ["/orders/*"]}}]
 *     when: [{key: "request.auth.claims[groups]", values: [admin]}]
 * }</pre>
 *
 * Not thread-confined; every call reads on the calling thread and shares no mutable state.
 */
public final class PolicyDocuments {
    /** Duplicate keys are refused by the parser, not silently resolved to the last one. */
    private static final YAMLMapper YAML = DocumentSyntax.yamlMapper();
    private static final JsonMapper JSON = DocumentSyntax.jsonMapper();

    private PolicyDocuments() {
    }

    /**
     * Parses and validates every document of {@code text}: YAML documents separated by {@code ---}, or, when the
     * text starts with <code>{"</code> (or <code>{}</code>), one or more JSON objects. Empty documents (nothing,
     * or only comments) are skipped. The same kind, namespace and name twice is refused.
     *
     * @param source names the text in errors (a file name, "request body")
     * @return the documents in order, immutable
     * @throws PolicyException on the first problem
     */
    public static List<PolicyDocument> parse(String text, String source) {
        text = DocumentSyntax.withoutByteOrderMark(requireNonNull(text, "text"));
        ErrorContext errors = new ErrorContext(requireNonNull(source, "source"));
        List<PolicyDocument> documents = new ArrayList<>();
        Map<String, String> seen = new HashMap<>();
        ObjectMapper mapper = isJson(text) ? JSON : YAML;
        try (JsonParser parser = mapper.createParser(text)) {
            int index = 0;
            while (true) {
                errors.document(null);
                if (parser.nextToken() == null) {
                    break;
                }
                index++;
                String position = "document " + index + " (line " + parser.currentTokenLocation().getLineNr() + ")";
                errors.document(position);
                JsonNode node = mapper.readTree(parser);
                if (node == null || node.isNull()) {
                    continue;
                }
                errors.document(node.isObject() ? DocumentReader.label(node, position) : position);
                PolicyDocument document = DocumentReader.read(node, errors);
                String previous = seen.putIfAbsent(key(document), position);
                if (previous != null) {
                    throw errors.fail("metadata.name", "already defined by " + previous);
                }
                documents.add(document);
            }
        } catch (StreamReadException e) {
            throw DocumentSyntax.parseFailure(e, errors);
        } catch (StreamConstraintsException e) {
            throw DocumentSyntax.parseFailure(e, errors);
        } catch (IOException e) {
            // Reading a String does no I/O; Jackson declares it for its other sources.
            throw new UncheckedIOException(e);
        }
        return List.copyOf(documents);
    }

    /**
     * Parses every {@code *.yaml}, {@code *.yml} and {@code *.json} file directly in {@code dir} (not
     * recursively; hidden files, such as the {@code ..data} links of a Kubernetes ConfigMap volume, skipped;
     * symbolic links to files followed), in order of file name. Errors name the file; the same kind,
     * namespace and name in two files is refused, naming both.
     *
     * @throws PolicyException on the first problem in a document
     * @throws UncheckedIOException when the directory or a file cannot be read
     */
    public static List<PolicyDocument> loadDirectory(Path dir) {
        requireNonNull(dir, "dir");
        List<Path> files;
        try (Stream<Path> entries = Files.list(dir)) {
            files = entries.filter(PolicyDocuments::isPolicyFile)
                    .sorted(Comparator.comparing(p -> p.getFileName().toString()))
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list policy directory " + dir, e);
        }
        List<PolicyDocument> documents = new ArrayList<>();
        Map<String, String> seen = new HashMap<>();
        for (Path file : files) {
            String name = file.getFileName().toString();
            for (PolicyDocument document : parse(read(file, name), name)) {
                String previous = seen.putIfAbsent(key(document), name);
                if (previous != null) {
                    throw new PolicyException(name, document.kind() + " " + document.metadata().id(),
                            "metadata.name", "already defined in " + previous);
                }
                documents.add(document);
            }
        }
        return List.copyOf(documents);
    }

    /** Whether {@link #loadDirectory} reads {@code file}: a visible regular {@code .yaml}, {@code .yml} or {@code .json} file. */
    public static boolean isPolicyFile(Path file) {
        String name = file.getFileName().toString();
        return !name.startsWith(".") && (name.endsWith(".yaml") || name.endsWith(".yml") || name.endsWith(".json"))
                && Files.isRegularFile(file);
    }

    private static String read(Path file, String name) {
        try {
            return Files.readString(file);
        } catch (CharacterCodingException e) {
            throw new PolicyException(name, null, "", "is not UTF-8 text");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read policy file " + file, e);
        }
    }

    /**
     * JSON when the text opens an object whose first key is quoted ({@code {"}) or that is empty
     * ({@code {}}): the JSON parser then reads it exactly (SnakeYAML refuses tabs and {@code \/} in JSON),
     * while a YAML flow mapping ({@code {apiVersion: ...}}) still goes to YAML.
     */
    static boolean isJson(String text) {
        int i = skipSpace(text, 0);
        if (i == text.length() || text.charAt(i) != '{') {
            return false;
        }
        i = skipSpace(text, i + 1);
        return i < text.length() && (text.charAt(i) == '"' || text.charAt(i) == '}');
    }

    private static int skipSpace(String text, int from) {
        int i = from;
        while (i < text.length() && (Character.isWhitespace(text.charAt(i)))) {
            i++;
        }
        return i;
    }

    private static String key(PolicyDocument document) {
        return document.kind() + " " + document.metadata().id();
    }
}
