package dev.outrider.proxy.http;

/**
 * Normalizes the path of an HTTP request target into the one form that logging and (later) authorization
 * path matching compare. A pure function: no state, thread-safe, and a path that is already normal is
 * returned without allocation beyond cutting off its query.
 *
 * <p>Steps, in this order (the order matters for matching; see each step):
 * <ol>
 *   <li>Take the path of the request target (RFC 9112 §3.2): origin-form {@code /p?q} gives {@code /p};
 *       absolute-form {@code http://host/p?q} gives {@code /p} (an empty path there is {@code /}).
 *       The query (RFC 3986 §3.4) and any fragment (§3.5; not allowed in a request target, dropped all the
 *       same) are removed. Asterisk-form {@code *} and authority-form {@code host:port} (CONNECT) are not
 *       paths and are returned as they are; any other target is returned up to its first {@code ?} or
 *       {@code #}, so the result never carries a query.</li>
 *   <li>Merge runs of {@code /} into one (not an RFC 3986 step; what nginx's {@code merge_slashes} and POSIX
 *       path resolution do). Done <em>before</em> dot-segment removal so that an empty segment cannot absorb a
 *       {@code ..}: {@code /a//../b} is {@code /b}, as a file-backed server resolves it.</li>
 *   <li>Percent-encoding normalization (RFC 3986 §6.2.2.2, §2.3): a triplet that encodes an unreserved
 *       character ({@code ALPHA / DIGIT / "-" / "." / "_" / "~"}) is decoded; every other triplet, such as
 *       {@code %2F} or a non-ASCII byte, stays encoded with upper-case hex digits (§2.1, §6.2.2.1). A
 *       {@code %} not followed by two hex digits is left as it is. Decoding comes before dot-segment removal,
 *       so {@code /a/%2E%2E/b} is {@code /b}: an encoded dot segment cannot slip past a prefix match.</li>
 *   <li>Remove dot segments with the algorithm of RFC 3986 §5.2.4; {@code ..} above the root stays at the
 *       root.</li>
 *   <li>An empty result is {@code /}.</li>
 * </ol>
 */
public final class PathNormalizer {
    static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private PathNormalizer() {
    }

    /** The normalized path of {@code uri}, a raw request target as received. */
    public static String normalize(String uri) {
        if (uri.isEmpty()) {
            return "/";
        }
        if (uri.equals("*")) {
            return uri;
        }
        String path;
        if (uri.charAt(0) == '/') {
            path = uri.substring(0, endOfPath(uri, 0));
        } else {
            int authority = authorityStart(uri);
            if (authority < 0) {
                // Authority-form (CONNECT host:port) or something that is not a path: as is, minus any query.
                return uri.substring(0, endOfPath(uri, 0));
            }
            int end = endOfPath(uri, authority);
            int slash = uri.indexOf('/', authority);
            if (slash < 0 || slash >= end) {
                return "/";
            }
            path = uri.substring(slash, end);
        }
        return needsWork(path) ? normalizePath(path) : path;
    }

    /**
     * For absolute-form, the index just after {@code scheme://}; otherwise -1. The scheme is
     * {@code ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )} (RFC 3986 §3.1). Requiring {@code //} keeps
     * authority-form ({@code example.com:443}, which also looks like {@code scheme:}) out.
     */
    private static int authorityStart(String uri) {
        int colon = uri.indexOf(':');
        if (colon <= 0 || !uri.startsWith("//", colon + 1) || !isAlpha(uri.charAt(0))) {
            return -1;
        }
        for (int i = 1; i < colon; i++) {
            char c = uri.charAt(i);
            if (!isAlpha(c) && !isDigit(c) && c != '+' && c != '-' && c != '.') {
                return -1;
            }
        }
        return colon + 3;
    }

    /** Index of the first {@code ?} or {@code #} at or after {@code from}, or the length. */
    private static int endOfPath(String uri, int from) {
        for (int i = from; i < uri.length(); i++) {
            char c = uri.charAt(i);
            if (c == '?' || c == '#') {
                return i;
            }
        }
        return uri.length();
    }

