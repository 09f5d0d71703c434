package dev.outrider.proxy.config;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** Duration fields of the bootstrap file: the grammar is {@code dev.outrider.core.document.Durations}. */
class BootstrapDurationsTest {

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
    void mixedUnitsAreOneDuration() {
        BootstrapConfig c = BootstrapLoader.parse(
                "node: {service: a}\nhttp: {idleTimeout: 1h30m}\nupstream: {connectTimeout: 1s500ms}\n", "t");
        assertThat(c.http().idleTimeout()).isEqualTo(Duration.ofMinutes(90));
        assertThat(c.upstream().connectTimeout()).isEqualTo(Duration.ofMillis(1500));
        assertThat(error("node: {service: a}\nhttp: {idleTimeout: 30m1h}\n"))
                .isEqualTo("http.idleTimeout: '30m1h' is not a duration (e.g. 250ms, 30s, 5m, 1h30m, 7d or"
                        + " ISO-8601 PT1S)");
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
