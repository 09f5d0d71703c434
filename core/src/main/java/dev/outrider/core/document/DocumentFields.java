package dev.outrider.core.document;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.outrider.core.model.DnsLabel;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static java.util.Objects.requireNonNull;

/**
 * The one reader of YAML (or JSON) fields with field-named errors: one mapping of a document being read (a
 * policy, a Service, the MeshConfig, an API body, the sidecar's bootstrap file), by field name, with its path for
 * errors ({@code spec.rules[0].to[0].operation}). Creating it refuses anything but a mapping and any field not in
 * {@code known}, so a misspelt field is reported before anything it would have changed. An explicit
 * {@code null} (YAML {@code ~} or an empty value) counts as absent, as in Kubernetes. Every problem is thrown,
 * at the first, as the caller's {@link FieldErrors} builds it; messages quote document values with
 * {@link #quote}. How problems are worded, and how a reader's plain values are read, is its {@link FieldWording}
 * ({@link FieldWording#DOCUMENT} unless given). Confined to the reading thread.
 */
public final class DocumentFields {
    /** Checks one value: null when acceptable, otherwise the problem. */
    @FunctionalInterface
    public interface Check {
        /** Accepts every value. */
        Check ANY = v -> null;
        /** A Kubernetes name or namespace: an RFC 1123 label ({@link DnsLabel}). */
        Check LABEL = v -> DnsLabel.isValid(v) ? null : quote(v) + " is not an RFC 1123 label (lower-case letters,"
                + " digits and '-', starting and ending with a letter or digit, at most 63 characters)";

        String problem(String value);
    }

    private static final int MAX_QUOTED = 80;

    private final JsonNode node;
    private final String path;
    private final FieldErrors errors;
    private final FieldWording wording;

    private DocumentFields(JsonNode node, String path, FieldErrors errors, FieldWording wording) {
        this.node = node;
        this.path = path;
        this.errors = errors;
        this.wording = wording;
    }

    /**
     * {@code node} as a mapping with only {@code known} fields (in the order they are listed in errors).
     *
     * @param path   where {@code node} is in its document; empty for the document itself
     * @param errors builds what is thrown for a problem
     */
    public static DocumentFields of(JsonNode node, String path, FieldErrors errors, List<String> known) {
        return of(node, path, errors, FieldWording.DOCUMENT, known);
    }

    /**
     * As {@link #of(JsonNode, String, FieldErrors, List)}, with problems worded and plain values read by
     * {@code wording}.
     */
    public static DocumentFields of(JsonNode node, String path, FieldErrors errors, FieldWording wording,
                                    List<String> known) {
        requireNonNull(node, "node");
        requireNonNull(path, "path");
        requireNonNull(errors, "errors");
        requireNonNull(wording, "wording");
        if (!node.isObject()) {
            throw errors.fail(path, expected(wording, FieldWording.Expected.MAPPING, node));
        }
        for (Map.Entry<String, JsonNode> field : node.properties()) {
            String name = field.getKey();
            if (!known.contains(name)) {
                throw errors.fail(child(path, name), wording.unknownField(name, known));
            }
        }
        return new DocumentFields(node, path, errors, wording);
    }

    /** {@code item} as a mapping with only {@code known} fields, read as this mapping is. */
    public DocumentFields mapping(Item item, List<String> known) {
        return of(item.node(), item.path(), errors, wording, known);
    }

    /**
     * A mapping-valued field with only {@code known} fields; when absent, an empty mapping at the field's path
     * (every field of it absent), for sections whose fields all have defaults.
     */
    public DocumentFields section(String name, List<String> known) {
        DocumentFields section = object(name, known);
        return section != null ? section
                : new DocumentFields(JsonNodeFactory.instance.objectNode(), path(name), errors, wording);
    }

    /** How problems are worded. */
    public FieldWording wording() {
        return wording;
    }

    /** The exception for {@code problem} at the field {@code name}. */
    public RuntimeException fail(String name, String problem) {
        return errors.fail(path(name), problem);
    }

    /** This mapping's path. */
    public String path() {
        return path;
    }

    /** How problems are reported, for checks of several fields together. */
    public FieldErrors errors() {
        return errors;
    }

    /** The path of the field {@code name}. */
    public String path(String name) {
        return child(path, name);
    }

    /** The field's value, or null when absent or null. */
    public JsonNode get(String name) {
        JsonNode value = node.get(name);
        return value == null || value.isNull() ? null : value;
    }

    /** Whether the field is present and not null. */
    public boolean has(String name) {
        return get(name) != null;
    }

    /** A mapping-valued field with only {@code known} fields, or null when absent. */
    public DocumentFields object(String name, List<String> known) {
        JsonNode value = get(name);
        return value == null ? null : of(value, path(name), errors, wording, known);
    }

    /** A list-valued field's items (empty when absent), each with its path ({@code name[i]}). */
    public List<Item> list(String name) {
        JsonNode value = get(name);
        if (value == null) {
            return List.of();
        }
        if (!value.isArray()) {
            throw errors.fail(path(name), expected(wording, FieldWording.Expected.LIST, value));
        }
        List<Item> items = new ArrayList<>(value.size());
        for (int i = 0; i < value.size(); i++) {
            items.add(new Item(value.get(i), path(name) + "[" + i + "]"));
        }
        return items;
    }

    /** An optional string; null when absent. Empty strings are refused. */
    public String string(String name, Check check) {
        JsonNode value = get(name);
        return value == null ? null : text(value, path(name), check);
    }

    /** A string that must be present; otherwise as {@link #string}. */
    public String requiredString(String name, Check check) {
        if (!has(name)) {
            throw errors.fail(path(name), wording.required());
        }
        return string(name, check);
    }

