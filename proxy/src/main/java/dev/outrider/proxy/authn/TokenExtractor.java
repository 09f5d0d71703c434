package dev.outrider.proxy.authn;

import dev.outrider.core.policy.RequestAuthentication.JwtHeader;
import dev.outrider.core.policy.RequestAuthentication.JwtRule;
import dev.outrider.proxy.http.CompactHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.QueryStringDecoder;

import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * Where one rule's token is: {@code fromHeaders} (name + prefix), {@code fromParams} (query parameters), or
 * when neither is set, Istio's defaults: {@code Authorization: Bearer <token>}, then the {@code access_token}
 * query parameter. Pure: reads a Netty
 * {@link HttpRequest}, and {@link #strip} removes the token from it before forwarding unless the rule says
 * {@code forwardOriginalToken}.
 *
 * <p>Order: headers in the order configured, then parameters; the first present is {@link #extract}ed. A
 * request carrying a <em>different</em> token in another of the rule's places (a second header value, the
 * {@code access_token} parameter next to the header) has more than one token: {@link #carriesOther} says so,
 * and the caller refuses it rather than forward a token nobody verified. The prefix match is exact, except
 * the default {@code Bearer } whose scheme is case-insensitive (RFC 9110 §11.1).
 */
public final class TokenExtractor {
    private static final String DEFAULT_PARAM = "access_token";
    private static final JwtHeader DEFAULT = new JwtHeader(HttpHeaderNames.AUTHORIZATION.toString(), "Bearer ");

    /**
     * A token found, and where, so it can be stripped from exactly there: a view of the characters of the header
     * value or parameter that carries it, not a copy ({@link #value()} copies it out, once, when a String is
     * needed: a verifier parsing it).
     *
     * <p>Threading: used on the request's event loop only.
     */
    public static final class Token implements CharSequence {
        private final String source;
        private final int start;
        private final int end;
        private final String headerName;
        private final String paramName;
        private String value;

        private Token(String source, int start, int end, String headerName, String paramName) {
            this.source = source;
            this.start = start;
            this.end = end;
            this.headerName = headerName;
            this.paramName = paramName;
        }

        /** The token as a String (a copy, made on the first call). */
        public String value() {
            String v = value;
            if (v == null) {
                v = source.substring(start, end);
                value = v;
            }
            return v;
        }

        /** The header that carries it, or null. */
        public String headerName() {
            return headerName;
        }

        /** The query parameter that carries it, or null. */
        public String paramName() {
            return paramName;
        }

        /** Whether {@code other} is the same token text, compared in place. */
        boolean sameText(Token other) {
            return length() == other.length() && source.regionMatches(start, other.source, other.start, length());
        }

        @Override
        public int length() {
            return end - start;
        }

        @Override
        public char charAt(int index) {
            return source.charAt(start + index);
        }

        @Override
        public CharSequence subSequence(int from, int to) {
            return value().subSequence(from, to);
        }

        /** The token itself (as {@link CharSequence} requires). */
        @Override
        public String toString() {
            return value();
        }
    }

    private final List<JwtHeader> headers;
    private final List<String> params;
    private final boolean forwardOriginalToken;

    private TokenExtractor(List<JwtHeader> headers, List<String> params, boolean forwardOriginalToken) {
        this.headers = headers;
        this.params = params;
        this.forwardOriginalToken = forwardOriginalToken;
    }

    public static TokenExtractor forRule(JwtRule rule) {
        requireNonNull(rule, "rule");
        boolean defaults = rule.fromHeaders().isEmpty() && rule.fromParams().isEmpty();
        return defaults
                ? new TokenExtractor(List.of(DEFAULT), List.of(DEFAULT_PARAM), rule.forwardOriginalToken())
                : new TokenExtractor(rule.fromHeaders(), rule.fromParams(), rule.forwardOriginalToken());
    }

    /** The token, or null when the request carries none in this rule's locations. */
    public Token extract(HttpRequest request) {
        HttpHeaders fields = request.headers();
        for (int i = 0; i < headers.size(); i++) {
            JwtHeader h = headers.get(i);
            String first = fields.get(h.name());
            if (first == null) {
                continue;
            }
            List<String> all = several(fields, h.name());
            for (int j = 0, n = all == null ? 1 : all.size(); j < n; j++) {
                String v = all == null ? first : all.get(j);
                int start = tokenStart(v, h);
                if (start >= 0) {
                    return new Token(v, start, tokenEnd(v, start), h.name(), null);
                }
            }
        }
        if (!params.isEmpty() && request.uri().indexOf('?') >= 0) {
            QueryStringDecoder query = new QueryStringDecoder(request.uri());
            for (int i = 0; i < params.size(); i++) {
                List<String> values = query.parameters().get(params.get(i));
                if (values != null && !values.isEmpty() && !values.getFirst().isEmpty()) {
                    String v = values.getFirst();
                    return new Token(v, 0, v.length(), null, params.get(i));
                }
            }
        }
        return null;
    }

    /**
     * True when the request carries, in this rule's places, a token other than {@code token} (the one
     * {@link #extract} found, or its text): another header value with the prefix, or another value of a token
     * parameter.
     */
    public boolean carriesOther(HttpRequest request, CharSequence token) {
        HttpHeaders fields = request.headers();
        for (int i = 0; i < headers.size(); i++) {
            JwtHeader h = headers.get(i);
            String first = fields.get(h.name());
            if (first == null) {
                continue;
            }
            List<String> all = several(fields, h.name());
            for (int j = 0, n = all == null ? 1 : all.size(); j < n; j++) {
                String v = all == null ? first : all.get(j);
                if (tokenStart(v, h) >= 0 && !holds(v, h, token)) {
                    return true;
                }
            }
        }
        if (!params.isEmpty() && request.uri().indexOf('?') >= 0) {
            QueryStringDecoder query = new QueryStringDecoder(request.uri());
            for (int i = 0; i < params.size(); i++) {
                List<String> values = query.parameters().get(params.get(i));
                if (values == null) {
                    continue;
                }
                for (int j = 0; j < values.size(); j++) {
                    String t = values.get(j);
                    if (!t.isEmpty() && !isExactly(t, token)) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /** Whether this rule looks for tokens in query parameters. */
    public boolean readsQuery() {
        return !params.isEmpty();
    }

    /**
     * True unless the query of {@code uri} (after the first {@code ?}, up to a {@code #}) has a {@code %} that does
     * not start a triplet of two hex digits (RFC 3986 §2.1): {@link QueryStringDecoder} throws on those, so
     * {@link #extract}, {@link #carriesOther} and {@link #remove} must only see a query that passes this check.
     */
    public static boolean queryDecodes(String uri) {
        int q = uri.indexOf('?');
        if (q < 0) {
            return true;
        }
        int end = uri.indexOf('#', q);
        end = end < 0 ? uri.length() : end;
        for (int i = uri.indexOf('%', q); i >= 0 && i < end; i = uri.indexOf('%', i + 1)) {
            if (i + 2 >= end || Character.digit(uri.charAt(i + 1), 16) < 0 || Character.digit(uri.charAt(i + 2), 16) < 0) {
                return false;
            }
        }
        return true;
    }

    /** Whether this rule keeps the token in the forwarded request. */
    public boolean forwardsOriginalToken() {
        return forwardOriginalToken;
    }

    /**
     * Where the token starts in header {@code value} under {@code h}: after the prefix and any white space
     * ({@link String#trim}'s, at most {@code ' '}); -1 when the prefix does not match or no token follows.
     * With {@link #tokenEnd} it compares a value with a token found before without copying either.
     */
    private static int tokenStart(String value, JwtHeader h) {
        String prefix = h.prefix();
        boolean matches = h == DEFAULT
                ? value.regionMatches(true, 0, prefix, 0, prefix.length())
                : value.startsWith(prefix);
        if (!matches) {
            return -1;
        }
        int start = prefix.length();
        int end = value.length();
        while (start < end && value.charAt(start) <= ' ') {
            start++;
        }
        return start < end ? start : -1;
    }

    /** The end of the token that starts at {@code start}: the value's end, less trailing white space. */
    private static int tokenEnd(String value, int start) {
        int end = value.length();
        while (end > start && value.charAt(end - 1) <= ' ') {
            end--;
        }
        return end;
    }

    /** Whether header {@code value} carries exactly {@code token} under {@code h}, compared in place. */
    private static boolean holds(String value, JwtHeader h, CharSequence token) {
        int start = tokenStart(value, h);
        return start >= 0 && isTokenAt(value, start, token);
    }

    /** Whether {@code value} from {@code start} (less trailing white space) is exactly {@code token}; no copy. */
    private static boolean isTokenAt(String value, int start, CharSequence token) {
        int n = token.length();
        if (tokenEnd(value, start) - start != n) {
            return false;
        }
        return token instanceof Token t ? value.regionMatches(start, t.source, t.start, n)
                : value.regionMatches(start, token.toString(), 0, n); // a String is its own toString()
    }

    /**
     * Removes {@code token} from {@code request} (in place, and returns it) unless this rule forwards the
     * original token: see {@link #remove}.
     */
    public HttpRequest strip(HttpRequest request, Token token) {
        if (forwardOriginalToken || token == null) {
            return request;
        }
        return remove(request, (CharSequence) token);
    }

    /**
     * Removes the token {@code value} from every place of this rule that carries it, whatever
     * {@code forwardOriginalToken} says: the header values holding it, and every occurrence of a token
     * parameter holding it; other parameters keep their exact original encoding.
     */
    public HttpRequest remove(HttpRequest request, String value) {
        requireNonNull(value, "value");
        return remove(request, (CharSequence) value);
    }

    /** {@link #remove(HttpRequest, String)} for a token or its text, compared in place. */
    private HttpRequest remove(HttpRequest request, CharSequence value) {
        HttpHeaders fields = request.headers();
        for (int i = 0; i < headers.size(); i++) {
            String name = headers.get(i).name();
            String first = fields.get(name);
            if (first == null) {
                continue;
            }
            List<String> all = several(fields, name);
            fields.remove(name);
            for (int j = 0, n = all == null ? 1 : all.size(); j < n; j++) {
                String v = all == null ? first : all.get(j);
                if (!holdsUnderFirstPrefix(v, value)) {
                    fields.add(name, v);
                }
            }
        }
        if (!params.isEmpty() && request.uri().indexOf('?') >= 0) {
            QueryStringDecoder query = new QueryStringDecoder(request.uri());
            for (int i = 0; i < params.size(); i++) {
                List<String> values = query.parameters().get(params.get(i));
                if (values != null && containsToken(values, value)) {
                    request.setUri(withoutParam(request.uri(), params.get(i)));
                }
            }
        }
        return request;
    }

    /**
     * The values of header {@code name} when it has more than one; null when it has one (then
     * {@link HttpHeaders#get} is it) or none. The decoder's map ({@link CompactHttpHeaders}) counts them in
     * place, so the usual request, with one token header, makes no list.
     */
    private static List<String> several(HttpHeaders fields, String name) {
        if (fields instanceof CompactHttpHeaders compact && compact.count(name) < 2) {
            return null;
        }
        List<String> all = fields.getAll(name);
        return all.size() > 1 ? all : null;
    }

    /** Whether {@code s} is exactly {@code token} (as {@link String#equals}), compared in place. */
    private static boolean isExactly(String s, CharSequence token) {
        int n = token.length();
        return s.length() == n && (token instanceof Token t ? s.regionMatches(0, t.source, t.start, n)
                : s.contentEquals(token));
    }

    private static boolean containsToken(List<String> values, CharSequence token) {
        for (int i = 0; i < values.size(); i++) {
            if (isExactly(values.get(i), token)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether the token in header value {@code v}, under the first of this rule's prefixes it has, is
     * {@code token}.
     */
    private boolean holdsUnderFirstPrefix(String v, CharSequence token) {
        for (int i = 0; i < headers.size(); i++) { // indexed: no iterator per request
            JwtHeader h = headers.get(i);
            int start = tokenStart(v, h);
            if (start >= 0) {
                return isTokenAt(v, start, token);
            }
        }
        return false;
    }

    /** The URI with every {@code name=...} pair removed; names compared after percent-decoding. */
    static String withoutParam(String uri, String name) {
        int q = uri.indexOf('?');
        if (q < 0) {
            return uri;
        }
        int hash = uri.indexOf('#', q);
        String query = hash < 0 ? uri.substring(q + 1) : uri.substring(q + 1, hash);
        StringBuilder kept = new StringBuilder(query.length());
        for (String pair : query.split("&", -1)) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String rawName = eq < 0 ? pair : pair.substring(0, eq);
            if (QueryStringDecoder.decodeComponent(rawName).equals(name)) {
                continue;
            }
            if (!kept.isEmpty()) {
                kept.append('&');
            }
            kept.append(pair);
        }
        StringBuilder out = new StringBuilder(uri.length()).append(uri, 0, q);
        if (!kept.isEmpty()) {
            out.append('?').append(kept);
        }
        if (hash >= 0) {
            out.append(uri, hash, uri.length());
        }
        return out.toString();
    }
}
