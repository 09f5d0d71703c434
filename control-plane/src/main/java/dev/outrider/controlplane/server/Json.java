package dev.outrider.controlplane.server;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.util.Iterator;
import java.util.Locale;
import java.util.Set;

/**
 * JSON in and out for the API's own (non-resource) bodies, with Jackson. Reading is strict: one JSON
 * object, no duplicate keys, no trailing tokens, no unknown fields; every refusal is a 400 naming the
 * field or the place in the text.
 *
 * <p>{@link #MAPPER} is configured once and immutable in use (thread-safe for reading and writing).
 */
public final class Json {
    public static final JsonMapper MAPPER = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private Json() {
    }

    static byte[] write(Object value) {
        try {
            return MAPPER.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write " + value.getClass().getSimpleName() + " as JSON", e);
        }
    }

    /**
     * The request body as a JSON object with only {@code allowed} fields. The content type, when given, must
     * be {@code application/json} (415 otherwise).
     */
    public static ObjectNode object(ApiRequest request, Set<String> allowed) {
        requireJsonContentType(request.contentType());
        if (request.body().length == 0) {
            throw ApiException.invalid("request body is empty; expected a JSON object");
        }
        JsonNode node;
        try {
            node = MAPPER.readTree(request.body());
        } catch (JsonParseException e) {
            var at = e.getLocation();
            throw ApiException.invalid("request body is not valid JSON: " + e.getOriginalMessage()
                    + (at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")"));
        } catch (IOException e) {
            throw ApiException.invalid("request body is not valid JSON: " + e.getMessage());
        }
        if (!(node instanceof ObjectNode object)) {
            throw ApiException.invalid("request body must be a JSON object, not " + kind(node));
        }
        for (Iterator<String> names = object.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!allowed.contains(name)) {
                throw ApiException.invalid(name, "unknown field '" + name + "'; expected " + String.join(", ",
                        allowed.stream().sorted().toList()));
            }
        }
        return object;
    }

    /** A field that must be a non-empty string. */
    public static String requiredText(ObjectNode object, String field) {
        String value = optionalText(object, field);
        if (value == null) {
            throw ApiException.invalid(field, "field '" + field + "' is required");
        }
        return value;
    }

    /** A field that, when present (and not null), must be a non-empty string; null when absent. */
    public static String optionalText(ObjectNode object, String field) {
        JsonNode value = object.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isTextual()) {
            throw ApiException.invalid(field, "field '" + field + "' must be a string, not " + kind(value));
        }
        if (value.textValue().isEmpty()) {
            throw ApiException.invalid(field, "field '" + field + "' must not be empty");
        }
        return value.textValue();
    }

    /** Accepts no content type (clients that send none) and {@code application/json} with any parameters. */
    static void requireJsonContentType(String contentType) {
        if (contentType == null) {
            return;
        }
        int semicolon = contentType.indexOf(';');
        String type = (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).strip().toLowerCase(Locale.ROOT);
        if (!type.equals(ApiResponse.JSON)) {
            throw ApiException.unsupportedMediaType("Content-Type " + type + " is not accepted here; use "
                    + ApiResponse.JSON);
        }
    }

    private static String kind(JsonNode node) {
        return switch (node.getNodeType()) {
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case STRING -> "a string";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case NULL -> "null";
            default -> node.getNodeType().toString().toLowerCase(Locale.ROOT);
        };
    }
}
