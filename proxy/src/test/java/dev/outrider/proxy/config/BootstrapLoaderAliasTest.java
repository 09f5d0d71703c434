package dev.outrider.proxy.config;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * YAML anchors and aliases in the bootstrap file are refused naming the field, as in every document Outrider
 * reads: Jackson would read {@code *name} as the string {@code name}.
 */
class BootstrapLoaderAliasTest {
    private static ConfigException error(String yaml) {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> BootstrapLoader.parse(yaml, "sidecar.yaml"));
        assertThat(e).as("refused").isNotNull();
        assertThat(e.source()).isEqualTo("sidecar.yaml");
        return e;
    }

    @Test
    void anAliasIsRefusedNamingTheField() {
        ConfigException e = error("node:\n  service: &svc orders\n  serviceAccount: *svc\n");

        assertThat(e.path()).isEqualTo("node.serviceAccount");
        assertThat(e).hasMessage("node.serviceAccount: YAML alias *svc (line 3, column 19) is not supported; quote a"
                + " value that starts with '*' (\"*svc\") or write the value out in full");
    }

    @Test
    void anAnchorIsRefusedNamingTheField() {
        ConfigException e = error("node: {service: orders}\nhttp: &limits {maxHeaderSize: 1024}\n");

        assertThat(e.path()).isEqualTo("http");
        assertThat(e).hasMessageStartingWith("http: YAML anchor &limits (line 2, column 7) is not supported");
    }

    @Test
    void aMergeKeyIsRefusedNamingTheMapping() {
        ConfigException e = error("node: {service: orders}\nupstream:\n  <<: *defaults\n");

        assertThat(e).hasMessage("upstream: YAML merge key <<: *defaults (line 3, column 7) is not supported; write"
                + " the fields out in full");
    }

    @Test
    void quotedValuesStartingWithStarOrAmpersandAreStrings() {
        BootstrapConfig c = BootstrapLoader.parse("node: {service: orders}\npolicies: {directory: \"*policies\"}\n"
                + "accessLog: {path: '&access.log'}\n", "sidecar.yaml");

        assertThat(c.policies().directory()).isEqualTo(Path.of("*policies"));
        assertThat(c.accessLog().path()).isEqualTo("&access.log");
    }
}
