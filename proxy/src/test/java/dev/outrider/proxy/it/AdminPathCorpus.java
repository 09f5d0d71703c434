package dev.outrider.proxy.it;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Request targets that spell, or might be resolved by a servlet container as, {@code /admin} or a path under
 * it, from a caller who is allowed {@code /public/*} and denied {@code /admin} and {@code /admin/*}. A
 * character from U+0080 to U+00FF stands for that raw byte on the wire (targets are sent as ISO-8859-1).
 * Bounded (about 150 targets) so that every one can go through every transport and mode of the servlet
 * container tests.
 */
final class AdminPathCorpus {
    private AdminPathCorpus() {
    }

    /** Dot segments, plain and encoded (CVE-2019-9901 and its encoded variants). */
    static final List<String> DOT_SEGMENTS = List.of(
            "/public/../admin", "/public/./../admin", "/public/%2e%2e/admin", "/public/%2E%2E/admin",
            "/public/%2E%2e/admin", "/public/%2e%2E/admin", "/public/.%2e/admin", "/public/%2e./admin",
            "/public/..%2fadmin", "/public/..%2Fadmin", "/public/%2e%2e%2fadmin", "/public/x/../../admin",
            "/public/../../../admin", "/./admin", "/public/../admin/", "/public/../admin/x",
            "/public/.%2E/%61dmin", "/public/..../admin", "/public/.../admin", "/public/%2e/../admin",
            "/admin/x/..", "/admin/x/../", "/admin/%2e%2e/admin", "/public/..%00/admin", "/public/.. /admin");

    /** Path parameters: Tomcat, Jetty and Spring cut {@code ;...} off each segment (istio#27409). */
    static final List<String> PATH_PARAMETERS = List.of(
            "/admin;jsessionid=1", "/admin;x", "/admin;", "/admin;/", "/admin;x/", "/admin;x/y",
            "/public/..;v=1/admin", "/public/..;/admin", "/;x/admin", "/;/admin", "/public;x/../admin",
            "/public/.;x/../admin", "/public/..;x=/admin", "/public/%2e%2e;x/admin", "/public;/../admin",
            "/public/x;/../../admin", "/admin;%2F..%2Fpublic", "/admin%3Bx", "/admin%3bx", "/public/..%3B/admin",
            "/public/..%3b/admin", "/ad;x/min", "/admin;jsessionid=1/x", "/%61dmin;x", "/public/..;x/%61dmin");

    /** Case: servlet mapping is case-sensitive, but the DENY must hold for whatever the container dispatches. */
    static final List<String> CASE = List.of(
            "/ADMIN", "/Admin", "/aDmIn", "/adMIN", "/public/../ADMIN", "/ADMIN/x", "/Admin/", "/PUBLIC/../admin");

    /** Double encoding: decoded once by the container, never by the sidecar. */
    static final List<String> DOUBLE_ENCODING = List.of(
            "/%2561dmin", "/%2561%2564%256d%2569%256e", "/public/%252e%252e/admin", "/public%252F..%252Fadmin",
            "/public/%252e%252e%252fadmin", "/%25%36%31dmin", "/%%36%31dmin", "/public/%25%32%65%25%32%65/admin");

    /** Escaped slashes and backslashes, encoded and raw (CVE-2021-31920). */
    static final List<String> SLASHES = List.of(
            "/public%2F..%2Fadmin", "/public%2f..%2fadmin", "/public%5C..%5Cadmin", "/public%5c..%5cadmin",
            "/public\\..\\admin", "/public/..\\admin", "/public/..%5Cadmin", "/%2Fadmin", "/%5Cadmin", "/\\admin",
            "/admin%2F", "/admin%2Fx", "/public/%2e%2e%5cadmin", "/public%2F%2E%2E%2Fadmin",
            "/public%2F..%2F%61dmin", "/%2F%2Fadmin", "/public%2F..%2F..%2Fadmin");

    /** Empty segments (merged by the sidecar: {@code //admin} is {@code /admin}). */
    static final List<String> EMPTY_SEGMENTS = List.of(
            "//admin", "///admin", "/public//../admin", "/public/x//../../admin", "/admin//", "//admin//x",
            "/public//..//admin");

    /** Trailing dots, slashes and other trailers. */
    static final List<String> TRAILING = List.of(
            "/admin/", "/admin/.", "/admin/./", "/admin/%2e", "/admin/%2E/", "/admin.", "/admin..", "/admin%2e",
            "/admin?", "/admin?x=/public/y", "/admin#x", "/admin%23x", "/admin%00", "/admin%20", "/admin%09",
            "/admin ", "/admin/%00", "/admin%7F", "/admin\t");

    /** Overlong UTF-8, non-ASCII look-alikes and raw bytes above 0x7F. */
    static final List<String> NON_ASCII = List.of(
            "/%C1%A1dmin", "/public/%C0%AE%C0%AE/admin", "/public/%E0%80%AE%E0%80%AE/admin", "/%EF%BD%81dmin",
            "/adm%C4%B1n", "/%u0061dmin", "/public/%C0%AF../admin", "/public/..%C0%AFadmin", "/admin%C0%80",
            "/\u00C1\u00A1dmin", "/public/\u00C0\u00AE\u00C0\u00AE/admin", "/adm\u00C4\u00B1n", "/admin\u00A0",
            "/adm\u00EDn", "/public/..\u00C0\u00AFadmin", "/admin\u00FF");

    /** Absolute-form targets (HTTP/1.1 only: an HTTP/2 {@code :path} has no absolute form). */
    static final List<String> ABSOLUTE_FORM = List.of(
            "http://orders/admin", "http://orders/public/../admin", "HTTP://orders/%61dmin", "http://orders//admin",
            "http://orders/admin;x", "https://orders/admin", "http://orders/public/..;/admin",
            "http://orders.shop:80/admin/x", "http://x@orders/admin", "http://orders", "http://orders?/admin",
            "http:/admin", "http:///admin");

    /** Every target: the lists above and each percent-encoding of the letters of {@code admin}. */
    static List<String> all() {
        Set<String> all = new LinkedHashSet<>();
        for (List<String> list : List.of(DOT_SEGMENTS, PATH_PARAMETERS, CASE, DOUBLE_ENCODING, SLASHES,
                EMPTY_SEGMENTS, TRAILING, NON_ASCII, ABSOLUTE_FORM)) {
            all.addAll(list);
        }
        all.addAll(percentEncodings());
        return List.copyOf(all);
    }

    /** Targets that are not absolute-form (what an HTTP/2 {@code :path} can carry). */
    static List<String> originForm() {
        return all().stream().filter(t -> t.startsWith("/")).toList();
    }

    /**
     * Each letter of {@code admin} (and of {@code ADMIN}) encoded alone, in lower- and upper-case hex; the
     * whole word encoded in both hex cases; each of those again after a dot segment and under {@code /admin/}.
     */
    static List<String> percentEncodings() {
        List<String> out = new ArrayList<>();
        for (String word : List.of("admin", "ADMIN")) {
            for (int i = 0; i < word.length(); i++) {
                String hex = HexFormat.of().toHexDigits((byte) word.charAt(i));
                for (String h : List.of(hex, hex.toUpperCase(Locale.ROOT))) {
                    out.add("/" + word.substring(0, i) + "%" + h + word.substring(i + 1));
                }
            }
        }
        StringBuilder lower = new StringBuilder("/");
        for (char c : "admin".toCharArray()) {
            lower.append('%').append(HexFormat.of().toHexDigits((byte) c));
        }
        String upper = lower.toString().toUpperCase(Locale.ROOT);
        out.add(lower.toString());
        out.add(upper);
        out.add("/public/.." + lower);
        out.add("/public/%2e%2e" + upper);
        out.add(lower + "/x");
        out.add("/%61dmin/");
        out.add("/admin/%61dmin");
        return out;
    }
}
