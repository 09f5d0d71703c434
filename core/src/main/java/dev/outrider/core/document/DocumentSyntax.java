package dev.outrider.core.document;

import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.JacksonYAMLParseException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;

import java.util.ArrayDeque;
import java.util.Deque;

import static java.util.Objects.requireNonNull;

/**
 * The text layer of document readers: the Jackson mappers they parse with (duplicate keys refused by the parser,
 * not silently resolved to the last one; YAML anchors and aliases refused, {@link NoAliasYamlFactory}), a leading
 * byte order mark dropped, and parse errors worded the same everywhere: SnakeYAML's problem and position, a
 * refused anchor or alias at its field, or Jackson's problem, the path it had reached and the line.
 * Pure functions.
 */
public final class DocumentSyntax {
    private static final String BYTE_ORDER_MARK = "\uFEFF";

    private DocumentSyntax() {
    }

    /** A new YAML mapper (multi-document, with {@code ---}) that refuses duplicate keys, anchors and aliases. */
    public static YAMLMapper yamlMapper() {
        return YAMLMapper.builder(NoAliasYamlFactory.of(new YAMLFactory()))
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
    }

    /** A new JSON mapper that refuses duplicate keys and reads objects one after the other from one text. */
    public static JsonMapper jsonMapper() {
        return JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
    }

    /** {@code text} without the byte order mark some editors write at its start. */
    public static String withoutByteOrderMark(String text) {
        return text.startsWith(BYTE_ORDER_MARK) ? text.substring(BYTE_ORDER_MARK.length()) : text;
    }

    /**
     * What to throw for a text that does not parse, through {@code errors}: for YAML, SnakeYAML's problem and
     * position ({@code (line 3, column 5)}) at the empty path; for a YAML anchor or alias, the refusal at its
     * field; for JSON (and YAML structure errors such as a duplicate key), Jackson's problem and line at the path
     * the parser had reached ({@code spec.rules[0]}).
     */
    public static RuntimeException parseFailure(StreamReadException e, FieldErrors errors) {
        requireNonNull(e, "e");
        requireNonNull(errors, "errors");
        if (e instanceof JacksonYAMLParseException yaml) {
            return errors.fail("", yamlProblem(yaml));
        }
        if (e instanceof YamlAliasException alias) {
            return errors.fail(alias.path(), alias.problem());
        }
        var at = e.getLocation();
        return errors.fail(e.getProcessor() == null ? "" : pathOf(e.getProcessor().getParsingContext()),
                e.getOriginalMessage() + (at == null ? "" : " (line " + at.getLineNr() + ")"));
    }

    /**
     * What to throw for a text beyond the parser's limits (nesting depth, length of a number, string or name;
     * Jackson's {@code StreamReadConstraints}), which Jackson reports apart from parse errors: its problem and line
     * at the empty path.
     */
    public static RuntimeException parseFailure(StreamConstraintsException e, FieldErrors errors) {
        requireNonNull(e, "e");
        requireNonNull(errors, "errors");
        var at = e.getLocation();
        return errors.fail("", e.getOriginalMessage() + (at == null ? "" : " (line " + at.getLineNr() + ")"));
    }

    /**
     * SnakeYAML's own problem and position, without the excerpt of the text it appends. A plain value starting
     * with {@code *} or {@code &} that cannot even be an alias or anchor name ({@code *.example.com}) gets the same
     * hint as a refused alias.
     */
    public static String yamlProblem(JacksonYAMLParseException e) {
        if (e.getCause() instanceof MarkedYAMLException marked && marked.getProblem() != null) {
            return yamlProblem(marked);
        }
        return e.getOriginalMessage();
    }

    /** As {@link #yamlProblem(JacksonYAMLParseException)}, for SnakeYAML read on its own. */
    public static String yamlProblem(MarkedYAMLException e) {
        String problem = (e.getProblem() == null ? e.getMessage() : e.getProblem()) + position(e.getProblemMark());
        return switch (String.valueOf(e.getContext())) {
            case "while scanning an alias" -> problem + " in a YAML alias; quote a value that starts with '*'";
            case "while scanning an anchor" -> problem + " in a YAML anchor; quote a value that starts with '&'";
            default -> problem;
        };
    }

    /** A SnakeYAML position as errors write it, {@code " (line 3, column 5)"} (1-based); empty for none. */
    public static String position(Mark mark) {
        return mark == null ? "" : " (line " + (mark.getLine() + 1) + ", column " + (mark.getColumn() + 1) + ")";
    }

    /** {@code spec.rules[0]} for the parser's position, as paths are written in errors. */
    static String pathOf(JsonStreamContext context) {
        Deque<String> parts = new ArrayDeque<>();
        for (JsonStreamContext c = context; c != null && !c.inRoot(); c = c.getParent()) {
            if (c.inArray()) {
                parts.push("[" + Math.max(c.getCurrentIndex(), 0) + "]");
            } else if (c.getCurrentName() != null) {
                parts.push("." + c.getCurrentName());
            }
        }
        String path = String.join("", parts);
        return path.startsWith(".") ? path.substring(1) : path;
    }
}
