package dev.outrider.proxy.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.BigIntegerNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import dev.outrider.core.document.DocumentFields;
import dev.outrider.core.document.Durations;
import dev.outrider.core.document.FieldErrors;
import dev.outrider.core.document.FieldWording;
import dev.outrider.core.model.ServiceName;

import java.math.BigInteger;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * What reading the bootstrap file adds to {@link DocumentFields}: the file's own wording of problems
 * ({@code required}, {@code 70000 is out of range (1-65535)}, {@code got string 'x'}), text from an environment
 * reference read as the number or boolean it spells ({@link EnvSubstitution}), and the sidecar's value types
 * (ports, {@code host:port}, enums, bounded durations, file paths, service and namespace labels). Every problem is
 * a {@link ConfigException} naming the field. One per file being read; confined to the loading thread.
 */
final class BootstrapFields {
    /** The bootstrap file's wording: empty strings are values, each field checks them itself. */
    static final FieldWording WORDING = new FieldWording() {
        @Override
        public String got(JsonNode value, Expected expected) {
            return describe(value);
        }

        @Override
        public String unknownField(String name, List<String> known) {
            return "unknown field '" + name + "' (known: " + String.join(", ", known) + ")";
        }

        @Override
        public String required() {
            return "required";
        }

        @Override
        public String outOfRange(JsonNode value, long min, long max) {
            return value.asText() + " is out of range (" + min + "-" + max + ")";
        }

        @Override
        public boolean emptyStrings() {
            return true;
        }

        @Override
        public JsonNode scalar(JsonNode value) {
            return BootstrapFields.scalar(value);
        }
    };

    /** A decimal integer as YAML writes it plainly (the form an environment value can take). */
    private static final Pattern INTEGER = Pattern.compile("[-+]?[0-9]{1,30}");

    private final String source;
    private final FieldErrors errors;

    BootstrapFields(String source) {
        this.source = source;
        this.errors = (path, problem) -> new ConfigException(source, path, problem);
    }

    /** The file the configuration came from. */
    String source() {
        return source;
    }

    /** The top-level mapping with only {@code known} sections. */
    DocumentFields root(JsonNode tree, String... known) {
        return DocumentFields.of(tree, "", errors, WORDING, List.of(known));
    }

    ConfigException error(String path, String problem) {
        return new ConfigException(source, path, problem);
    }

    static ConfigException error(DocumentFields f, String name, String problem) {
        return (ConfigException) f.fail(name, problem);
    }

    /** An optional string; {@code def} when absent. Empty strings are returned as they are. */
    static String string(DocumentFields f, String name, String def) {
        String s = f.string(name, DocumentFields.Check.ANY);
        return s == null ? def : s;
    }

    /** A string that is present and not blank. */
    static String requiredString(DocumentFields f, String name) {
        return requiredString(f.get(name), f.path(name), f);
    }

    /** {@code value} (at {@code path}; null when absent) as a string that is present and not blank. */
    static String requiredString(JsonNode value, String path, DocumentFields in) {
        if (value == null || value.isNull()) {
            throw (ConfigException) in.errors().fail(path, WORDING.required());
        }
        String s = in.text(value, path, DocumentFields.Check.ANY);
        if (s.isBlank()) {
            throw (ConfigException) in.errors().fail(path, "must not be empty");
        }
        return s;
    }

    /** An integer in {@code [min, max]}; the error states the range. */
    static int integer(DocumentFields f, String name, int def, int min, int max) {
        return (int) f.integer(name, min, max, def);
    }

    /** A port in {@code [min, 65535]}: listeners allow 0 (ephemeral), destinations start at 1. */
    static int port(DocumentFields f, String name, int def, int min) {
        JsonNode value = f.get(name);
        if (value == null) {
            return def;
        }
        value = scalar(value);
        if (!value.isIntegralNumber()) {
            throw error(f, name, "expected a port number, got " + describe(value));
        }
        if (!value.canConvertToInt() || value.intValue() < min || value.intValue() > 65535) {
            throw error(f, name, value.asText() + " is not a port (" + min + "-65535)");
        }
        return value.intValue();
    }

    /** {@code host:port} with a port in {@code [minPort, 65535]}; {@code def} when absent. */
    static HostPort hostPort(DocumentFields f, String name, HostPort def, int minPort) {
        JsonNode value = f.get(name);
        return value == null ? def : hostPort(value, f.path(name), minPort, f);
    }

