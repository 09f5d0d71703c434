package dev.outrider.proxy.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.BigIntegerNode;
import com.fasterxml.jackson.databind.node.BooleanNode;

import java.math.BigInteger;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static java.util.Objects.requireNonNull;

/**
 * One node of the parsed YAML tree and its path from the root ({@code outbound.upstreams[1].port}).
 * Every typed accessor either returns a valid value (or the default when the field is absent or null) or
 * throws a {@link ConfigException} naming this path. Used only while loading; nothing keeps it afterwards.
 */
record ConfigNode(String source, String path, JsonNode node) {
    /** A decimal integer as YAML writes it plainly (the form an environment value can take). */
    private static final Pattern INTEGER = Pattern.compile("[-+]?[0-9]{1,30}");

    ConfigNode {
        requireNonNull(source, "source");
        requireNonNull(path, "path");
    }

    /** The named child; absent children are nodes with a null {@code node}. */
    ConfigNode field(String name) {
        return new ConfigNode(source, path.isEmpty() ? name : path + "." + name, isSet() ? node.get(name) : null);
    }

    boolean isSet() {
        return node != null && !node.isNull() && !node.isMissingNode();
    }

    ConfigException error(String problem) {
        return new ConfigException(source, path, problem);
    }

    /**
     * Checks that this is a mapping (or absent) whose keys are all in {@code known}; an unknown key is
     * reported at its own path with the known ones listed.
     */
    ConfigNode object(String... known) {
        if (!isSet()) {
            return this;
        }
        if (!node.isObject()) {
            throw error("expected a mapping, got " + describe(node));
        }
        List<String> allowed = Arrays.asList(known);
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            if (!allowed.contains(name)) {
                throw field(name).error("unknown field '" + name + "' (known: " + String.join(", ", allowed) + ")");
            }
        }
        return this;
    }

    /** The elements of a sequence; an absent field is an empty list. */
    List<ConfigNode> list() {
        if (!isSet()) {
            return List.of();
        }
        if (!node.isArray()) {
            throw error("expected a list, got " + describe(node));
        }
        List<ConfigNode> out = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) {
            out.add(new ConfigNode(source, path + "[" + i + "]", node.get(i)));
        }
        return out;
    }

    String string(String def) {
        if (!isSet()) {
            return def;
        }
        if (!node.isTextual()) {
            throw error("expected a string, got " + describe(node));
        }
        return node.textValue();
    }

    String requiredString() {
        String s = string(null);
        if (s == null) {
            throw error("required");
        }
        if (s.isBlank()) {
            throw error("must not be empty");
        }
        return s;
    }

    boolean bool(boolean def) {
        if (!isSet()) {
            return def;
        }
        JsonNode node = scalar();
        if (!node.isBoolean()) {
            throw error("expected true or false, got " + describe(node));
        }
        return node.booleanValue();
    }

    /** An integer in {@code [min, max]}; the error states the range. */
    int integer(int def, int min, int max) {
        if (!isSet()) {
            return def;
        }
        JsonNode node = scalar();
        if (!node.isIntegralNumber()) {
            throw error("expected an integer, got " + describe(node));
        }
        if (!node.canConvertToInt() || node.intValue() < min || node.intValue() > max) {
            throw error(node.asText() + " is out of range (" + min + "-" + max + ")");
        }
        return node.intValue();
    }

    /** A port in {@code [min, 65535]}: listeners allow 0 (ephemeral), destinations start at 1. */
    int port(int def, int min) {
        if (!isSet()) {
            return def;
        }
        JsonNode node = scalar();
        if (!node.isIntegralNumber()) {
            throw error("expected a port number, got " + describe(node));
        }
        if (!node.canConvertToInt() || node.intValue() < min || node.intValue() > 65535) {
            throw error(node.asText() + " is not a port (" + min + "-65535)");
        }
        return node.intValue();
    }

    /** A duration in {@code [0 or 1ms, max]}; {@code zeroAllowed} marks the fields where 0 disables. */
    Duration duration(Duration def, boolean zeroAllowed, Duration max) {
        if (!isSet()) {
            return def;
        }
        Duration d;
        if (node.isIntegralNumber()) {
            if (node.asLong() != 0) {
                throw error(node.asText() + " needs a unit (" + node.asText() + "ms, " + node.asText() + "s, ...)");
            }
            d = Duration.ZERO;
        } else if (node.isTextual()) {
            try {
                d = Durations.parse(node.textValue());
            } catch (IllegalArgumentException e) {
                throw error(e.getMessage());
            }
        } else {
            throw error("expected a duration (250ms, 1s, 5m), got " + describe(node));
        }
        if (d.isZero() && !zeroAllowed) {
            throw error("must be greater than 0");
        }
        if (d.compareTo(max) > 0) {
            throw error(Durations.format(d) + " is longer than the maximum " + Durations.format(max));
        }
        return d;
    }

    /** {@code host:port} with a port in {@code [minPort, 65535]}. */
    HostPort hostPort(HostPort def, int minPort) {
        if (!isSet()) {
            return def;
        }
        if (!node.isTextual()) {
            throw error("expected host:port, got " + describe(node));
        }
        String text = node.textValue();
        int colon = text.lastIndexOf(':');
        if (colon > 0) {
            String port = text.substring(colon + 1).strip();
            if (port.chars().allMatch(Character::isDigit) && !port.isEmpty()) {
                long p = port.length() > 6 ? Long.MAX_VALUE : Long.parseLong(port);
                if (p < minPort || p > 65535) {
                    throw error(port + " is not a port (" + minPort + "-65535)");
                }
            }
        }
        try {
            return HostPort.parse(text);
        } catch (IllegalArgumentException e) {
            throw error(e.getMessage());
        }
    }

    /** An enum written in lower case ({@code io_uring}, {@code h2c}); any case is accepted. */
    <E extends Enum<E>> E enumValue(Class<E> type, E def) {
        String s = string(null);
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
        throw error("unknown value '" + s + "' (allowed: " + allowed + ")");
    }

    /**
     * This node as a typed scalar: text that came from an environment reference ({@link EnvSubstitution}) is
     * read as a YAML plain scalar would be (a decimal integer, {@code true}/{@code false}); anything else is
     * the node as parsed.
     */
    private JsonNode scalar() {
        if (!(node instanceof EnvSubstitution.Substituted)) {
            return node;
        }
        String text = node.textValue().strip();
        if (text.equalsIgnoreCase("true") || text.equalsIgnoreCase("false")) {
            return BooleanNode.valueOf(Boolean.parseBoolean(text));
        }
        if (INTEGER.matcher(text).matches()) {
            return new BigIntegerNode(new BigInteger(text));
        }
        return node;
    }

    private static String describe(JsonNode n) {
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