    /** True when the path has a {@code //}, a {@code %} or a segment starting with a dot. */
    private static boolean needsWork(String path) {
        char prev = 0;
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c == '%' || (prev == '/' && (c == '/' || c == '.'))) {
                return true;
            }
            prev = c;
        }
        return false;
    }

    private static String normalizePath(String path) {
        return removeDotSegments(decodeUnreserved(mergeSlashes(path)));
    }

    /** Merges runs of '/' into one; returns {@code path} itself when there is none to merge. */
    static String mergeSlashes(String path) {
        if (!path.contains("//")) {
            return path;
        }
        StringBuilder out = new StringBuilder(path.length());
        char prev = 0;
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c != '/' || prev != '/') {
                out.append(c);
            }
            prev = c;
        }
        return out.toString();
    }

    /** RFC 3986 §6.2.2.2: decode unreserved triplets, upper-case the hex of the rest (§6.2.2.1). */
    private static String decodeUnreserved(String path) {
        if (path.indexOf('%') < 0) {
            return path;
        }
        StringBuilder out = new StringBuilder(path.length());
        int n = path.length();
        for (int i = 0; i < n; i++) {
            char c = path.charAt(i);
            int hi;
            int lo;
            if (c != '%' || i + 2 >= n || (hi = hexValue(path.charAt(i + 1))) < 0
                    || (lo = hexValue(path.charAt(i + 2))) < 0) {
                out.append(c);
                continue;
            }
            char decoded = (char) (hi << 4 | lo);
            if (isUnreserved(decoded)) {
                out.append(decoded);
            } else {
                out.append('%').append(HEX[hi]).append(HEX[lo]);
            }
            i += 2;
        }
        return out.toString();
    }

    /**
     * RFC 3986 §5.2.4 "Remove Dot Segments", step 2 A–E, walking an index over the input buffer instead of
     * rewriting it.
     */
    static String removeDotSegments(String in) {
        StringBuilder out = new StringBuilder(in.length());
        int i = 0;
        int n = in.length();
        while (i < n) {
            if (in.startsWith("../", i)) {                       // A
                i += 3;
            } else if (in.startsWith("./", i)) {                 // A
                i += 2;
            } else if (in.startsWith("/./", i)) {                // B: "/./" -> "/"
                i += 2;
            } else if (i + 2 == n && in.startsWith("/.", i)) {   // B: trailing "/." -> "/"
                out.append('/');
                i = n;
            } else if (in.startsWith("/../", i)) {               // C: "/../" -> "/", drop last output segment
                i += 3;
                removeLastSegment(out);
            } else if (i + 3 == n && in.startsWith("/..", i)) {  // C: trailing "/.." -> "/"
                removeLastSegment(out);
                out.append('/');
                i = n;
            } else if ((i + 1 == n && in.charAt(i) == '.')
                    || (i + 2 == n && in.startsWith("..", i))) { // D
                i = n;
            } else {                                              // E: move the first segment to the output
                int next = in.indexOf('/', in.charAt(i) == '/' ? i + 1 : i);
                int end = next < 0 ? n : next;
                out.append(in, i, end);
                i = end;
            }
        }
        return out.isEmpty() ? "/" : out.toString();
    }

    /** Removes the last segment and its preceding "/" (if any) from the output buffer (§5.2.4 step 2C). */
    private static void removeLastSegment(StringBuilder out) {
        int slash = out.lastIndexOf("/");
        out.setLength(Math.max(slash, 0));
    }

    /** RFC 3986 §2.3 unreserved characters. */
    static boolean isUnreserved(char c) {
        return isAlpha(c) || isDigit(c) || c == '-' || c == '.' || c == '_' || c == '~';
    }

    private static boolean isAlpha(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    /** The value of a hex digit, or -1. */
    static int hexValue(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        return -1;
    }
}
