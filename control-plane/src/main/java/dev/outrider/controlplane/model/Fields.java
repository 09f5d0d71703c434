package dev.outrider.controlplane.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.outrider.control.model.DnsLabel;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static java.util.Objects.requireNonNull;

/**
 * One mapping of a Service or MeshConfig document being read, with its path for errors
 * ({@code spec.exportTo[1]}). Creating it refuses anything but a mapping and any field not in {@code known},
 * so a misspelt field is reported rather than ignored. An explicit null counts as absent, as in Kubernetes
 * (and in the sidecar's policy reader). Every problem is a {@link ResourceValidationException} naming the field.
 */
final class Fields {
    /** Checks one value: null when acceptable, otherwise the problem. */
    @FunctionalInterface
    interface Check {
        Check ANY = v -> null;

        String problem(String value);
    }

    static final Check LABEL = v -> DnsLabel.isValid(v) ? null : quote(v) + " is not an RFC 1123 label"
            + " (lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)";

    private static final int MAX_QUOTED = 80;

    private final JsonNode node;
    private final String path;

    private Fields(JsonNode node, String path) {
        this.node = node;
        this.path = path;
    }

    /** {@code node} as a mapping with only {@code known} fields. */
    static Fields of(JsonNode node, String path, List<String> known) {
        requireNonNull(node, "node");
        if (!node.isObject()) {
            throw ResourceValidationException.invalid(path, "expected a mapping, got " + typeOf(node));
        }
        for (Map.Entry<String, JsonNode> field : node.properties()) {
            if (!known.contains(field.getKey())) {
                throw ResourceValidationException.invalid(child(path, field.getKey()), "unknown field "
                        + quote(field.getKey()) + "; known fields: " + String.join(", ", known));
            }
        }
        return new Fields(node, path);
    }

    String path(String name) {
        return child(path, name);
    }

    /** The field's value, or null when absent or null. */
    JsonNode get(String name) {
        JsonNode value = node.get(name);
        return value == null || value.isNull() ? null : value;
    }

    boolean has(String name) {
        return get(name) != null;
    }

    /** A mapping-valued field with only {@code known} fields, or null when absent. */
    Fields object(String name, List<String> known) {
        JsonNode value = get(name);
        return value == null ? null : of(value, path(name), known);
    }

    /** An optional non-empty string passing {@code check}; null when absent. */
    String string(String name, Check check) {
        JsonNode value = get(name);
        return value == null ? null : text(value, path(name), check);
    }

    /**
     * An optional list of non-empty strings, each passing {@code check}; null when absent. An empty list and a
     * value listed twice are refused.
     */
    List<String> strings(String name, Check check) {
        JsonNode value = get(name);
        if (value == null) {
            return null;
        }
        if (!value.isArray()) {
            throw ResourceValidationException.invalid(path(name), "expected a list, got " + typeOf(value));
        }
        if (value.isEmpty()) {
            throw ResourceValidationException.invalid(path(name), "must not be empty; leave it out for the default");
        }
        List<String> values = new ArrayList<>(value.size());
        for (int i = 0; i < value.size(); i++) {
            String at = path(name) + "[" + i + "]";
            String text = text(value.get(i), at, check);
            int previous = values.indexOf(text);
            if (previous >= 0) {
                throw ResourceValidationException.invalid(at, quote(text) + " is already listed at "
                        + path(name) + "[" + previous + "]");
            }
            values.add(text);
        }
        return values;
    }

    /** A mapping of strings to strings (annotations); refused when anything else. */
    void requireStringMap(String name) {
        JsonNode value = get(name);
        if (value == null) {
            return;
        }
        if (!value.isObject()) {
            throw ResourceValidationException.invalid(path(name), "expected a mapping, got " + typeOf(value));
        }
        for (Map.Entry<String, JsonNode> e : value.properties()) {
            String at = path(name) + "[" + e.getKey() + "]";
            if (e.getKey().isEmpty()) {
                throw ResourceValidationException.invalid(at, "key must not be empty");
            }
            if (!e.getValue().isTextual()) {
                throw ResourceValidationException.invalid(at, "expected a string, got " + typeOf(e.getValue())
                        + hint(e.getValue()));
            }
        }
    }

    static String text(JsonNode value, String at, Check check) {
        if (value == null || value.isNull()) {
            throw ResourceValidationException.invalid(at, "must not be null");
        }
        if (!value.isTextual()) {
            throw ResourceValidationException.invalid(at, "expected a string, got " + typeOf(value) + hint(value));
        }
        String text = value.textValue();
        if (text.isEmpty()) {
            throw ResourceValidationException.invalid(at, "must not be empty");
        }
        String problem = check.problem(text);
        if (problem != null) {
            throw ResourceValidationException.invalid(at, problem);
        }
        return text;
    }

    static String child(String path, String name) {
        return path.isEmpty() ? name : path + "." + name;
    }

    static String typeOf(JsonNode node) {
        return switch (node.getNodeType()) {
            case OBJECT -> "a mapping";
            case ARRAY -> "a list";
            case STRING -> "a string";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case NULL -> "null";
            case BINARY -> "binary data";
            default -> node.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
        };
    }

    /** A document value as it may appear in an error: single-quoted, control characters escaped, long values cut. */
    static String quote(String value) {
        StringBuilder sb = new StringBuilder(Math.min(value.length(), MAX_QUOTED) + 8).append('\'');
        for (int i = 0; i < value.length(); i++) {
            if (i == MAX_QUOTED) {
                sb.append("...");
                break;
            }
            char c = value.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.append('\'').toString();
    }

    /** YAML reads {@code 8080}, {@code true}, {@code yes} and {@code on} as numbers or booleans. */
    private static String hint(JsonNode value) {
        return value.isNumber() || value.isBoolean() ? " (quote it)" : "";
    }
}
