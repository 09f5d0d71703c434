package dev.outrider.proxy.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import static java.util.Objects.requireNonNull;

/**
 * Environment references in the bootstrap file's scalar values, replaced once after parsing and before
 * validation (keys are never touched): {@code ${NAME}} is the variable's value, {@code ${NAME:-default}} the
 * default when the variable is unset or empty (as in sh), <code>$${</code> a literal <code>${</code>. A
 * {@code $} not followed by <code>{</code> is itself. One pass: a substituted value is not scanned again, so a
 * variable holding {@code ${X}} stays that text. An unset variable without a default, or a malformed
 * reference, is a {@link ConfigException} naming the field and the variable.
 *
 * <p>A value that contained a reference becomes a {@link Substituted} text node: where the field wants a
 * number or a boolean ({@code eventLoops: ${LOOPS:-0}}), {@link BootstrapFields} reads its text as one; a value
 * that substitutes to the empty string counts as not set (the field's default), like {@code key:} with no
 * value. Values written without a reference keep their YAML types exactly as before.
 */
final class EnvSubstitution {
    /** POSIX-style variable names (what Kubernetes, Docker and the shell accept without quoting). */
    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private final String source;
    private final Map<String, String> env;

    private EnvSubstitution(String source, Map<String, String> env) {
        this.source = source;
        this.env = env;
    }

    /** Replaces every reference in {@code tree}'s scalar values (in place) and returns it. */
    static JsonNode apply(JsonNode tree, Map<String, String> env, String source) {
        requireNonNull(tree, "tree");
        requireNonNull(env, "env");
        requireNonNull(source, "source");
        new EnvSubstitution(source, env).walk(tree, "");
        return tree;
    }

    private void walk(JsonNode node, String path) {
        if (node instanceof ObjectNode object) {
            List<String> names = new ArrayList<>();
            object.fieldNames().forEachRemaining(names::add);
            for (String name : names) {
                String childPath = path.isEmpty() ? name : path + "." + name;
                JsonNode replaced = replacement(object.get(name), childPath);
                if (replaced != null) {
                    object.set(name, replaced);
                } else {
                    walk(object.get(name), childPath);
                }
            }
        } else if (node instanceof ArrayNode array) {
            for (int i = 0; i < array.size(); i++) {
                String childPath = path + "[" + i + "]";
                JsonNode replaced = replacement(array.get(i), childPath);
                if (replaced != null) {
                    array.set(i, replaced);
                } else {
                    walk(array.get(i), childPath);
                }
            }
        }
    }

    /** The node to put in place of {@code value}, or null to keep it (no reference, or not text). */
    private JsonNode replacement(JsonNode value, String path) {
        if (value == null || !value.isTextual() || value.textValue().indexOf('$') < 0) {
            return null;
        }
        String result = substitute(value.textValue(), path);
        if (result == null) {
            return null;
        }
        return result.isEmpty() ? NullNode.getInstance() : new Substituted(result);
    }

    /** {@code text} with its references replaced, or null when it has none (only lone '$' characters). */
    private String substitute(String text, String path) {
        StringBuilder out = new StringBuilder(text.length());
        boolean replaced = false;
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (c != '$') {
                out.append(c);
                i++;
            } else if (text.startsWith("$${", i)) {
                out.append("${");
                i += 3;
                replaced = true;
            } else if (text.startsWith("${", i)) {
                int end = text.indexOf('}', i + 2);
                if (end < 0) {
                    throw error(path, "'" + text + "': '${' without a closing '}' (write $${ for a literal ${)");
                }
                out.append(resolve(text.substring(i + 2, end), path));
                i = end + 1;
                replaced = true;
            } else {
                out.append(c);
                i++;
            }
        }
        return replaced ? out.toString() : null;
    }

    /** {@code NAME} or {@code NAME:-default}: the value, the default, or an error naming the variable. */
    private String resolve(String reference, String path) {
        int colon = reference.indexOf(":-");
        String name = colon < 0 ? reference : reference.substring(0, colon);
        if (!NAME.matcher(name).matches()) {
            throw error(path, "'${" + reference + "}' is not a variable reference (${NAME} or ${NAME:-default}, "
                    + "NAME letters, digits and '_')");
        }
        String value = env.get(name);
        if (colon >= 0) {
            if (reference.indexOf("${", colon) >= 0) {
                throw error(path, "'${" + reference + "': a default cannot contain a reference");
            }
            return value == null || value.isEmpty() ? reference.substring(colon + 2) : value;
        }
        if (value == null) {
            throw error(path, "environment variable " + name + " is not set (write ${" + name
                    + ":-default} to give a default)");
        }
        return value;
    }

    private ConfigException error(String path, String problem) {
        return new ConfigException(source, path, problem);
    }

    /**
     * Text that came from substitution: the typed readers of {@link BootstrapFields} accept it where a number or a
     * boolean is expected, since the environment has only strings.
     */
    static final class Substituted extends TextNode {
        Substituted(String v) {
            super(v);
        }
    }
}
