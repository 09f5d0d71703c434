package dev.outrider.core.client;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static java.util.Objects.requireNonNull;

/**
 * Durations as the control plane's API and documents write them: whole numbers with a unit, largest first,
 * e.g. {@code 60s}, {@code 1h}, {@code 1h30m}, {@code 500ms}. Pure functions.
 */
public final class Durations {
    private static final Pattern DURATION = Pattern.compile("(?:\\d{1,9}(?:h|ms|m|s))+");
    private static final Pattern PART = Pattern.compile("(\\d{1,9})(h|ms|m|s)");

    private Durations() {
    }

    /** @throws IllegalArgumentException naming the text when it is not a duration */
    public static Duration parse(String text) {
        requireNonNull(text, "text");
        if (!DURATION.matcher(text).matches()) {
            throw new IllegalArgumentException("'" + text + "' is not a duration (e.g. 30s, 5m, 1h, 1h30m)");
        }
        Duration total = Duration.ZERO;
        Matcher m = PART.matcher(text);
        while (m.find()) {
            long n = Long.parseLong(m.group(1));
            total = total.plus(switch (m.group(2)) {
                case "h" -> Duration.ofHours(n);
                case "m" -> Duration.ofMinutes(n);
                case "s" -> Duration.ofSeconds(n);
                default -> Duration.ofMillis(n);
            });
        }
        return total;
    }

    /** {@code d} in the largest unit that divides it: {@code 1h}, {@code 90m}, {@code 45s}. */
    public static String format(Duration d) {
        requireNonNull(d, "d");
        if (d.isNegative() || d.isZero() || d.toNanos() % 1_000_000_000L != 0) {
            throw new IllegalArgumentException("duration " + d + " must be a positive whole number of seconds");
        }
        long s = d.toSeconds();
        return s % 3600 == 0 ? s / 3600 + "h" : s % 60 == 0 ? s / 60 + "m" : s + "s";
    }
}