    /** An optional boolean ({@code true} or {@code false}, not a string); {@code absent} when absent. */
    public boolean bool(String name, boolean absent) {
        JsonNode value = get(name);
        if (value == null) {
            return absent;
        }
        value = wording.scalar(value);
        if (!value.isBoolean()) {
            throw errors.fail(path(name), expected(wording, FieldWording.Expected.BOOLEAN, value));
        }
        return value.booleanValue();
    }

    /**
     * An optional integer from {@code min} to {@code max}; {@code absent} when absent. Only a YAML (or JSON)
     * integer is accepted: {@code "100"} (a string), {@code 1.5} and {@code true} are refused.
     */
    public long integer(String name, long min, long max, long absent) {
        JsonNode value = get(name);
        if (value == null) {
            return absent;
        }
        value = wording.scalar(value);
        if (!value.isIntegralNumber()) {
            throw errors.fail(path(name), expected(wording, FieldWording.Expected.INTEGER, value));
        }
        if (!value.canConvertToLong() || value.longValue() < min || value.longValue() > max) {
            throw errors.fail(path(name), wording.outOfRange(value, min, max));
        }
        return value.longValue();
    }

    /** An integer that must be present; otherwise as {@link #integer}. */
    public long requiredInteger(String name, long min, long max) {
        if (!has(name)) {
            throw errors.fail(path(name), wording.required());
        }
        return integer(name, min, max, 0);
    }

    /** A list of strings, each non-empty and passing {@code check}; empty when absent. */
    public List<String> strings(String name, Check check) {
        List<String> values = new ArrayList<>();
        for (Item item : list(name)) {
            values.add(text(item.node(), item.path(), check));
        }
        return values;
    }

    /**
     * An optional list of distinct strings, each non-empty and passing {@code check}: null when absent. An empty
     * list is refused ("must not be empty; " and {@code whenEmpty}), and so are a null item and a value listed twice
     * (naming where it was listed first).
     */
    public List<String> distinctStrings(String name, Check check, String whenEmpty) {
        if (!has(name)) {
            return null;
        }
        List<Item> items = list(name);
        if (items.isEmpty()) {
            throw fail(name, "must not be empty; " + whenEmpty);
        }
        List<String> values = new ArrayList<>(items.size());
        for (Item item : items) {
            if (item.node().isNull()) {
                throw errors.fail(item.path(), "must not be null");
            }
            String text = text(item.node(), item.path(), check);
            int previous = values.indexOf(text);
            if (previous >= 0) {
                throw errors.fail(item.path(), quote(text) + " is already listed at " + path(name) + "[" + previous
                        + "]");
            }
            values.add(text);
        }
        return values;
    }

    /** A mapping of strings to strings ({@code annotations}, {@code matchLabels}); empty when absent. */
    public Map<String, String> stringMap(String name) {
        JsonNode value = get(name);
        if (value == null) {
            return Map.of();
        }
        if (!value.isObject()) {
            throw errors.fail(path(name), expected(wording, FieldWording.Expected.MAPPING, value));
        }
        Map<String, String> map = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : value.properties()) {
            String entryPath = path(name) + "[" + e.getKey() + "]";
            if (e.getKey().isEmpty()) {
                throw errors.fail(entryPath, "key must not be empty");
            }
            JsonNode v = e.getValue();
            if (!v.isTextual()) {
                throw errors.fail(entryPath, expected(wording, FieldWording.Expected.STRING, v));
            }
            map.put(e.getKey(), v.textValue());
        }
        return map;
    }

    /** {@code value} (found at {@code at}) as a non-empty string passing {@code check}. */
    public String text(JsonNode value, String at, Check check) {
        return text(value, at, check, errors, wording);
    }

    /** {@code value} (found at {@code at}) as a non-empty string passing {@code check}; problems go to {@code errors}. */
    public static String text(JsonNode value, String at, Check check, FieldErrors errors) {
        return text(value, at, check, errors, FieldWording.DOCUMENT);
    }

    private static String text(JsonNode value, String at, Check check, FieldErrors errors, FieldWording wording) {
        if (!value.isTextual()) {
            throw errors.fail(at, expected(wording, FieldWording.Expected.STRING, value));
        }
        String text = value.textValue();
        if (text.isEmpty() && !wording.emptyStrings()) {
            throw errors.fail(at, "must not be empty");
        }
        String problem = check.problem(text);
        if (problem != null) {
            throw errors.fail(at, problem);
        }
        return text;
    }

    /** One item of a list: its node and its path ({@code spec.rules[2]}). */
    public record Item(JsonNode node, String path) {
    }

    /** The path of field {@code name} of the mapping at {@code path}. */
    public static String child(String path, String name) {
        return path.isEmpty() ? name : path + "." + name;
    }

    /** How errors name the type of {@code node}: {@code a mapping}, {@code a list}, {@code a string}, ... */
    public static String typeOf(JsonNode node) {
        return switch (node.getNodeType()) {
            case OBJECT -> "a mapping";
            case ARRAY -> "a list";
            case STRING -> "a string";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case NULL -> "null";
            case BINARY -> "binary data";
            default -> node.getNodeType().name().toLowerCase(Locale.ROOT);
        };
    }

    /**
     * A value from a document as it may appear in an error and so in a log: single-quoted, control characters
     * escaped, long values cut.
     */
    public static String quote(String value) {
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

    /** {@code expected <what>, got <value>} as {@code wording} writes it. */
    public static String expected(FieldWording wording, FieldWording.Expected what, JsonNode value) {
        return "expected " + what.phrase() + ", got " + wording.got(value, what);
    }
}
