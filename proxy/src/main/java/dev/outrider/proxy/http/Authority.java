package dev.outrider.proxy.http;

import java.util.Locale;

import static java.util.Objects.requireNonNull;

/**
 * The authority of a request ({@code Host}, HTTP/2 {@code :authority}, an absolute-form target): whether a
 * value is one valid authority, and the form in which authorization compares hosts. Pure functions.
 *
 * <p>{@link #normalizeHost} gives the form in which authorization compares hosts: lower case, without a
 * trailing dot, port kept (RFC 3986 §3.2.2, §6.2.2.1: the host is case-insensitive). Comparing the raw
 * {@code Host} header case-sensitively let {@code Admin.Example.com} past a policy on
 * {@code admin.example.com} (CVE-2021-39155).
 */
public final class Authority {
    private Authority() {
    }

    /**
     * {@code host} as authorization compares it: ASCII lower case and no trailing dot on the name, the port
     * kept ({@code Admin.Example.COM.:8080} is {@code admin.example.com:8080}). Returned as is when already
     * in that form.
     */
    public static String normalizeHost(String host) {
        requireNonNull(host, "host");
        int colon = host.lastIndexOf(':');
        int nameEnd = colon < 0 || host.indexOf(']', colon) >= 0 ? host.length() : colon; // [v6] has colons
        boolean trailingDot = nameEnd > 1 && host.charAt(nameEnd - 1) == '.';
        boolean upper = false;
        for (int i = 0; i < nameEnd && !upper; i++) {
            char c = host.charAt(i);
            upper = c >= 'A' && c <= 'Z';
        }
        if (!trailingDot && !upper) {
            return host;
        }
        String name = host.substring(0, trailingDot ? nameEnd - 1 : nameEnd).toLowerCase(Locale.ROOT);
        return nameEnd == host.length() ? name : name + host.substring(nameEnd);
    }

    /**
     * Whether {@code value} is one authority as a {@code Host} field or an absolute-form target may carry it
     * (RFC 9110 §7.2, RFC 3986 §3.2.2, §3.2.3): {@code host [":" port]}, where host is a name of letters,
     * digits, {@code - . _ ~} or an IPv6 literal in brackets, and port is 1 to 5 digits up to 65535. An empty
     * value is valid (RFC 9112 §3.2: a target without authority). Stricter than RFC 3986's reg-name on
     * purpose: no sub-delimiters (so no {@code ,}: a list is not one authority), no percent-encoding, no
     * userinfo; no real host name needs them.
     */
    public static boolean isValid(CharSequence value) {
        return isValid(value, 0, value.length());
    }

    static boolean isValid(CharSequence s, int from, int to) {
        if (from == to) {
            return true;
        }
        int i = from;
        if (s.charAt(i) == '[') {
            int close = i + 1;
            while (close < to && s.charAt(close) != ']') {
                char c = s.charAt(close);
                if (!(PathNormalizer.hexValue(c) >= 0 || c == ':' || c == '.')) {
                    return false;
                }
                close++;
            }
            if (close == to || close == i + 1) {
                return false;
            }
            i = close + 1;
        } else {
            int start = i;
            while (i < to && s.charAt(i) != ':') {
                char c = s.charAt(i);
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                        || c == '-' || c == '.' || c == '_' || c == '~')) {
                    return false;
                }
                i++;
            }
            if (i == start) {
                return false; // ":80" names no host
            }
        }
        if (i == to) {
            return true;
        }
        if (s.charAt(i) != ':' || to - i - 1 < 1 || to - i - 1 > 5) {
            return false;
        }
        int port = 0;
        for (int j = i + 1; j < to; j++) {
            char c = s.charAt(j);
            if (c < '0' || c > '9') {
                return false;
            }
            port = port * 10 + (c - '0');
        }
        return port <= 65535;
    }
}
