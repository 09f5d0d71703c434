package dev.outrider.proxy.authn;

import dev.outrider.core.policy.RequestAuthentication.JwtHeader;
import dev.outrider.core.policy.RequestAuthentication.JwtRule;
import io.netty.handler.codec.http.HttpHeaderNames;
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

    /** A token found, and where, so it can be stripped from exactly there. */
    public record Token(String value, String headerName, String paramName) {
        public Token {
            requireNonNull(value, "value");
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
        for (int i = 0; i < headers.size(); i++) {
            JwtHeader h = headers.get(i);
            List<String> values = request.headers().getAll(h.name());
            for (int j = 0; j < values.size(); j++) {
                String token = afterPrefix(values.get(j), h);
                if (token != null) {
                    return new Token(token, h.name(), null);
                }
            }
        }
        if (!params.isEmpty() && request.uri().indexOf('?') >= 0) {
            QueryStringDecoder query = new QueryStringDecoder(request.uri());
            for (int i = 0; i < params.size(); i++) {
                List<String> values = query.parameters().get(params.get(i));
                if (values != null && !values.isEmpty() && !values.getFirst().isEmpty()) {
                    return new Token(values.getFirst(), null, params.get(i));
                }
            }
        }
        return null;
    }

    /**
     * True when the request carries, in this rule's places, a token other than {@code token} (the one
     * {@link #extract} found): another header value with the prefix, or another value of a token parameter.
     */
    public boolean carriesOther(HttpRequest request, String token) {
        for (int i = 0; i < headers.size(); i++) {
            JwtHeader h = headers.get(i);
            List<String> values = request.headers().getAll(h.name());
            for (int j = 0; j < values.size(); j++) {
                String v = values.get(j);
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
                    if (!t.isEmpty() && !t.equals(token)) {
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

    /** The token in header {@code value} under {@code h} (after the prefix, trimmed), or null when none. */
    private static String afterPrefix(String value, JwtHeader h) {
        int start = tokenStart(value, h);
        return start < 0 ? null : value.substring(start, tokenEnd(value, start));
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
    private static boolean holds(String value, JwtHeader h, String token) {
        int start = tokenStart(value, h);
        return start >= 0 && isTokenAt(value, start, token);
    }

    private static boolean isTokenAt(String value, int start, String token) {
        return tokenEnd(value, start) - start == token.length()
                && value.regionMatches(start, token, 0, token.length());
    }

    /**
     * Removes {@code token} from {@code request} (in place, and returns it) unless this rule forwards the
     * original token: see {@link #remove}.
     */
    public HttpRequest strip(HttpRequest request, Token token) {
        if (forwardOriginalToken || token == null) {
            return request;
        }
        return remove(request, token.value());
    }

    /**
     * Removes the token {@code value} from every place of this rule that carries it, whatever
     * {@code forwardOriginalToken} says: the header values holding it, and every occurrence of a token
     * parameter holding it; other parameters keep their exact original encoding.
     */
    public HttpRequest remove(HttpRequest request, String value) {
        requireNonNull(value, "value");
        for (int i = 0; i < headers.size(); i++) {
            String name = headers.get(i).name();
            List<String> values = request.headers().getAll(name);
            if (values.isEmpty()) {
                continue;
            }
            request.headers().remove(name);
            for (String v : values) {
                if (!holdsUnderFirstPrefix(v, value)) {
                    request.headers().add(name, v);
                }
            }
        }
        if (!params.isEmpty() && request.uri().indexOf('?') >= 0) {
            QueryStringDecoder query = new QueryStringDecoder(request.uri());
            for (int i = 0; i < params.size(); i++) {
                List<String> values = query.parameters().get(params.get(i));
                if (values != null && values.contains(value)) {
                    request.setUri(withoutParam(request.uri(), params.get(i)));
                }
            }
        }
        return request;
    }

    /**
     * Whether the token in header value {@code v}, under the first of this rule's prefixes it has, is
     * {@code token}.
     */
    private boolean holdsUnderFirstPrefix(String v, String token) {
        for (JwtHeader h : headers) {
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
