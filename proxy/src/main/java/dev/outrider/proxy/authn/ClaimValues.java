package dev.outrider.proxy.authn;

import java.util.List;
import java.util.Map;

/** Reading a verified token's claims: nested lookup, and the header form of a claim value. */
public final class ClaimValues {
    private ClaimValues() {
    }

    /**
     * The claim at {@code path} ({@code {"a","b"}} for {@code a.b} or {@code [a][b]}), following nested
     * objects; null when any step is absent or not an object. Allocates nothing.
     */
    public static Object claim(Map<String, Object> claims, String[] path) {
        Object at = claims;
        for (String step : path) {
            if (!(at instanceof Map<?, ?> m)) {
                return null;
            }
            at = m.get(step);
            if (at == null) {
                return null;
            }
        }
        return at == claims ? null : at;
    }

    /**
     * A claim value as a header value: strings, numbers and booleans as text, a list of those joined with
     * {@code ,}; null (no header) for objects, empty values and anything holding a control character, which
     * could otherwise split or smuggle a header.
     */
    static String headerValue(Object value) {
        String text;
        if (value instanceof String s) {
            text = s;
        } else if (value instanceof Number || value instanceof Boolean) {
            text = value.toString();
        } else if (value instanceof List<?> list && !list.isEmpty()) {
            StringBuilder b = new StringBuilder();
            for (Object o : list) {
                if (!(o instanceof String || o instanceof Number || o instanceof Boolean)) {
                    return null;
                }
                if (!b.isEmpty()) {
                    b.append(',');
                }
                b.append(o);
            }
            text = b.toString();
        } else {
            return null;
        }
        if (text.isEmpty()) {
            return null;
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if ((c < 0x20 && c != '\t') || c >= 0x7f) {
                return null;
            }
        }
        return text;
    }
}
