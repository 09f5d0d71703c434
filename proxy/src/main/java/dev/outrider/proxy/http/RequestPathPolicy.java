package dev.outrider.proxy.http;

import dev.outrider.proxy.config.EscapedSlashes;
import dev.outrider.proxy.config.PathParameters;

import static java.util.Objects.requireNonNull;

/**
 * The strict path normalization that authorization matches on and that forwarding sends to the application:
 * one canonical path, so that a policy cannot be bypassed by a spelling the application resolves differently
 * from the matcher. Pure functions, thread-safe. (The lenient {@link PathNormalizer} stays for logging and the
 * admin listeners: it never rejects.)
 *
 * <p>{@link #normalizeForAuthorization} applies these rules, in this order; each names what it follows or
 * the published bypass it closes. The semantics are those of Envoy's {@code normalize_path: true},
 * {@code merge_slashes: true} and {@code path_with_escaped_slashes_action}, the settings Istio recommends
 * for path-based authorization.
 * <ol>
 *   <li><b>Characters.</b> A raw control character (U+0000–U+001F, U+007F) or space anywhere in the target is
 *       rejected, and so is any character outside ASCII (a URI is ASCII, RFC 3986 §2; raw bytes leave what
 *       the application decodes them to open). A fragment delimiter {@code #} anywhere is rejected: a
 *       fragment is not part of a request target (RFC 9112 §3.2, RFC 3986 §3.5), and a {@code #} that the
 *       matcher and the application cut at different places is CVE-2021-39156 ({@code /admin#public},
 *       {@code /public/#/../admin}). A raw backslash {@code \} in the path is rejected in every mode: it is
 *       not a URI character (RFC 3986 §2) and some applications treat it as {@code /}.</li>
 *   <li><b>Form</b> (RFC 9112 §3.2). Origin-form {@code /p?q} as is. Absolute-form
 *       {@code http://host/p?q} (scheme {@code http} or {@code https}, any case) gives its path; an empty path
 *       is {@code /}; userinfo ({@code http://u@host/}) is rejected (RFC 9110 §4.2.4). Asterisk-form
 *       {@code *} and authority-form {@code host:port} are rejected: they name no path to authorize. A caller
 *       that serves {@code OPTIONS *} or {@code CONNECT} must handle those methods before calling this; the
 *       sidecar does not. An empty target is {@code /}.</li>
 *   <li><b>Query.</b> Everything after the first {@code ?} is the query (RFC 3986 §3.4): returned raw and
 *       untouched, to be re-attached when forwarding; it is never part of the path that is matched.</li>
 *   <li><b>Path parameters</b> ({@code ;}, RFC 3986 §3.3), before anything is decoded, following
 *       {@link PathParameters}: Tomcat, Jetty and Spring cut {@code ;params} off every segment and resolve
 *       {@code ..;x} as {@code ..}, so {@code /admin;jsessionid=1} is {@code /admin} and
 *       {@code /public/..;v=1/admin} is {@code /admin} to them (the class of istio#27409). By default a
 *       {@code ;} in the path is rejected; {@link PathParameters#STRIP} cuts them off each segment here too,
 *       so the path matched and forwarded is the path such an application resolves.</li>
 *   <li><b>Percent-encoding</b> (RFC 3986 §2.1, §2.3, §6.2.2.1, §6.2.2.2), in one pass over the path:
 *       a {@code %} not followed by two hex digits ({@code %zz}, a truncated {@code %4}) is rejected;
 *       {@code %00} and any encoded control character (below {@code %20}, and {@code %7F}) are rejected;
 *       an encoded unreserved character ({@code ALPHA DIGIT - . _ ~}) is decoded, in either hex case, so
 *       {@code %2e%2E} is {@code ..} before dot segments are removed; an encoded {@code /} or {@code \}
 *       ({@code %2F %2f %5C %5c}) follows {@link EscapedSlashes}: CVE-2021-31920 is {@code /public%2F..%2Fadmin}
 *       reaching {@code /admin} in an application that decodes it; an encoded {@code ;} ({@code %3B %3b}) is
 *       rejected in every mode (servlet containers disagree on whether it delimits a path parameter; Spring's
 *       {@code StrictHttpFirewall} rejects it too); every other triplet stays encoded with upper-case hex.
 *       Nothing is decoded twice: {@code %252F} stays {@code %252F}.</li>
 *   <li><b>Merge slashes</b> ({@code //} → {@code /}, Envoy {@code merge_slashes}): {@code //admin} is
 *       {@code /admin}. Done before dot-segment removal, as {@link PathNormalizer} does, so the access log and
 *       the matcher agree: {@code /a//../b} is {@code /b}.</li>
 *   <li><b>Remove dot segments</b> (RFC 3986 §5.2.4): {@code /public/../admin} is {@code /admin}
 *       (CVE-2019-9901, an unnormalized path reaching {@code /admin} past a policy on {@code /public/*});
 *       {@code ..} above the root stays at the root ({@code /../../admin} is {@code /admin}).</li>
 * </ol>
 * The result is canonical: normalizing it again gives it back, and an application that normalizes it by any
 * of these rules sees the same path that was matched, because the handler forwards exactly this path.
 *
 * <p>Hosts: {@link Authority}.
 */
