package dev.outrider.proxy.config;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as written in the bootstrap file: a whole number with a unit ({@code 250ms}, {@code 1s},
 * {@code 5m}, {@code 1h}, {@code 1d}), a plain {@code 0}, or ISO-8601 ({@code PT1S}). Formatting is the
 * inverse for whole units, so {@link #format} output parses back to the same value.
 */
final class Durations {
    private static final Pattern SIMPLE = Pattern.compile("(-?\\d+)\\s*(ms|s|m|h|d)");

    private Durations() {
    }

    /** Parses {@code text}; the exception message says what is wrong, without a field path. */
    static Duration parse(String text) {
        String s = text.strip();
        if (s.equals("0")) {
            return Duration.ZERO;
        }
        Duration d;
        Matcher m = SIMPLE.matcher(s);
        if (m.matches()) {
            long amount;
            try {
                amount = Long.parseLong(m.group(1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + text + "' is too large");
            }
            try {
                d = switch (m.group(2)) {
                    case "ms" -> Duration.ofMillis(amount);
                    case "s" -> Duration.ofSeconds(amount);
                    case "m" -> Duration.ofMinutes(amount);
                    case "h" -> Duration.ofHours(amount);
                    default -> Duration.ofDays(amount);
                };
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("'" + text + "' is too large");
            }
        } else if (s.length() > 1 && (s.charAt(0) == 'P' || s.charAt(0) == 'p' || s.charAt(0) == '-')) {
            try {
                d = Duration.parse(s);
            } catch (DateTimeParseException e) {
                throw malformed(text);
            }
        } else {
            throw malformed(text);
        }
        if (d.isNegative()) {
            throw new IllegalArgumentException("'" + text + "' is negative");
        }
        return d;
    }

    /** {@code 0}, or the largest whole unit: {@code 1h}, {@code 5m}, {@code 15s}, {@code 250ms}. */
    static String format(Duration d) {
        if (d.isZero()) {
            return "0";
        }
        if (d.getNano() % 1_000_000 != 0) {
            return d.toString(); // sub-millisecond: ISO-8601 keeps it exact
        }
        long ms = d.toMillis();
        if (ms % 86_400_000 == 0) {
            return ms / 86_400_000 + "d";
        }
        if (ms % 3_600_000 == 0) {
            return ms / 3_600_000 + "h";
        }
        if (ms % 60_000 == 0) {
            return ms / 60_000 + "m";
        }
        if (ms % 1_000 == 0) {
            return ms / 1_000 + "s";
        }
        return ms + "ms";
    }

    private static IllegalArgumentException malformed(String text) {
        return new IllegalArgumentException("'" + text + "' is not a duration (250ms, 1s, 5m, 1h, 0 or ISO-8601 PT1S)");
    }
}
