package dev.outrider.core.document;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.core.util.RequestPayload;

import static java.util.Objects.requireNonNull;

/**
 * A YAML anchor ({@code &name}) or alias ({@code *name}, merge keys {@code <<: *name} included) in a document read
 * with {@link NoAliasYamlFactory}. A {@link StreamReadException}, so every reader's parse-error path carries it;
 * readers word it as {@code <where>: <path>: <problem>} ({@link #describe()}). The original message is the problem.
 */
public final class YamlAliasException extends StreamReadException {
    private static final long serialVersionUID = 1L;

    private final int document;
    private final String path;

    YamlAliasException(JsonParser parser, int document, String path, String problem, JsonLocation location) {
        super(parser, requireNonNull(problem, "problem"), location);
        this.document = document;
        this.path = requireNonNull(path, "path");
    }

    /** Which document of the text, 1-based, counting every document (empty ones too). */
    public int document() {
        return document;
    }

    /** The field, as errors write paths ({@code spec.rules[0].from[0].source.principals[0]}); empty for the document. */
    public String path() {
        return path;
    }

    /** What is refused, where in the text and what to write instead, without the path. */
    public String problem() {
        return getOriginalMessage();
    }

    /** {@code <path>: <problem>}, or the problem alone for the document as a whole. */
    public String describe() {
        return path.isEmpty() ? problem() : path + ": " + problem();
    }

    @Override
    public YamlAliasException withParser(JsonParser parser) {
        _processor = parser;
        return this;
    }

    @Override
    public YamlAliasException withRequestPayload(RequestPayload payload) {
        _requestPayload = payload;
        return this;
    }
}
