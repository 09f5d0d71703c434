package dev.outrider.tools.inject;

import java.math.BigDecimal;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static java.util.Objects.requireNonNull;

/**
 * A Kubernetes resource quantity ({@code 100m}, {@code 128Mi}, {@code 1}, {@code 1.5}, {@code 2e3}) as the API
 * server reads it (k8s.io/apimachinery {@code resource.Quantity}): a signed decimal number and one suffix, binary
 * ({@code Ki Mi Gi Ti Pi Ei}), decimal ({@code n u m "" k M G T P E}) or an exponent ({@code e3}, {@code E-2}).
 * Kept as written (the text goes into the manifest) with its value, to compare a request with its limit.
 */
public record Quantity(String text, BigDecimal value) {
    /** {@code <signedNumber><suffix>}; the number may be {@code 1}, {@code 1.5}, {@code 1.} or {@code .5}. */
    private static final Pattern SYNTAX = Pattern.compile(
            "([+-]?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+))((?:[KMGTPE]i)|[numkMGTPE]?|[eE][+-]?[0-9]+)");
    private static final Map<String, BigDecimal> SUFFIXES = Map.ofEntries(
            Map.entry("", BigDecimal.ONE),
            Map.entry("n", new BigDecimal("1e-9")),
            Map.entry("u", new BigDecimal("1e-6")),
            Map.entry("m", new BigDecimal("1e-3")),
            Map.entry("k", new BigDecimal("1e3")),
            Map.entry("M", new BigDecimal("1e6")),
            Map.entry("G", new BigDecimal("1e9")),
            Map.entry("T", new BigDecimal("1e12")),
            Map.entry("P", new BigDecimal("1e15")),
            Map.entry("E", new BigDecimal("1e18")),
            Map.entry("Ki", BigDecimal.valueOf(1L << 10)),
            Map.entry("Mi", BigDecimal.valueOf(1L << 20)),
            Map.entry("Gi", BigDecimal.valueOf(1L << 30)),
            Map.entry("Ti", BigDecimal.valueOf(1L << 40)),
            Map.entry("Pi", BigDecimal.valueOf(1L << 50)),
            Map.entry("Ei", BigDecimal.valueOf(1L << 60)));
    /** Exponents beyond this are typos, not resource amounts (and would make BigDecimal work hard). */
    private static final int MAX_EXPONENT = 30;

    public Quantity {
        requireNonNull(text, "text");
        requireNonNull(value, "value");
    }

    /**
     * Parses {@code text}.
     *
     * @throws IllegalArgumentException saying what is wrong, without the option's name (the caller adds it)
     */
    public static Quantity parse(String text) {
        requireNonNull(text, "text");
        Matcher m = SYNTAX.matcher(text);
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + text + "' is not a Kubernetes quantity (e.g. 100m, 0.5, 128Mi, 1Gi)");
        }
        BigDecimal number = new BigDecimal(m.group(1)); // BigDecimal reads "1.", ".5" and "+1" too
        String suffix = m.group(2);
        BigDecimal scale;
        if (suffix.length() > 1 && (suffix.charAt(0) == 'e' || suffix.charAt(0) == 'E')) { // "E" alone is exa
            int exponent = Integer.parseInt(suffix.substring(1));
            if (Math.abs(exponent) > MAX_EXPONENT) {
                throw new IllegalArgumentException("'" + text + "': exponent out of range");
            }
            scale = BigDecimal.ONE.scaleByPowerOfTen(exponent);
        } else {
            scale = SUFFIXES.get(suffix);
        }
        if (number.signum() < 0) {
            throw new IllegalArgumentException("'" + text + "' is negative");
        }
        return new Quantity(text, number.multiply(scale));
    }

    /** Whether the value is a whole number (bytes of memory cannot be fractional). */
    boolean whole() {
        return value.signum() == 0 || value.stripTrailingZeros().scale() <= 0;
    }

    @Override
    public String toString() {
        return text;
    }
}
