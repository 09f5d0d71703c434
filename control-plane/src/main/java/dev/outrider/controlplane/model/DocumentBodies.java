package dev.outrider.controlplane.model;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.outrider.core.document.DocumentFields;
import dev.outrider.core.document.DocumentSyntax;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * From a request body and its Content-Type to one document tree: the media type (YAML or JSON, UTF-8), the
 * text, the parse (Jackson; duplicate keys, YAML anchors and aliases refused at their field), exactly one
 * document, and only values JSON can carry (no YAML {@code !!binary}, no {@code .nan} or {@code .inf}), so the
 * stored JSON means what was sent.
 * Stateless; the mappers are immutable and thread-safe.
 */
final class DocumentBodies {
    static final Set<String> YAML_TYPES = Set.of("application/yaml", "application/x-yaml", "text/yaml");
    static final String JSON_TYPE = "application/json";

    private static final YAMLMapper YAML = DocumentSyntax.yamlMapper();
    /** Reads documents one after the other, so a second one is reported as such, not as a trailing token. */
    private static final JsonMapper JSON = DocumentSyntax.jsonMapper();

    private DocumentBodies() {
    }

    /**
     * The one document of {@code body}.
     *
     * @throws ResourceValidationException UNSUPPORTED_MEDIA_TYPE for another media type or charset, INVALID for
     *                                     anything wrong with the text
     */
    static JsonNode read(byte[] body, String contentType) {
        ObjectMapper mapper = mapperFor(contentType);
        String text = DocumentSyntax.withoutByteOrderMark(utf8(body));
        JsonNode document = null;
        try (JsonParser parser = mapper.createParser(text)) {
            while (parser.nextToken() != null) {
                int line = parser.currentTokenLocation().getLineNr();
                JsonNode node = mapper.readTree(parser);
                if (node == null || node.isNull()) {
                    continue; // an empty YAML document ("---" with nothing after it)
                }
                if (document != null) {
                    throw ResourceValidationException.invalid(null, "the body holds more than one document"
                            + " (line " + line + "); send one per request");
                }
                document = node;
            }
        } catch (StreamReadException e) {
            throw DocumentSyntax.parseFailure(e, ResourceValidationException.FIELDS);
        } catch (JsonProcessingException e) {
            throw ResourceValidationException.invalid(null, e.getOriginalMessage()); // e.g. nesting too deep
        } catch (IOException e) {
            throw new UncheckedIOException(e); // reading a String does no I/O
        }
        if (document == null) {
            throw ResourceValidationException.invalid(null, "the body holds no document");
        }
        if (!document.isObject()) {
            throw ResourceValidationException.invalid(null, "expected a document (a mapping), got "
                    + DocumentFields.typeOf(document));
        }
        requirePlain(document, "");
        return document;
    }

    private static ObjectMapper mapperFor(String contentType) {
        if (contentType == null || contentType.isBlank()) {
            throw ResourceValidationException.unsupportedMediaType("no Content-Type; send application/yaml or "
                    + JSON_TYPE);
        }
        String[] parts = contentType.split(";");
        String type = parts[0].strip().toLowerCase(Locale.ROOT);
        for (int i = 1; i < parts.length; i++) {
            String[] parameter = parts[i].split("=", 2);
            if (parameter[0].strip().equalsIgnoreCase("charset")) {
                String charset = parameter.length < 2 ? "" : unquote(parameter[1].strip());
                if (!charset.equalsIgnoreCase("utf-8")) {
                    throw ResourceValidationException.unsupportedMediaType("charset " + DocumentFields.quote(charset)
                            + " is not supported; send UTF-8");
                }
            }
        }
        if (type.equals(JSON_TYPE)) {
            return JSON;
        }
        if (YAML_TYPES.contains(type)) {
            return YAML;
        }
        throw ResourceValidationException.unsupportedMediaType("Content-Type " + DocumentFields.quote(type)
                + " is not supported; send application/yaml or " + JSON_TYPE);
    }

    private static String unquote(String value) {
        return value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")
                ? value.substring(1, value.length() - 1) : value;
    }

    private static String utf8(byte[] body) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(body)).toString();
        } catch (CharacterCodingException e) {
            throw ResourceValidationException.invalid(null, "the body is not UTF-8 text");
        }
    }

    /** Refuses values that would change meaning, or fail, once written as JSON. */
    private static void requirePlain(JsonNode node, String path) {
        if (node.isObject()) {
            for (Map.Entry<String, JsonNode> e : node.properties()) {
                requirePlain(e.getValue(), DocumentFields.child(path, e.getKey()));
            }
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                requirePlain(node.get(i), path + "[" + i + "]");
            }
        } else if (node.isBinary() || node.isPojo()) {
            throw ResourceValidationException.invalid(path, "binary data is not supported; write a string");
        } else if (node.isFloatingPointNumber() && !Double.isFinite(node.doubleValue())) {
            throw ResourceValidationException.invalid(path, node.asText() + " is not supported; write a finite number");
        }
    }
}
