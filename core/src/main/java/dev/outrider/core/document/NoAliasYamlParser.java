package dev.outrider.core.document;

import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.ObjectCodec;
import com.fasterxml.jackson.core.io.IOContext;
import com.fasterxml.jackson.core.json.JsonReadContext;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.events.AliasEvent;
import org.yaml.snakeyaml.events.CollectionEndEvent;
import org.yaml.snakeyaml.events.DocumentEndEvent;
import org.yaml.snakeyaml.events.DocumentStartEvent;
import org.yaml.snakeyaml.events.Event;
import org.yaml.snakeyaml.events.NodeEvent;
import org.yaml.snakeyaml.events.ScalarEvent;
import org.yaml.snakeyaml.events.StreamEndEvent;

import java.io.IOException;
import java.io.Reader;

/**
 * Jackson's YAML parser, refusing anchors and aliases ({@link YamlAliasException}). It sees each SnakeYAML event
 * before Jackson turns it into a token, which is where an alias would become the anchor's name as a plain string
 * and an anchor would be dropped. An alias is refused at once; an anchor when the root node of its document ends,
 * so that when the document also has an alias, the alias (where the meaning would change) is what is named.
 * The path is worked out from the context the event is about to enter: the next index of a list, the current
 * field of a mapping, or, for a key, the key under its mapping. Confined to the reading thread, as any parser.
 */
final class NoAliasYamlParser extends YAMLParser {
    private static final String MERGE_KEY = "<<";

    /** Documents started so far: the current one's number, 1-based. */
    private int document;
    /** The current document's first anchor, refused when its root node ends unless an alias comes first. */
    private YamlAliasException anchor;

    NoAliasYamlParser(IOContext context, int parserFeatures, int yamlFeatures, LoaderOptions options,
                      ObjectCodec codec, Reader reader) {
        super(context, parserFeatures, yamlFeatures, options, codec, reader);
    }

    @Override
    protected Event getEvent() throws IOException {
        Event event = super.getEvent();
        if (event instanceof DocumentStartEvent) {
            document++;
            anchor = null;
        } else if (event instanceof AliasEvent alias) {
            throw aliasRefused(alias);
        } else if (anchor == null && event instanceof NodeEvent node && node.getAnchor() != null) {
            anchor = refusal(pathOf(event), "YAML anchor &" + node.getAnchor()
                    + DocumentSyntax.position(event.getStartMark())
                    + " is not supported; remove the anchor, or quote a value that starts with '&'", event);
        }
        if (anchor != null && endsRootNode(event)) {
            throw anchor;
        }
        return event;
    }

    private YamlAliasException aliasRefused(AliasEvent alias) {
        String name = alias.getAnchor();
        String at = DocumentSyntax.position(alias.getStartMark());
        JsonReadContext context = _parsingContext;
        if (context.inObject() && _currToken == JsonToken.FIELD_NAME && MERGE_KEY.equals(context.getCurrentName())) {
            return refusal(DocumentSyntax.pathOf(context.getParent()), "YAML merge key <<: *" + name + at
                    + " is not supported; write the fields out in full", alias);
        }
        return refusal(pathOf(alias), "YAML alias *" + name + at + " is not supported; quote a value that starts with"
                + " '*' (\"*" + name + "\") or write the value out in full", alias);
    }

    /** The path of the node {@code event} starts, from the context before Jackson has moved into it. */
    private String pathOf(Event event) {
        JsonReadContext context = _parsingContext;
        if (context.inArray()) {
            return DocumentSyntax.pathOf(context.getParent()) + "[" + context.getEntryCount() + "]";
        }
        if (context.inObject()) {
            if (_currToken == JsonToken.FIELD_NAME) {
                return DocumentSyntax.pathOf(context);
            }
            String mapping = DocumentSyntax.pathOf(context.getParent());
            return event instanceof ScalarEvent key ? DocumentFields.child(mapping, key.getValue()) : mapping;
        }
        return "";
    }

    /** Whether {@code event} closes the document's root node (or the document, or the text). */
    private boolean endsRootNode(Event event) {
        return event instanceof CollectionEndEvent && _parsingContext.getParent() != null
                && _parsingContext.getParent().inRoot()
                || event instanceof ScalarEvent && _parsingContext.inRoot()
                || event instanceof DocumentEndEvent || event instanceof StreamEndEvent;
    }

    private YamlAliasException refusal(String path, String problem, Event event) {
        return new YamlAliasException(this, Math.max(document, 1), path, problem, _locationFor(event.getStartMark()));
    }
}
