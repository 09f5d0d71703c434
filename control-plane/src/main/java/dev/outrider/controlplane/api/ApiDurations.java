package dev.outrider.controlplane.api;

import dev.outrider.controlplane.model.WholeDurations;
import dev.outrider.controlplane.server.ApiException;

import java.time.Duration;

/**
 * Durations in request bodies, as {@link WholeDurations} reads them but positive, worded as the API's other
 * field errors.
 */
final class ApiDurations {
    private ApiDurations() {
    }

    /** Parses {@code text} of {@code field}; 400 naming the field unless it lies in [{@code min}, {@code max}]. */
    static Duration parse(String field, String text, Duration min, Duration max) {
        Duration d = WholeDurations.parse(text);
        if (d == null || d.isZero()) {
            throw ApiException.invalid(field, "field '" + field + "' must be a duration such as 90s, 30m, 1h or 1d, not '"
                    + printable(text) + "'");
        }
        if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
            throw ApiException.invalid(field, "field '" + field + "' must lie between " + WholeDurations.format(min)
                    + " and " + WholeDurations.format(max) + ", not " + text);
        }
        return d;
    }

    private static String printable(String text) {
        String cut = text.length() > 40 ? text.substring(0, 40) + "..." : text;
        return cut.replaceAll("[^\\x20-\\x7e]", "?");
    }
}
