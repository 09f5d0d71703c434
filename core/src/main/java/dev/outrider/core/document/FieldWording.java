package dev.outrider.core.document;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;
import java.util.regex.Pattern;

/**
 * How a {@link DocumentFields} reader words the problems it finds and which plain values it takes, so every reader
 * of YAML or JSON fields (policy documents, the control plane's resources and API bodies, the sidecar's bootstrap
 * file) walks mappings, lists and scalars in one place. {@link #DOCUMENT} is the wording of Kubernetes-style
 * documents; the bootstrap file keeps its own (the sidecar's {@code BootstrapFields}). Stateless.
 */
public interface FieldWording {
    /** The wording of policy documents, resources and API bodies: {@code is required}, {@code got a string}. */
    FieldWording DOCUMENT = new FieldWording() {
    };

    /** What a field was expected to be, as errors write it after {@code expected}. */
    enum Expected {
        MAPPING("a mapping"), LIST("a list"), STRING("a string"), BOOLEAN("true or false"), INTEGER("an integer");

        private final String phrase;

        Expected(String phrase) {
            this.phrase = phrase;
        }

        /** {@code a mapping}, {@code true or false}, ... */
        public String phrase() {
            return phrase;
        }
    }

    /** A quoted decimal integer, for the hint to write it without quotes. */
    Pattern QUOTED_INTEGER = Pattern.compile("[-+]?[0-9]+");

    /** What {@code value} is, as errors write it after {@code expected <what>, got }. */
    default String got(JsonNode value, Expected expected) {
        return switch (expected) {
            case STRING -> DocumentFields.typeOf(value) + (value.isNumber() || value.isBoolean() ? " (quote it)" : "");
            case INTEGER -> value.isNumber() ? value.asText() : DocumentFields.typeOf(value)
                    + (value.isTextual() && QUOTED_INTEGER.matcher(value.textValue()).matches()
                    ? " (write it without quotes)" : "");
            default -> DocumentFields.typeOf(value);
        };
    }

    /** The problem of a field {@code name} that is not one of {@code known}. */
    default String unknownField(String name, List<String> known) {
        return "unknown field " + DocumentFields.quote(name) + "; known fields: " + String.join(", ", known);
    }

    /** The problem of a required field that is absent. */
    default String required() {
        return "is required";
    }

    /** The problem of an integer {@code value} outside {@code [min, max]}. */
    default String outOfRange(JsonNode value, long min, long max) {
        return "must be between " + min + " and " + max + ", got " + value.asText();
    }

    /** Whether an empty string is a value (otherwise {@code must not be empty}). */
    default boolean emptyStrings() {
        return false;
    }

    /** {@code value} as a boolean or integer field reads it; the value as parsed unless the reader knows better. */
    default JsonNode scalar(JsonNode value) {
        return value;
    }
}