    /** {@code value} (at {@code path}, present) as {@code host:port} with a port in {@code [minPort, 65535]}. */
    static HostPort hostPort(JsonNode value, String path, int minPort, DocumentFields in) {
        FieldErrors errors = in.errors();
        if (!value.isTextual()) {
            throw errors.fail(path, "expected host:port, got " + describe(value));
        }
        String text = value.textValue();
        int colon = text.lastIndexOf(':');
        if (colon > 0) {
            String port = text.substring(colon + 1).strip();
            if (port.chars().allMatch(Character::isDigit) && !port.isEmpty()) {
                long p = port.length() > 6 ? Long.MAX_VALUE : Long.parseLong(port);
                if (p < minPort || p > 65535) {
                    throw errors.fail(path, port + " is not a port (" + minPort + "-65535)");
                }
            }
        }
        try {
            return HostPort.parse(text);
        } catch (IllegalArgumentException e) {
            throw errors.fail(path, e.getMessage());
        }
    }

    /** An enum written in lower case ({@code io_uring}, {@code h2c}); any case is accepted. */
    static <E extends Enum<E>> E enumValue(DocumentFields f, String name, Class<E> type, E def) {
        String s = string(f, name, null);
        if (s == null) {
            return def;
        }
        for (E e : type.getEnumConstants()) {
            if (e.name().equalsIgnoreCase(s.strip())) {
                return e;
            }
        }
        String allowed = Arrays.stream(type.getEnumConstants())
                .map(e -> e.name().toLowerCase(Locale.ROOT))
                .collect(Collectors.joining(", "));
        throw error(f, name, "unknown value '" + s + "' (allowed: " + allowed + ")");
    }

    /**
     * A duration ({@link Durations}) in {@code [0 or 1ms, max]}; {@code zeroAllowed} marks the fields where 0
     * disables. A plain number other than 0 has no unit and is refused.
     */
    static Duration duration(DocumentFields f, String name, Duration def, boolean zeroAllowed, Duration max) {
        JsonNode value = f.get(name);
        if (value == null) {
            return def;
        }
        Duration d;
        if (value.isIntegralNumber()) {
            if (value.asLong() != 0) {
                throw error(f, name, value.asText() + " needs a unit (" + value.asText() + "ms, " + value.asText()
                        + "s, ...)");
            }
            d = Duration.ZERO;
        } else if (value.isTextual()) {
            try {
                d = Durations.parse(value.textValue());
            } catch (IllegalArgumentException e) {
                throw error(f, name, e.getMessage());
            }
        } else {
            throw error(f, name, "expected a duration (250ms, 1s, 5m), got " + describe(value));
        }
        if (d.isZero() && !zeroAllowed) {
            throw error(f, name, "must be greater than 0");
        }
        if (d.compareTo(max) > 0) {
            throw error(f, name, Durations.format(d) + " is longer than the maximum " + Durations.format(max));
        }
        return d;
    }

    /** A file path; {@code def} when absent. */
    static Path path(DocumentFields f, String name, Path def) {
        String text = string(f, name, null);
        if (text == null) {
            return def;
        }
        if (text.isBlank()) {
            throw error(f, name, "must not be empty");
        }
        try {
            return Path.of(text.strip());
        } catch (InvalidPathException e) {
            throw error(f, name, "'" + text + "' is not a file path: " + e.getReason());
        }
    }

    /** The field as a service name, an RFC 1123 label checked by {@link ServiceName} as the wire model does. */
    static String serviceLabel(DocumentFields f, String name, String value) {
        try {
            return new ServiceName(value, BootstrapLoader.DEFAULT_NAMESPACE).name();
        } catch (IllegalArgumentException e) {
            throw error(f, name, e.getMessage());
        }
    }

    /** The field as a namespace (or service account), checked as {@link #serviceLabel}. */
    static String namespaceLabel(DocumentFields f, String name, String value) {
        try {
            return new ServiceName("x", value).namespace();
        } catch (IllegalArgumentException e) {
            throw error(f, name, e.getMessage());
        }
    }

    /**
     * {@code value} as a typed scalar: text that came from an environment reference ({@link EnvSubstitution}) is
     * read as a YAML plain scalar would be (a decimal integer, {@code true}/{@code false}); anything else is
     * the value as parsed.
     */
    private static JsonNode scalar(JsonNode value) {
        if (!(value instanceof EnvSubstitution.Substituted)) {
            return value;
        }
        String text = value.textValue().strip();
        if (text.equalsIgnoreCase("true") || text.equalsIgnoreCase("false")) {
            return BooleanNode.valueOf(Boolean.parseBoolean(text));
        }
        if (INTEGER.matcher(text).matches()) {
            return new BigIntegerNode(new BigInteger(text));
        }
        return value;
    }

    /** How the bootstrap file's errors name a value: {@code string 'x'}, {@code number 5}, {@code a mapping}. */
    static String describe(JsonNode n) {
        if (n.isObject()) {
            return "a mapping";
        }
        if (n.isArray()) {
            return "a list";
        }
        if (n.isTextual()) {
            return "string '" + n.textValue() + "'";
        }
        if (n.isBoolean()) {
            return "boolean " + n.asText();
        }
        if (n.isNumber()) {
            return "number " + n.asText();
        }
        return n.getNodeType().name().toLowerCase(Locale.ROOT);
    }
}
