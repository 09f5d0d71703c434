package dev.outrider.core.document;

import com.fasterxml.jackson.core.ObjectCodec;
import com.fasterxml.jackson.core.io.IOContext;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactoryBuilder;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;

import java.io.CharArrayReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;

import static java.util.Objects.requireNonNull;

/**
 * How Outrider reads YAML: Jackson's YAML factory whose parsers refuse anchors ({@code &name}) and aliases
 * ({@code *name}, merge keys {@code <<: *name}) with a {@link YamlAliasException} naming the field. Jackson does
 * not resolve aliases: it reads {@code principals: [*intruder]} as {@code ["intruder"]}, and an unquoted
 * {@code *suffix} pattern is an alias in YAML, so a document would silently mean something else than it says.
 * Every YAML reader of the project (policy documents, resources, manifests, the bootstrap file) builds its mapper
 * on this factory; {@link DocumentSyntax#yamlMapper()} is the usual one. JSON has neither and needs nothing.
 * Immutable once built, like any Jackson factory.
 */
public final class NoAliasYamlFactory extends YAMLFactory {
    private static final long serialVersionUID = 1L;

    private NoAliasYamlFactory(YAMLFactory settings, ObjectCodec codec) {
        super(settings, codec);
    }

    /**
     * A factory with the settings of {@code settings} (parser features, SnakeYAML loader options, ...), e.g.
     * {@code NoAliasYamlFactory.of(YAMLFactory.builder().enable(YAMLParser.Feature.EMPTY_STRING_AS_NULL).build())}.
     */
    public static NoAliasYamlFactory of(YAMLFactory settings) {
        return new NoAliasYamlFactory(requireNonNull(settings, "settings"), null);
    }

    @Override
    public NoAliasYamlFactory copy() {
        _checkInvalidCopy(NoAliasYamlFactory.class);
        return new NoAliasYamlFactory(this, null);
    }

    /** Refused: a builder would build a plain {@link YAMLFactory}, which reads aliases as strings. */
    @Override
    public YAMLFactoryBuilder rebuild() {
        throw new UnsupportedOperationException("build a YAMLFactory and wrap it with NoAliasYamlFactory.of");
    }

    @Override
    protected Object readResolve() {
        return new NoAliasYamlFactory(this, _objectCodec);
    }

    @Override
    protected YAMLParser _createParser(InputStream in, IOContext context) throws IOException {
        return parser(context, _createReader(in, null, context));
    }

    @Override
    protected YAMLParser _createParser(Reader reader, IOContext context) {
        return parser(context, reader);
    }

    @Override
    protected YAMLParser _createParser(char[] data, int offset, int length, IOContext context, boolean recyclable) {
        return parser(context, new CharArrayReader(data, offset, length));
    }

    @Override
    protected YAMLParser _createParser(byte[] data, int offset, int length, IOContext context) throws IOException {
        return parser(context, _createReader(data, offset, length, null, context));
    }

    private YAMLParser parser(IOContext context, Reader reader) {
        return new NoAliasYamlParser(context, _parserFeatures, _yamlParserFeatures, _loaderOptions, _objectCodec, reader);
    }
}
