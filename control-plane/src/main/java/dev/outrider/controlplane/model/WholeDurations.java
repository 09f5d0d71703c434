package dev.outrider.controlplane.model;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static java.util.Objects.requireNonNull;

/**
 * Durations as the control plane's documents and API bodies write them (docs/control-plane.md): a whole number
 * and one unit, {@code s}, {@code m}, {@code h} or {@code d} ({@code 90s}, {@code 30m}, {@code 24h},
 * {@code 7d}). Each caller words its own errors and bounds. Pure functions.
 */
public final class WholeDurations {
    private static final Pattern FORM = Pattern.compile("(0|[1-9][0-9]{0,8})([smhd])");

    private WholeDurations() {
    }

    /** {@code text} as a duration, or null when it is not at most nine digits (no leading zero) and one unit. */
    public static Duration parse(String text) {
        Matcher m = FORM.matcher(requireNonNull(text, "text"));
        if (!m.matches()) {
            return null;
        }
        long amount = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "s" -> Duration.ofSeconds(amount);
            case "m" -> Duration.ofMinutes(amount);
            case "h" -> Duration.ofHours(amount);
            default -> Duration.ofDays(amount);
        };
    }

    /**
     * {@code d} in its largest exact unit, as the docs write durations: days and minutes only for more than one
     * ({@code 7d}, {@code 24h}, {@code 1h}, {@code 5m}, {@code 60s}, {@code 90s}); below a second is dropped.
     */
    public static String format(Duration d) {
        long seconds = d.toSeconds();
        if (seconds > 86_400 && seconds % 86_400 == 0) {
            return seconds / 86_400 + "d";
        }
        if (seconds != 0 && seconds % 3_600 == 0) {
            return seconds / 3_600 + "h";
        }
        if (seconds > 60 && seconds % 60 == 0) {
            return seconds / 60 + "m";
        }
        return seconds + "s";
    }
}
