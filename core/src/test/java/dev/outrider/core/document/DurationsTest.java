package dev.outrider.core.document;

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

    @ParameterizedTest
    @CsvSource({
            "1h30m, PT1H30M",
            "1m30s, PT1M30S",
            "1d12h, PT36H",
            "7d, PT168H",
            "1m30s500ms, PT1M30.5S",
            "2h0m, PT2H",
            "10ms, PT0.01S",
            "P1DT2H, PT26H",
    })
    void mixedUnitsLargestFirst(String text, String iso) {
        assertThat(Durations.parse(text)).isEqualTo(Duration.parse(iso));
        assertThat(Durations.isDuration(text)).isTrue();
    }

    @ParameterizedTest
    @CsvSource({"30s1m", "1m1m", "1ms1s", "1h 30m", "1 s", "01s", "030s", "1S", "1H", "1.5h", "+1s", "PT+1S",
            "PT1H-30M", "1s-", "h1", "0x10s", "1sms"})
    void refusesAnythingElse(String text) {
        assertThatThrownBy(() -> Durations.parse(text))
                .isInstanceOf(Durations.InvalidDurationException.class)
                .hasMessage("'" + text + "' is not a duration (e.g. 250ms, 30s, 5m, 1h30m, 7d or ISO-8601 PT1S)");
        assertThat(Durations.isDuration(text)).isFalse();
    }

    @Test
    void errorsQuoteTheTextSafelyAndSayWhy() {
        assertThatThrownBy(() -> Durations.parse("1s\u0007")).hasMessageStartingWith("'1s\\u0007' is not a duration");
        assertThatThrownBy(() -> Durations.parse("-1h30m")).hasMessage("'-1h30m' is negative");
        assertThatThrownBy(() -> Durations.parse("99999999999999999999d"))
                .isInstanceOfSatisfying(Durations.InvalidDurationException.class,
                        e -> assertThat(e.tooLarge()).isTrue());
        assertThatThrownBy(() -> Durations.parse("1x"))
                .isInstanceOfSatisfying(Durations.InvalidDurationException.class,
                        e -> assertThat(e.tooLarge()).isFalse());
        assertThatThrownBy(() -> Durations.parse("100000000000000d200000000000000h"))
                .hasMessage("'100000000000000d200000000000000h' is too large");
    }

    @Test
    void formatRefusesNegatives() {
        assertThatThrownBy(() -> Durations.format(Duration.ofSeconds(-1))).isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest
    @CsvSource({"PT168H, 7d", "PT48H, 2d", "PT24H, 24h", "PT1H, 1h", "PT5M, 5m", "PT1M, 60s", "PT90S, 90s",
            "PT1S, 1s", "PT0S, 0s", "PT90M, 90m"})
    void formatsInSecondsAsTheControlPlaneWritesThem(String iso, String text) {
        assertThat(Durations.formatInSeconds(Duration.parse(iso))).isEqualTo(text);
        assertThat(Durations.parse(text)).isEqualTo(Duration.parse(iso));
    }
}
