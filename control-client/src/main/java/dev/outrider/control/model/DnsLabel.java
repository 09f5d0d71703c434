package dev.outrider.control.model;

import java.util.regex.Pattern;

/**
 * RFC 1123 DNS labels as Kubernetes uses them for names and namespaces: lower-case alphanumerics and '-',
 * starting and ending with an alphanumeric, at most 63 characters. A valid label never contains '.', '/'
 * or '\', so it is also safe as a single file-name component.
 */
public final class DnsLabel {
    private static final Pattern LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");

    private DnsLabel() {
    }

    /** True when {@code text} is a DNS label; false for null. */
    public static boolean isValid(String text) {
        return text != null && LABEL.matcher(text).matches();
    }
}
