package dev.outrider.core.document;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** The one YAML reader's refusal of anchors and aliases: where it names them, and what it leaves alone. */
class NoAliasYamlFactoryTest {
    private static final YAMLMapper YAML = DocumentSyntax.yamlMapper();

    /** Reads every document of {@code text}; the refusal, which must come. */
    private static YamlAliasException refusal(ObjectMapper mapper, String text) {
        YamlAliasException e = catchThrowableOfType(YamlAliasException.class, () -> {
            try (var parser = mapper.createParser(text)) {
                while (parser.nextToken() != null) {
                    mapper.readTree(parser);
                }
            }
        });
        assertThat(e).as("refused").isNotNull();
        return e;
    }

    private static YamlAliasException refusal(String text) {
        return refusal(YAML, text);
    }

    @Test
    void anAliasIsNamedByTheFieldOrIndexItStandsFor() {
        assertThat(refusal("a: &x 1\nb: *x\n").describe())
                .isEqualTo("b: YAML alias *x (line 2, column 4) is not supported; quote a value that starts with '*'"
                        + " (\"*x\") or write the value out in full");
        assertThat(refusal("a:\n  b:\n  - c\n  - {d: [e, *x]}\n").path()).isEqualTo("a.b[1].d[1]");
        assertThat(refusal("- a\n- *x\n").path()).isEqualTo("[1]");
        assertThat(refusal("*x\n").path()).isEmpty();
        assertThat(refusal("a: {*x : 1}\n").path()).isEqualTo("a");
    }

    @Test
    void anAnchorIsNamedWhereverItStands() {
        assertThat(refusal("a: {b: 1}\nc: &list [1, 2]\n").describe())
                .isEqualTo("c: YAML anchor &list (line 2, column 4) is not supported; remove the anchor, or quote a"
                        + " value that starts with '&'");
        assertThat(refusal("a:\n  &k b: 1\n").path()).isEqualTo("a.b");
        assertThat(refusal("a:\n  b: 1\n  &k c: 2\n").path()).isEqualTo("a.c");
        assertThat(refusal("a: [1, &n {b: 2}]\n").path()).isEqualTo("a[1]");
        assertThat(refusal("&root {a: 1}\n").path()).isEmpty();
        assertThat(refusal("--- &s text\n").path()).isEmpty();
    }

    @Test
    void anAliasIsNamedRatherThanTheAnchorItRefersTo() {
        YamlAliasException e = refusal("defaults: &d {timeout: 1s}\nservice:\n  <<: *d\n");

        assertThat(e.describe()).isEqualTo("service: YAML merge key <<: *d (line 3, column 7) is not supported; write"
                + " the fields out in full");
        assertThat(e.getLocation().getLineNr()).isEqualTo(3);
        assertThat(e.getLocation().getColumnNr()).isEqualTo(7);
    }

    @Test
    void theDocumentIsCountedAsReadersCountThem() {
        assertThat(refusal("a: 1\n---\n---\nb: [*x]\n").document()).isEqualTo(3);
        assertThat(refusal("a: 1\n---\nb: &x 2\n---\nc: 3\n").document()).isEqualTo(2);
        assertThat(refusal("&x a: 1\n").document()).isEqualTo(1);
    }

    @Test
    void quotedStarsAndAmpersandsAndStarsInsideValuesAreStrings() throws Exception {
        JsonNode n = YAML.readTree("a: \"*x\"\nb: '&y'\nc: /api/*\nd: a&b\ne: ['*', \"*.example.com\"]\nf:\n");

        assertThat(n.toString()).isEqualTo("{\"a\":\"*x\",\"b\":\"&y\",\"c\":\"/api/*\",\"d\":\"a&b\","
                + "\"e\":[\"*\",\"*.example.com\"],\"f\":null}");
    }

    @Test
    void everyWayOfReadingRefuses() throws Exception {
        byte[] bytes = "a: *x\n".getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() -> YAML.readTree(bytes)).isInstanceOf(YamlAliasException.class);
        assertThatThrownBy(() -> YAML.readTree(new ByteArrayInputStream(bytes))).isInstanceOf(YamlAliasException.class);
        assertThatThrownBy(() -> YAML.readTree(new java.io.StringReader("a: *x\n")))
                .isInstanceOf(YamlAliasException.class);
        assertThatThrownBy(() -> YAML.readTree("a: " + "b".repeat(40_000) + "\nc: *x\n"))
                .isInstanceOf(YamlAliasException.class);
        assertThatThrownBy(() -> YAML.copy().readTree("a: *x\n")).isInstanceOf(YamlAliasException.class);
        assertThatThrownBy(() -> YAML.getFactory().rebuild()).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void theSettingsOfTheGivenFactoryAreKept() throws Exception {
        ObjectMapper emptyIsString = new ObjectMapper(NoAliasYamlFactory.of(YAMLFactory.builder().build()));
        ObjectMapper emptyIsNull = new ObjectMapper(NoAliasYamlFactory.of(YAMLFactory.builder()
                .enable(YAMLParser.Feature.EMPTY_STRING_AS_NULL).build()));

        assertThat(emptyIsString.readTree("a:\n").get("a").isTextual()).isTrue();
        assertThat(emptyIsNull.readTree("a:\n").get("a").isNull()).isTrue();
        assertThat(refusal(emptyIsNull, "a: *x\n").path()).isEqualTo("a");
    }

    @Test
    void readersWordTheRefusalThroughTheirFieldErrors() {
        List<String> reported = new ArrayList<>();
        FieldErrors errors = (path, problem) -> {
            reported.add(path + " | " + problem);
            return new IllegalArgumentException(problem);
        };

        DocumentSyntax.parseFailure(refusal("a: [*x]\n"), errors);

        assertThat(reported).containsExactly("a[0] | YAML alias *x (line 1, column 5) is not supported; quote a value"
                + " that starts with '*' (\"*x\") or write the value out in full");
    }
}
