package dev.outrider.proxy.config;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** README's configuration reference shows the defaults; this keeps it in step with the loader. */
class ReadmeConfigReferenceTest {
    private static final Path README = Path.of("..", "README.md");

    private static String section() throws IOException {
        String readme = Files.readString(README);
        int start = readme.indexOf("## Configuration reference");
        assertThat(start).as("README has a configuration reference").isNotNegative();
        return readme.substring(start);
    }

    @Test
    void theYamlExampleShowsTheDefaults() throws IOException {
        Matcher m = Pattern.compile("```yaml\\n(.*?)```", Pattern.DOTALL).matcher(section());
        assertThat(m.find()).as("a yaml block in the reference").isTrue();
        BootstrapConfig shown = BootstrapLoader.parse(m.group(1), "README.md");
        BootstrapConfig defaults = BootstrapLoader.parse("node: {service: orders}\n", "defaults");

        assertThat(shown.node()).isEqualTo(defaults.node());
        assertThat(shown.inbound()).isEqualTo(defaults.inbound());
        assertThat(shown.outbound().listen()).isEqualTo(defaults.outbound().listen());
        assertThat(shown.http()).isEqualTo(defaults.http());
        assertThat(shown.upstream()).isEqualTo(defaults.upstream());
        assertThat(shown.health()).isEqualTo(defaults.health());
        assertThat(shown.admin()).isEqualTo(defaults.admin());
        assertThat(shown.runtime()).isEqualTo(defaults.runtime());
        assertThat(shown.accessLog()).isEqualTo(defaults.accessLog());
        assertThat(shown.tls()).isEqualTo(defaults.tls());
        assertThat(shown.policies()).isEqualTo(defaults.policies());
        assertThat(shown.jwt()).isEqualTo(defaults.jwt());
        assertThat(shown.rateLimits()).isEqualTo(defaults.rateLimits());
    }

    /** Every leaf of the effective config has a row (`section.field` or `section[].field`) in the table. */
    @Test
    void theTableHasARowForEveryField() throws IOException {
        String table = section();
        BootstrapConfig c = BootstrapLoader.parse("""
                node: {service: a}
                outbound: {upstreams: [{service: b, port: 9001}]}
                services: [{name: b, endpoints: ["h:1"]}]
                """, "t");
        ConfigView.redacted(c).forEach((section, value) -> {
            if (value instanceof java.util.Map<?, ?> fields) {
                fields.forEach((field, v) -> {
                    assertThat(table).contains("| `" + section + "." + field + "` |");
                    if (v instanceof java.util.List<?> l && !l.isEmpty() && l.getFirst() instanceof java.util.Map<?, ?> e) {
                        e.keySet().forEach(k -> assertThat(table).contains("| `" + section + "." + field + "[]." + k + "` |"));
                    }
                });
            } else if (value instanceof java.util.List<?> l) {
                assertThat(table).contains("| `" + section + "` |");
                ((java.util.Map<?, ?>) l.getFirst()).keySet()
                        .forEach(k -> assertThat(table).contains("| `" + section + "[]." + k + "` |"));
            }
        });
    }
}
