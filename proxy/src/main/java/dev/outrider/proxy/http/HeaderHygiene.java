package dev.outrider.proxy.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.AsciiString;

import java.util.Iterator;

/**
 * Header rules applied to every message the sidecar forwards (pure functions over {@link HttpHeaders}).
 *
 * <p>Hop-by-hop fields (RFC 9110 §7.6.1) belong to one connection and are removed: Connection, the fields
 * it names, Keep-Alive, Proxy-Connection, Proxy-Authenticate, Proxy-Authorization, TE (except
 * {@code TE: trailers}, which gRPC needs end to end over HTTP/2), Trailer and Upgrade. Transfer-Encoding is
 * left to the codecs: the HTTP/1.1 decoder has already removed the chunked framing, the encoders re-frame,
 * and HTTP/2 conversion drops it. Netty's HTTP/2 extension headers ({@code x-http2-*}) never leave the
 * sidecar.
 */
public final class HeaderHygiene {
    public static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
    public static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
    public static final AsciiString X_REQUEST_ID = AsciiString.cached("x-request-id");
    private static final AsciiString PROXY_CONNECTION = AsciiString.cached("proxy-connection");
    private static final AsciiString KEEP_ALIVE = AsciiString.cached("keep-alive");
    private static final AsciiString[] HOP_BY_HOP = {
            KEEP_ALIVE, PROXY_CONNECTION, HttpHeaderNames.PROXY_AUTHENTICATE,
            HttpHeaderNames.PROXY_AUTHORIZATION, HttpHeaderNames.TRAILER, HttpHeaderNames.UPGRADE,
            HttpConversionUtil.ExtensionHeaderNames.STREAM_ID.text(),
            HttpConversionUtil.ExtensionHeaderNames.SCHEME.text(),
            HttpConversionUtil.ExtensionHeaderNames.PATH.text(),
            HttpConversionUtil.ExtensionHeaderNames.STREAM_PROMISE_ID.text(),
            HttpConversionUtil.ExtensionHeaderNames.STREAM_DEPENDENCY_ID.text(),
            HttpConversionUtil.ExtensionHeaderNames.STREAM_WEIGHT.text(),
    };

    private HeaderHygiene() {
    }

    /** Removes hop-by-hop fields, including every field named in Connection. Allocation-free on common input. */
    public static void stripHopByHop(HttpHeaders headers) {
        if (headers.contains(HttpHeaderNames.CONNECTION)) {
            Iterator<String> values = headers.valueStringIterator(HttpHeaderNames.CONNECTION);
            while (values.hasNext()) {
                removeNamedFields(headers, values.next());
            }
            headers.remove(HttpHeaderNames.CONNECTION);
        }
        for (AsciiString name : HOP_BY_HOP) {
            headers.remove(name);
        }
        String te = headers.get(HttpHeaderNames.TE);
        if (te != null) {
            headers.remove(HttpHeaderNames.TE);
            if (containsToken(te, "trailers")) {
                headers.set(HttpHeaderNames.TE, HttpHeaderValues.TRAILERS);
            }
        }
    }

    /** Removes the fields a Connection value names (RFC 9110 §7.6.1), except framing and Host. */
    private static void removeNamedFields(HttpHeaders headers, String value) {
        int i = 0;
        int n = value.length();
        while (i < n) {
            int comma = value.indexOf(',', i);
            int tokenEnd = comma < 0 ? n : comma;
            int s = i;
            int e = tokenEnd;
            while (s < e && isOws(value.charAt(s))) {
                s++;
            }
            while (e > s && isOws(value.charAt(e - 1))) {
                e--;
            }
            if (e > s && !is(value, s, e, "close") && !is(value, s, e, "keep-alive")
                    && !is(value, s, e, "transfer-encoding") && !is(value, s, e, "content-length")
                    && !is(value, s, e, "host")) {
                headers.remove(value.substring(s, e)); // a custom hop-by-hop field: rare
            }
            i = tokenEnd + 1;
        }
    }

    private static boolean is(String value, int start, int end, String token) {
        return end - start == token.length() && value.regionMatches(true, start, token, 0, token.length());
    }

    private static boolean isOws(char c) {
        return c == ' ' || c == '\t';
    }

    /**
     * The request-side additions: the caller's address appended to X-Forwarded-For, X-Forwarded-Proto and
     * x-request-id set when absent. Returns the request id in use.
     */
    public static String addForwardingHeaders(HttpHeaders headers, String clientIp, String proto) {
        if (clientIp != null) {
            String xff = headers.get(X_FORWARDED_FOR);
            headers.set(X_FORWARDED_FOR, xff == null || xff.isBlank() ? clientIp : xff + ", " + clientIp);
        }
        if (!headers.contains(X_FORWARDED_PROTO)) {
            headers.set(X_FORWARDED_PROTO, proto);
        }
        String id = headers.get(X_REQUEST_ID);
        if (id == null || id.isEmpty()) {
            id = RequestIds.next();
            headers.set(X_REQUEST_ID, id);
        }
        return id;
    }

    /** Whether a comma-separated list holds {@code token} (parameters after ';' ignored), any case. */
    static boolean containsToken(String value, String token) {
        int i = 0;
        int n = value.length();
        while (i < n) {
            int comma = value.indexOf(',', i);
            int tokenEnd = comma < 0 ? n : comma;
            int semi = value.indexOf(';', i);
            int e = semi >= 0 && semi < tokenEnd ? semi : tokenEnd;
            int s = i;
            while (s < e && isOws(value.charAt(s))) {
                s++;
            }
            while (e > s && isOws(value.charAt(e - 1))) {
                e--;
            }
            if (is(value, s, e, token)) {
                return true;
            }
            i = tokenEnd + 1;
        }
        return false;
    }
}