public final class RequestPathPolicy {

    /**
     * The rules one listener normalizes with (bootstrap {@code policies.escapedSlashes} and
     * {@code policies.pathParameters}).
     */
    public record Rules(EscapedSlashes escapedSlashes, PathParameters pathParameters) {
        /** Both rules at their safe default: reject. */
        public static final Rules DEFAULT = new Rules(EscapedSlashes.REJECT, PathParameters.REJECT);

        public Rules {
            requireNonNull(escapedSlashes, "escapedSlashes");
            requireNonNull(pathParameters, "pathParameters");
        }
    }

    /** The outcome of {@link #normalizeForAuthorization}. */
    public sealed interface Result permits Ok, Rejected {
    }

    /**
     * @param path  the canonical path: what authorization matches and what is forwarded
     * @param query the raw query without its {@code ?}, unmodified; null when the target had no {@code ?}
     */
    public record Ok(String path, String query) implements Result {
        public Ok {
            requireNonNull(path, "path");
        }

        /** The request target to forward: {@code path}, then {@code ?query} when there was a query. */
        public String target() {
            return query == null ? path : path + '?' + query;
        }
    }

    /** The target is refused (→ 400); {@code reason} is safe to show the caller (it quotes nothing). */
    public record Rejected(String reason) implements Result {
        public Rejected {
            requireNonNull(reason, "reason");
        }
    }

    // Reasons are constants: the rejection path allocates nothing beyond the shared instances.
    static final Rejected CONTROL_CHARACTER = new Rejected("control character in request target");
    static final Rejected NON_ASCII = new Rejected("non-ASCII character in request target");
    static final Rejected FRAGMENT = new Rejected("fragment in request target");
    static final Rejected BACKSLASH = new Rejected("backslash in path");
    static final Rejected NOT_A_PATH = new Rejected("request target is not a path");
    static final Rejected USERINFO = new Rejected("userinfo in request target");
    static final Rejected BAD_PERCENT = new Rejected("invalid percent-encoding in path");
    static final Rejected ENCODED_CONTROL = new Rejected("encoded control character in path");
    static final Rejected ESCAPED_SLASH = new Rejected("encoded slash or backslash in path");
    static final Rejected PATH_PARAMETER = new Rejected("path parameter (;) in path");
    static final Rejected ENCODED_SEMICOLON = new Rejected("encoded semicolon in path");
    static final Rejected BAD_AUTHORITY = new Rejected("invalid authority in request target");

    private static final Ok ROOT = new Ok("/", null);

    private RequestPathPolicy() {
    }

    /**
     * The canonical path and raw query of {@code requestTarget}, a request target as received (HTTP/1.1
     * request line, or HTTP/2 {@code :path}), or why it is refused.
     */
    public static Result normalizeForAuthorization(String requestTarget, Rules rules) {
        requireNonNull(requestTarget, "requestTarget");
        requireNonNull(rules, "rules");
        int n = requestTarget.length();
        if (n == 0) {
            return ROOT;
        }
        for (int i = 0; i < n; i++) {
            char c = requestTarget.charAt(i);
            if (c <= 0x20 || c == 0x7F) {
                return CONTROL_CHARACTER;
            }
            if (c > 0x7F) {
                return NON_ASCII;
            }
            if (c == '#') {
                return FRAGMENT;
            }
        }
        int pathStart;
        if (requestTarget.charAt(0) == '/') {
            pathStart = 0;
        } else {
            int authority = authorityStart(requestTarget);
            if (authority < 0) {
                return NOT_A_PATH;
            }
            int end = endOfAuthority(requestTarget, authority);
            if (end == authority) {
                return NOT_A_PATH; // http:///p has no host (RFC 9110 §4.2.1)
            }
            if (requestTarget.lastIndexOf('@', end - 1) >= authority) {
                return USERINFO;
            }
            if (!Authority.isValid(requestTarget, authority, end)) {
                return BAD_AUTHORITY; // it becomes the Host the application and authorization see
            }
            pathStart = end;
        }
        int q = requestTarget.indexOf('?', pathStart);
        int pathEnd = q < 0 ? n : q;
        String query = q < 0 ? null : requestTarget.substring(q + 1);
        if (pathStart == pathEnd) {
            return query == null ? ROOT : new Ok("/", query);
        }
        String path = requestTarget.substring(pathStart, pathEnd);
        if (path.indexOf('\\') >= 0) {
            return BACKSLASH;
        }
        if (path.indexOf(';') >= 0) {
            if (rules.pathParameters() == PathParameters.REJECT) {
                return PATH_PARAMETER;
            }
            path = stripPathParameters(path);
        }
        if (path.indexOf('%') >= 0) {
            Object decoded = decode(path, rules.escapedSlashes());
            if (decoded instanceof Rejected rejected) {
                return rejected;
            }
            path = (String) decoded;
        }
        if (needsSegmentWork(path)) {
            path = PathNormalizer.removeDotSegments(PathNormalizer.mergeSlashes(path));
        }
        return new Ok(path, query);
    }

