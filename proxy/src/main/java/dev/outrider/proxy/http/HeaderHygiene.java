package dev.outrider.proxy.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.AsciiString;

import java.util.List;
import java.util.Locale;

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

    /** Removes hop-by-hop fields, including every field named in Connection. */
    public static void stripHopByHop(HttpHeaders headers) {
        List<String> connection = headers.getAll(HttpHeaderNames.CONNECTION);
        if (!connection.isEmpty()) {
            for (String value : connection) {
                for (String token : value.split(",")) {
                    String name = token.strip();
                    if (!name.isEmpty() && !isEndToEndFraming(name)) {
                        headers.remove(name);
                    }
                }
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

    /** Connection may not be used to delete message framing; such tokens are ignored. */
    private static boolean isEndToEndFraming(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        return lower.equals("transfer-encoding") || lower.equals("content-length") || lower.equals("host");
    }

    static boolean containsToken(String value, String token) {
        for (String part : value.split(",")) {
            String t = part.strip();
            int semi = t.indexOf(';');
            if (semi >= 0) {
                t = t.substring(0, semi).strip();
            }
            if (t.equalsIgnoreCase(token)) {
                return true;
            }
        }
        return false;
    }
}
