package dev.outrider.controlplane.api;

import dev.outrider.controlplane.server.ApiException;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Durations in request bodies: a positive whole number and a unit, {@code s}, {@code m}, {@code h} or {@code d}. */
final class ApiDurations {
    private static final Pattern FORM = Pattern.compile("([1-9][0-9]{0,8})([smhd])");

    private ApiDurations() {
    }

    /** Parses {@code text} of {@code field}; 400 naming the field unless it lies in [{@code min}, {@code max}]. */
    static Duration parse(String field, String text, Duration min, Duration max) {
        Matcher m = FORM.matcher(text);
        if (!m.matches()) {
            throw ApiException.invalid(field, "field '" + field + "' must be a duration such as 90s, 30m, 1h or 1d, not '"
                    + printable(text) + "'");
        }
        long amount = Long.parseLong(m.group(1));
        Duration d = switch (m.group(2)) {
            case "s" -> Duration.ofSeconds(amount);
            case "m" -> Duration.ofMinutes(amount);
            case "h" -> Duration.ofHours(amount);
            default -> Duration.ofDays(amount);
        };
        if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
            throw ApiException.invalid(field, "field '" + field + "' must lie between " + text(min) + " and "
                    + text(max) + ", not " + text);
        }
        return d;
    }

    /**
     * {@code d} in its largest exact unit, as docs/control-plane.md writes durations: days and minutes only for
     * more than one ({@code 7d}, {@code 24h}, {@code 1h}, {@code 5m}, {@code 60s}, {@code 90s}).
     */
    static String text(Duration d) {
        long s = d.toSeconds();
        if (s > 86_400 && s % 86_400 == 0) {
            return s / 86_400 + "d";
        }
        if (s != 0 && s % 3600 == 0) {
            return s / 3600 + "h";
        }
        if (s > 60 && s % 60 == 0) {
            return s / 60 + "m";
        }
        return s + "s";
    }

    private static String printable(String text) {
        String cut = text.length() > 40 ? text.substring(0, 40) + "..." : text;
        return cut.replaceAll("[^\\x20-\\x7e]", "?");
    }
}