    /**
     * True when {@code target} is an origin-form target that {@link #normalizeForAuthorization} returns
     * unchanged in every mode (path and {@code ?query} put back together give {@code target}): no control or
     * non-ASCII character, space or {@code #} anywhere; no {@code \}, {@code ;} or {@code %}, no {@code //} and no
     * segment starting with a dot in the path. The allocation-free fast path of the handler; a
     * {@code false} is answered by {@link #normalizeForAuthorization}.
     */
    static boolean isCanonicalOriginForm(String target) {
        int n = target.length();
        if (n == 0 || target.charAt(0) != '/') {
            return false;
        }
        boolean inPath = true;
        char prev = 0;
        for (int i = 0; i < n; i++) {
            char c = target.charAt(i);
            if (c <= 0x20 || c >= 0x7F || c == '#') {
                return false;
            }
            if (inPath) {
                if (c == '?') {
                    inPath = false;
                } else if (c == '%' || c == '\\' || c == ';' || (prev == '/' && (c == '/' || c == '.'))) {
                    return false;
                }
                prev = c;
            }
        }
        return true;
    }

    /**
     * The authority of an absolute-form target ({@code host[:port]}, as received), or null for any other
     * form. A proxy replaces {@code Host} with it (RFC 9112 §3.2.2).
     */
    static String authorityOf(String target) {
        if (target.isEmpty() || target.charAt(0) == '/') {
            return null;
        }
        int start = authorityStart(target);
        return start < 0 ? null : target.substring(start, endOfAuthority(target, start));
    }

    /**
     * For absolute-form with scheme {@code http} or {@code https} (any case), the index just after
     * {@code ://}; otherwise -1.
     */
    private static int authorityStart(String target) {
        if (target.regionMatches(true, 0, "http://", 0, 7)) {
            return 7;
        }
        if (target.regionMatches(true, 0, "https://", 0, 8)) {
            return 8;
        }
        return -1;
    }

    /** Index of the first {@code /} or {@code ?} at or after {@code from} (RFC 3986 §3.2), or the length. */
    private static int endOfAuthority(String target, int from) {
        for (int i = from; i < target.length(); i++) {
            char c = target.charAt(i);
            if (c == '/' || c == '?') {
                return i;
            }
        }
        return target.length();
    }

    /**
     * One pass over every triplet of {@code path} (rule 4 of the class comment): the decoded path, or the
     * {@link Rejected} that stops it.
     */
    private static Object decode(String path, EscapedSlashes mode) {
        StringBuilder out = new StringBuilder(path.length());
        int n = path.length();
        for (int i = 0; i < n; i++) {
            char c = path.charAt(i);
            if (c != '%') {
                out.append(c);
                continue;
            }
            int hi = i + 1 < n ? PathNormalizer.hexValue(path.charAt(i + 1)) : -1;
            int lo = i + 2 < n ? PathNormalizer.hexValue(path.charAt(i + 2)) : -1;
            if (hi < 0 || lo < 0) {
                return BAD_PERCENT;
            }
            char decoded = (char) (hi << 4 | lo);
            i += 2;
            if (decoded < 0x20 || decoded == 0x7F) {
                return ENCODED_CONTROL;
            }
            if (decoded == ';') {
                return ENCODED_SEMICOLON;
            }
            if (decoded == '/' || decoded == '\\') {
                switch (mode) {
                    case REJECT -> {
                        return ESCAPED_SLASH;
                    }
                    case DECODE -> out.append('/');
                    case KEEP -> out.append('%').append(PathNormalizer.HEX[hi]).append(PathNormalizer.HEX[lo]);
                }
            } else if (PathNormalizer.isUnreserved(decoded)) {
                out.append(decoded);
            } else {
                out.append('%').append(PathNormalizer.HEX[hi]).append(PathNormalizer.HEX[lo]);
            }
        }
        return out.toString();
    }

    /**
     * {@code path} with {@code ;} and the rest of its segment cut off every segment ({@code /a;x/b;y=1} is
     * {@code /a/b}); the path holds at least one {@code ;}.
     */
    private static String stripPathParameters(String path) {
        StringBuilder out = new StringBuilder(path.length());
        boolean inParameters = false;
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c == '/') {
                inParameters = false;
            } else if (c == ';') {
                inParameters = true;
            }
            if (!inParameters) {
                out.append(c);
            }
        }
        return out.toString();
    }

    /** True when the path has a {@code //} or a segment starting with a dot. */
    private static boolean needsSegmentWork(String path) {
        char prev = 0;
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (prev == '/' && (c == '/' || c == '.')) {
                return true;
            }
            prev = c;
        }
        return false;
    }
}
