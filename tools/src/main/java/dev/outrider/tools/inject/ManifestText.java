package dev.outrider.tools.inject;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.JacksonYAMLParseException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import dev.outrider.core.document.DocumentSyntax;
import dev.outrider.core.document.NoAliasYamlFactory;
import dev.outrider.core.document.YamlAliasException;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.events.DocumentStartEvent;
import org.yaml.snakeyaml.events.Event;

import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import static java.util.Objects.requireNonNull;

/**
 * Manifests as text: multi-document YAML (or JSON objects one after the other) read into Jackson trees, and trees
 * written back as YAML the way kubectl writes it: block style, 2-space indentation, lists not indented under their
 * key ({@code - name:}), quotes only where a plain scalar would read as something else ({@code "8080"},
 * {@code "true"}), multi-line strings as literal blocks, long lines not folded, {@code ---} between documents and
 * not before the first. Comments are not kept: Jackson's tree has no place for them.
 *
 * <p>YAML anchors and aliases ({@code &name}, {@code *name}, {@code <<: *base}) are refused, as in every document
 * Outrider reads ({@link NoAliasYamlFactory}): Jackson reads an alias as the anchor's name, a string, which would
 * silently change the document. Pure functions.
 */
final class ManifestText {
    /** Generous for manifests (operator bundles run to a few MB); SnakeYAML's default is 3 MB. */
    private static final int MAX_CODE_POINTS = 64 * 1024 * 1024;
    private static final LoaderOptions LOADER = loaderOptions();
    /** {@code key:} with no value is null, as Kubernetes reads it (a factory builder starts without this default). */
    private static final YAMLMapper YAML_IN = YAMLMapper.builder(NoAliasYamlFactory.of(YAMLFactory.builder()
                    .loaderOptions(LOADER).enable(YAMLParser.Feature.EMPTY_STRING_AS_NULL).build()))
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
    private static final JsonMapper JSON_IN = DocumentSyntax.jsonMapper();
    /**
     * JSON objects one after the other ({@code kubectl get -o json}, possibly tab-indented, which YAML forbids):
     * a text starting with {@code {"} or <code>{}</code>. A YAML flow mapping ({@code {apiVersion: v1}}) is read as
     * YAML.
     */
    private static final Pattern JSON_START = Pattern.compile("\\s*\\{\\s*[\"}]");
    private static final YAMLMapper YAML_OUT = YAMLMapper.builder()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .disable(YAMLGenerator.Feature.SPLIT_LINES)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
            .enable(YAMLGenerator.Feature.LITERAL_BLOCK_STYLE)
            .build();

    private ManifestText() {
    }

    /**
     * One document of a manifest.
     *
     * @param index 1-based, counting empty documents too (as a reader of the file counts {@code ---})
     * @param line  where its content starts
     * @param node  the document; never null (empty documents are not returned)
     */
    record Document(int index, int line, JsonNode node) {
        Document {
            requireNonNull(node, "node");
        }
    }

    /**
     * The documents of {@code text}, empty ones left out.
     *
     * @param source the file name, or {@code <stdin>}, for messages
     * @throws InjectException {@code app.yaml: document 2: not YAML: ... (line 14, column 3)}, or
     *                         {@code app.yaml: document 1: data.b: YAML alias *a (line 3, column 6) is not supported; ...}
     */
    static List<Document> read(String text, String source) {
        requireNonNull(text, "text");
        requireNonNull(source, "source");
        text = DocumentSyntax.withoutByteOrderMark(text);
        boolean json = JSON_START.matcher(text).lookingAt();
        if (!json) {
            checkYaml(text, source);
        }
        ObjectMapper mapper = json ? JSON_IN : YAML_IN;
        List<Document> documents = new ArrayList<>();
        int index = 0;
        try (JsonParser parser = mapper.createParser(text)) {
            while (parser.nextToken() != null) {
                index++;
                int line = parser.currentTokenLocation().getLineNr();
                String where = source + ": document " + index + " (line " + line + ")";
                JsonNode node;
                try {
                    node = mapper.readTree(parser);
                } catch (YamlAliasException e) {
                    throw refused(source, e);
                } catch (StreamReadException e) {
                    throw DocumentSyntax.parseFailure(e, (path, problem) -> new InjectException(where + ": not "
                            + (json ? "JSON" : "YAML") + ": " + (path.isEmpty() ? "" : path + ": ") + problem));
                }
                // An empty document (only comments, or "---" twice) reads as null, or as "" when it has a comment.
                if (node != null && !node.isNull() && !node.isMissingNode()
                        && !(node.isTextual() && node.asText().isEmpty())) {
                    documents.add(new Document(index, line, node));
                }
            }
        } catch (YamlAliasException e) {
            throw refused(source, e);
        } catch (JacksonYAMLParseException e) {
            throw new InjectException(source + ": document " + Math.max(index, 1) + ": not YAML: "
                    + DocumentSyntax.yamlProblem(e));
        } catch (StreamReadException e) {
            var at = e.getLocation();
            throw new InjectException(source + ": document " + Math.max(index, 1) + ": not " + (json ? "JSON" : "YAML")
                    + ": " + e.getOriginalMessage() + (at == null ? "" : " (line " + at.getLineNr() + ")"));
        } catch (IOException e) {
            throw new UncheckedIOException(e); // reading a String does no I/O
        }
        return List.copyOf(documents);
    }

    private static InjectException refused(String source, YamlAliasException e) {
        return new InjectException(source + ": document " + e.document() + ": " + e.describe());
    }

    /**
     * SnakeYAML's events over the whole text, before Jackson reads it: a syntax error is reported with the number of
     * the document it is in.
     */
    private static void checkYaml(String text, String source) {
        int index = 0;
        try {
            for (Event event : new Yaml(LOADER).parse(new StringReader(text))) {
                if (event instanceof DocumentStartEvent) {
                    index++;
                }
            }
        } catch (MarkedYAMLException e) {
            throw new InjectException(source + ": document " + Math.max(index, 1) + ": not YAML: "
                    + DocumentSyntax.yamlProblem(e));
        } catch (YAMLException e) {
            throw new InjectException(source + ": document " + Math.max(index, 1) + ": not YAML: " + e.getMessage());
        }
    }

    /** The documents as YAML, {@code ---} between them; empty text for none. */
    static String write(List<JsonNode> documents) {
        requireNonNull(documents, "documents");
        StringBuilder out = new StringBuilder();
        for (JsonNode document : documents) {
            if (!out.isEmpty()) {
                out.append("---\n");
            }
            try {
                out.append(YAML_OUT.writeValueAsString(document));
            } catch (IOException e) {
                throw new UncheckedIOException(e); // writing a tree to a String does no I/O
            }
        }
        return out.toString();
    }

    private static LoaderOptions loaderOptions() {
        LoaderOptions options = new LoaderOptions();
        options.setCodePointLimit(MAX_CODE_POINTS);
        return options;
    }
}
