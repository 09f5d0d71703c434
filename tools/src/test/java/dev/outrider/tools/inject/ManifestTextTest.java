package dev.outrider.tools.inject;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Reading and writing manifest text: the YAML written reads back as the same values, in kubectl's style. */
class ManifestTextTest {
    private static String roundTrip(String text) {
        return ManifestText.write(ManifestText.read(text, "t").stream().map(ManifestText.Document::node).toList());
    }

    @Test
    void writesKubectlStyle() {
        String text = """
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: c, labels: {app: a}}
                data:
                  list: [a, b]
                """;
        assertThat(roundTrip(text)).isEqualTo("""
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: c
                  labels:
                    app: a
                data:
                  list:
                  - a
                  - b
                """);
    }

    @Test
    void stringsThatWouldReadAsOtherTypesStayQuoted() {
        String text = """
                data:
                  port: "8080"
                  flag: "true"
                  yes: "yes"
                  off: "off"
                  null: "null"
                  tilde: "~"
                  octal: "0644"
                  float: "1.0"
                  exp: "1e3"
                  empty: ""
                  star: "*/5 * * * *"
                  colon: "a: b"
                  hash: "a #b"
                  lead: " x"
                  multi: "line 1\\nline 2\\n"
                  long: "%s"
                """.formatted("x ".repeat(80).strip());
        List<ManifestText.Document> in = ManifestText.read(text, "t");
        String out = roundTrip(text);
        assertThat(ManifestText.read(out, "t").get(0).node()).isEqualTo(in.get(0).node());
        assertThat(out).contains("port: \"8080\"", "flag: \"true\"", "octal: \"0644\"", "multi: |\n    line 1\n")
                .contains("long: " + "x ".repeat(80).strip() + "\n"); // not folded
    }

    @Test
    void yaml11NumbersAreReadAsKubectlReadsThem() {
        JsonNode n = ManifestText.read("mode: 0644\nhex: 0x1F\nbig: 123456789012345678901\n", "t").get(0).node();
        assertThat(n.path("mode").intValue()).isEqualTo(0644); // octal, as go-yaml reads it: 420
        assertThat(n.path("hex").intValue()).isEqualTo(31);
        assertThat(n.path("big").bigIntegerValue().toString()).isEqualTo("123456789012345678901");
        assertThat(roundTrip("mode: 0644\n")).isEqualTo("mode: 420\n");
    }

    @Test
    void documentsAreNumberedAsWrittenAndEmptyOnesDropped() {
        String text = "# leading comment\n---\na: 1\n---\n---\n# only a comment\n---\nb: 2\n...\n";
        List<ManifestText.Document> docs = ManifestText.read(text, "t");
        assertThat(docs).extracting(ManifestText.Document::index).containsExactly(1, 4);
        assertThat(docs).extracting(ManifestText.Document::line).containsExactly(3, 8);
        assertThat(roundTrip(text)).isEqualTo("a: 1\n---\nb: 2\n");
        assertThat(roundTrip("")).isEmpty();
        assertThat(roundTrip("# nothing\n")).isEmpty();
    }

    @Test
    void jsonInputIsReadAndWrittenAsYaml() {
        String json = "{\"apiVersion\": \"v1\",\n\t\"kind\": \"Service\", \"metadata\": {\"name\": \"s\"}}\n"
                + "{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"c\"}}";
        assertThat(roundTrip(json)).isEqualTo("""
                apiVersion: v1
                kind: Service
                metadata:
                  name: s
                ---
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: c
                """);
        assertThatThrownBy(() -> ManifestText.read("{\"a\": 1,}", "t.json"))
                .isInstanceOf(InjectException.class).hasMessageStartingWith("t.json: document 1 (line 1): not JSON: ")
                .hasMessageEndingWith("(line 1)");
    }

    @Test
    void anEmptyValueIsNullAndAQuotedEmptyStringStaysAString() {
        JsonNode n = ManifestText.read("a:\nb: \"\"\nc: ''\n", "t").get(0).node();
        assertThat(n.get("a").isNull()).isTrue();
        assertThat(n.get("b").isTextual()).isTrue();
        assertThat(n.get("c").isTextual()).isTrue();
        assertThat(roundTrip("a:\nb: \"\"\n")).isEqualTo("a: null\nb: \"\"\n");
    }

    @Test
    void aYamlFlowMappingIsReadAsYaml() {
        assertThat(roundTrip("{apiVersion: v1, kind: Service}\n---\n{kind: ConfigMap}\n"))
                .isEqualTo("apiVersion: v1\nkind: Service\n---\nkind: ConfigMap\n");
    }

    @Test
    void aByteOrderMarkIsDropped() {
        assertThat(roundTrip("\uFEFFa: 1\n")).isEqualTo("a: 1\n");
    }

    @Test
    void mergeKeysAreAliasesAndRefused() {
        String text = "a: 1\n---\nc:\n  <<: *b\n  y: 2\n";
        assertThatThrownBy(() -> ManifestText.read(text, "t"))
                .hasMessage("t: document 2: c: YAML merge key <<: *b (line 4, column 7) is not supported; write the fields"
                        + " out in full");
    }

    @Test
    void anchorsAreRefusedEvenWithoutAnAlias() {
        String text = "base: &b {x: 1}\n---\nc: 2\n";
        assertThatThrownBy(() -> ManifestText.read(text, "t"))
                .hasMessage("t: document 1: base: YAML anchor &b (line 1, column 7) is not supported; remove the anchor,"
                        + " or quote a value that starts with '&'");
        assertThat(ManifestText.read("a: '&b'\nc: \"*d\"\n", "t").getFirst().node().toString())
                .isEqualTo("{\"a\":\"&b\",\"c\":\"*d\"}");
    }
}
