package dev.outrider.core.document;

import java.time.Duration;
import java.time.format.DateTimeParseException;

import static java.util.Objects.requireNonNull;

/**
 * The one duration grammar of Outrider: the bootstrap file, policy documents, the MeshConfig, the control
 * plane's API bodies and answers, and the {@code ctl} options all read durations here.
 * <pre>
 *   duration = "0" | part { part } | iso-8601          (surrounding spaces ignored)
 *   part     = number unit                           units largest first, each at most once
 *   number   = "0" | [1-9][0-9]*                     no sign, no fraction, no leading zero
 *   unit     = "d" | "h" | "m" | "s" | "ms"          lower case; d is 24 hours
 * </pre>
 * e.g. {@code 250ms}, {@code 30s}, {@code 5m}, {@code 1h30m}, {@code 7d}, {@code 1m30s500ms}, and ISO-8601 as
 * {@link Duration#parse} reads it ({@code PT1S}, {@code P1DT2H}; no sign). This is Go's and Istio's form with
 * days added and fractions left out. Refused, each with a message quoting the text: anything else
 * ({@code 1 s}, {@code 1.5s}, {@code 1S}, {@code 01s}, {@code 30s1m}, {@code 1w}, a number without a unit other
 * than {@code 0}, the empty text), a negative duration ({@code -1s}, {@code PT-1S}) and one beyond what
 * {@link Duration} holds. Bounds belong to each field and stay with its reader. Pure functions.
 */
public final class Durations {
    private Durations() {
    }

    /** A text that is not a duration, with a message quoting it and without a field path (the caller adds it). */
    public static final class InvalidDurationException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        private final boolean tooLarge;

        InvalidDurationException(String message, boolean tooLarge) {
            super(message);
            this.tooLarge = tooLarge;
        }

        /** Whether the text has the grammar's form but is beyond what a {@link Duration} holds. */
        public boolean tooLarge() {
            return tooLarge;
        }
    }

    /**
     * {@code text} as a duration (never negative).
     *
     * @throws InvalidDurationException {@code '<text>' is not a duration (...)}, {@code '<text>' is negative}
     *                                  or {@code '<text>' is too large}
     */
    public static Duration parse(String text) {
        requireNonNull(text, "text");
        String s = text.strip();
        if (s.length() > 1 && s.charAt(0) == '-' && isDuration(s.substring(1))) {
            throw new InvalidDurationException(DocumentFields.quote(text) + " is negative", false);
        }
        if (s.equals("0")) {
            return Duration.ZERO;
        }
        if (!s.isEmpty() && (s.charAt(0) == 'P' || s.charAt(0) == 'p')) {
            return iso(text, s);
        }
        Duration total = Duration.ZERO;
        int i = 0;
        int lastUnit = Integer.MAX_VALUE;
        while (i < s.length()) {
            int start = i;
            while (i < s.length() && isDigit(s.charAt(i))) {
                i++;
            }
            if (i == start || s.charAt(start) == '0' && i - start > 1) {
                throw malformed(text);
            }
            int unit = unitAt(s, i);
            if (unit < 0 || unit >= lastUnit) {
                throw malformed(text);
            }
            lastUnit = unit;
            String digits = s.substring(start, i);
            i += unit == MS ? 2 : 1;
            try {
                total = total.plus(of(Long.parseLong(digits), unit));
            } catch (NumberFormatException | ArithmeticException e) {
                throw tooLarge(text);
            }
        }
        if (i == 0) {
            throw malformed(text);
        }
        return total;
    }

    /** Whether {@code text} is a duration {@link #parse} accepts. */
    public static boolean isDuration(String text) {
        try {
            parse(text);
            return true;
        } catch (InvalidDurationException e) {
            return false;
        }
    }

    /**
     * {@code d} in its largest exact unit: {@code 0}, {@code 250ms}, {@code 15s}, {@code 90s}, {@code 5m},
     * {@code 1h}, {@code 1d}; below a millisecond, ISO-8601 ({@code PT0.0000001S}). {@link #parse} reads it back
     * to the same value.
     *
     * @throws IllegalArgumentException when {@code d} is negative
     */
    public static String format(Duration d) {
        requireNonNull(d, "d");
        if (d.isNegative()) {
            throw new IllegalArgumentException("duration " + d + " is negative");
        }
        if (d.isZero()) {
            return "0";
        }
        if (d.getNano() % 1_000_000 != 0) {
            return d.toString();
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

    /**
     * {@code d} in whole seconds as the control plane's documents and answers write durations: its largest exact
     * unit, but days and minutes only for more than one ({@code 7d}, {@code 24h}, {@code 1h}, {@code 5m},
     * {@code 60s}, {@code 90s}); below a second is dropped. {@link #parse} reads it back.
     */
    public static String formatInSeconds(Duration d) {
        long seconds = requireNonNull(d, "d").toSeconds();
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

    private static final int MS = 0;
    private static final int S = 1;
    private static final int M = 2;
    private static final int H = 3;
    private static final int D = 4;

    /** The unit starting at {@code i}, or -1. */
    private static int unitAt(String s, int i) {
        if (i >= s.length()) {
            return -1;
        }
        return switch (s.charAt(i)) {
            case 'd' -> D;
            case 'h' -> H;
            case 'm' -> i + 1 < s.length() && s.charAt(i + 1) == 's' ? MS : M;
            case 's' -> S;
            default -> -1;
        };
    }

    private static Duration of(long amount, int unit) {
        return switch (unit) {
            case MS -> Duration.ofMillis(amount);
            case S -> Duration.ofSeconds(amount);
            case M -> Duration.ofMinutes(amount);
            case H -> Duration.ofHours(amount);
            default -> Duration.ofDays(amount);
        };
    }

    private static Duration iso(String text, String s) {
        if (s.indexOf('+') >= 0) {
            throw malformed(text);
        }
        Duration d;
        try {
            d = Duration.parse(s);
        } catch (DateTimeParseException e) {
            if (e.getCause() instanceof ArithmeticException) {
                throw tooLarge(text);
            }
            throw malformed(text);
        }
        if (d.isNegative()) {
            throw new InvalidDurationException(DocumentFields.quote(text) + " is negative", false);
        }
        if (s.indexOf('-') >= 0) {
            throw malformed(text); // PT1H-30M: a negative part
        }
        return d;
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static InvalidDurationException malformed(String text) {
        return new InvalidDurationException(DocumentFields.quote(text)
                + " is not a duration (e.g. 250ms, 30s, 5m, 1h30m, 7d or ISO-8601 PT1S)", false);
    }

    private static InvalidDurationException tooLarge(String text) {
        return new InvalidDurationException(DocumentFields.quote(text) + " is too large", true);
    }
}
