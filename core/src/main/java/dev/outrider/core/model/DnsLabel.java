package dev.outrider.core.model;

/**
 * RFC 1123 DNS labels as Kubernetes uses them for names and namespaces: lower-case alphanumerics and '-',
 * starting and ending with an alphanumeric, at most 63 characters. A valid label never contains '.', '/'
 * or '\', so it is also safe as a single file-name component.
 */
public final class DnsLabel {
    private static final int MAX_LENGTH = 63;

    private DnsLabel() {
    }

    /** True when {@code text} is a DNS label; false for null. */
    public static boolean isValid(String text) {
        return text != null && isValid(text, 0, text.length());
    }

    /**
     * True when {@code text} is a DNS name as Kubernetes writes them (an RFC 1123 subdomain): labels separated by
     * '.', lower case, at most 253 characters, no trailing dot; false for null.
     */
    public static boolean isDnsName(String text) {
        if (text == null || text.isEmpty() || text.length() > 253) {
            return false;
        }
        int from = 0;
        for (int dot = text.indexOf('.'); ; dot = text.indexOf('.', from)) {
            int to = dot < 0 ? text.length() : dot;
            if (!isValid(text, from, to)) {
                return false;
            }
            if (dot < 0) {
                return true;
            }
            from = dot + 1;
        }
    }

    /** True when {@code text[from, to)} is a DNS label (no substring needed; used on the request path). */
    public static boolean isValid(CharSequence text, int from, int to) {
        int length = to - from;
        if (length < 1 || length > MAX_LENGTH) {
            return false;
        }
        for (int i = from; i < to; i++) {
            char c = text.charAt(i);
            boolean alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
            if (!alnum && (c != '-' || i == from || i == to - 1)) {
                return false;
            }
        }
        return true;
    }
}
