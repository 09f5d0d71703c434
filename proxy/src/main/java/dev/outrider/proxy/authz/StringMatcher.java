package dev.outrider.proxy.authz;

/**
 * One compiled Istio string pattern: {@code exact}, {@code prefix*}, {@code *suffix}, or {@code *}
 * (present and non-empty). Matching is a region comparison on the request's string: no allocation.
 * Immutable.
 */
public final class StringMatcher {
    private static final int EXACT = 0;
    private static final int PREFIX = 1;
    private static final int SUFFIX = 2;
    private static final int PRESENT = 3;

    private final int kind;
    private final String value;
    private final boolean ignoreCase;
    /** {@code value} as a number when the pattern is exact and numeric (JWT claims that are numbers). */
    private final boolean numeric;
    private final double number;

    private StringMatcher(int kind, String value, boolean ignoreCase) {
        this.kind = kind;
        this.value = value;
        this.ignoreCase = ignoreCase;
        double n = Double.NaN;
        if (kind == EXACT && !value.isEmpty()) {
            try {
                n = Double.parseDouble(value);
            } catch (NumberFormatException notNumeric) {
                // stays NaN
            }
        }
        this.numeric = !Double.isNaN(n) && !Double.isInfinite(n);
        this.number = n;
    }

    public static StringMatcher of(String pattern, boolean ignoreCase) {
        if (pattern.equals("*")) {
            return new StringMatcher(PRESENT, "", ignoreCase);
        }
        if (pattern.startsWith("*")) {
            return new StringMatcher(SUFFIX, pattern.substring(1), ignoreCase);
        }
        if (pattern.endsWith("*")) {
            return new StringMatcher(PREFIX, pattern.substring(0, pattern.length() - 1), ignoreCase);
        }
        return new StringMatcher(EXACT, pattern, ignoreCase);
    }

    /** A literal, even if it contains {@code *} (methods). */
    public static StringMatcher exact(String value) {
        return new StringMatcher(EXACT, value, false);
    }

    public boolean matches(String s) {
        return s != null && matches(s, s.length());
    }

    /** Matches {@code s[0, end)}. */
    boolean matches(String s, int end) {
        int n = value.length();
        return switch (kind) {
            case EXACT -> end == n && s.regionMatches(ignoreCase, 0, value, 0, n);
            case PREFIX -> end >= n && s.regionMatches(ignoreCase, 0, value, 0, n);
            case SUFFIX -> end >= n && s.regionMatches(ignoreCase, end - n, value, 0, n);
            default -> end > 0;
        };
    }

    /** A numeric claim: {@code *} matches; an exact numeric pattern compares by value. */
    boolean matchesNumber(Number v) {
        return kind == PRESENT || (numeric && v.doubleValue() == number);
    }

    public static boolean any(StringMatcher[] ms, String s) {
        if (s == null) {
            return false;
        }
        for (StringMatcher m : ms) {
            if (m.matches(s, s.length())) {
                return true;
            }
        }
        return false;
    }
}
