package dev.outrider.proxy.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DurationsTest {

    @ParameterizedTest
    @CsvSource({
            "250ms, PT0.25S",
            "1s, PT1S",
            "5m, PT5M",
            "1h, PT1H",
            "2d, PT48H",
            "0, PT0S",
            "0s, PT0S",
            "PT1S, PT1S",
            "pt1m30s, PT1M30S",
            "' 15s ', PT15S",
    })
    void parses(String text, String iso) {
        assertThat(Durations.parse(text)).isEqualTo(Duration.parse(iso));
    }

    @ParameterizedTest
    @CsvSource({"1", "1.5s", "s", "5 minutes", "1w", "PTx", "''", "-"})
    void rejectsMalformed(String text) {
        assertThatThrownBy(() -> Durations.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is not a duration");
    }

    @ParameterizedTest
    @CsvSource({"-1s", "PT-1S", "-PT1S"})
    void rejectsNegative(String text) {
        assertThatThrownBy(() -> Durations.parse(text)).hasMessage("'" + text + "' is negative");
    }

    @Test
    void rejectsOverflow() {
        assertThatThrownBy(() -> Durations.parse("99999999999999999999d")).hasMessageContaining("too large");
        assertThatThrownBy(() -> Durations.parse("9999999999999999h")).hasMessageContaining("too large");
    }

    @ParameterizedTest
    @CsvSource({"PT0S, 0", "PT0.25S, 250ms", "PT15S, 15s", "PT5M, 5m", "PT1H, 1h", "PT24H, 1d", "PT1M30S, 90s",
            "PT0.0000001S, PT0.0000001S"})
    void formatsInTheLargestWholeUnit(String iso, String text) {
        assertThat(Durations.format(Duration.parse(iso))).isEqualTo(text);
        assertThat(Durations.parse(text)).isEqualTo(Duration.parse(iso));
    }

    @Test
    void fieldErrorsNameThePath() {
        String base = "node: {service: a}\n";
        assertThat(error(base + "upstream: {connectTimeout: 0}\n"))
                .isEqualTo("upstream.connectTimeout: must be greater than 0");
        assertThat(error(base + "upstream: {connectTimeout: -5s}\n"))
                .isEqualTo("upstream.connectTimeout: '-5s' is negative");
        assertThat(error(base + "upstream: {requestTimeout: soon}\n"))
                .startsWith("upstream.requestTimeout: 'soon' is not a duration");
        assertThat(error(base + "http: {idleTimeout: 30}\n"))
                .isEqualTo("http.idleTimeout: 30 needs a unit (30ms, 30s, ...)");
        assertThat(error(base + "runtime: {drainTimeout: 2h}\n"))
                .isEqualTo("runtime.drainTimeout: 2h is longer than the maximum 1h");
        assertThat(error(base + "upstream: {idleTimeout: true}\n"))
                .isEqualTo("upstream.idleTimeout: expected a duration (250ms, 1s, 5m), got boolean true");
    }

    @Test
    void zeroDisablesWhereAllowed() {
        BootstrapConfig c = BootstrapLoader.parse(
                "node: {service: a}\nupstream: {requestTimeout: 0}\nhttp: {idleTimeout: 0s}\nruntime: {drainTimeout: 0}\n",
                "t");
        assertThat(c.upstream().requestTimeout()).isZero();
        assertThat(c.http().idleTimeout()).isZero();
        assertThat(c.runtime().drainTimeout()).isZero();
    }

    private static String error(String yaml) {
        try {
            BootstrapLoader.parse(yaml, "t");
        } catch (ConfigException e) {
            return e.getMessage();
        }
        throw new AssertionError("no error for " + yaml);
    }
}
