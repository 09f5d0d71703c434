package dev.outrider.proxy.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.AsciiString;

import java.util.Iterator;

/**
 * Header rules applied to every message the sidecar forwards (pure functions over {@link HttpHeaders}).
 *
 * <p>Ownership: a caller's request is cleaned when it arrives ({@link #cleanRequestHead},
 * {@link #cleanTrailers}, from {@link RequestHygieneHandler}), before anything the sidecar owns is added, so
 * nothing a caller sends can remove or forge a field the sidecar sets. The sidecar owns
 * X-Forwarded-Client-Cert (set by the inbound listener from the peer certificate), X-Forwarded-Proto (set
 * from the listener's own protocol), the claim headers of a RequestAuthentication's
 * {@code outputClaimToHeaders} (removed and set by authentication) and appends to X-Forwarded-For;
 * x-request-id is kept when the caller sends one (trace correlation) and set otherwise.
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
    public static final AsciiString X_FORWARDED_CLIENT_CERT = AsciiString.cached("x-forwarded-client-cert");
    /** Request fields only the sidecar sets: whatever a caller sends under these names is removed. */
    private static final AsciiString[] SIDECAR_OWNED = {X_FORWARDED_CLIENT_CERT, X_FORWARDED_PROTO};
    /**
     * Fields that must not travel in trailers (RFC 9110 §6.5.1: framing, routing, request modifiers,
     * authentication, response control data and content format are needed before the content): removed from
     * trailers in both directions, with the hop-by-hop and sidecar-owned fields. gRPC's trailers
     * ({@code grpc-status}, {@code grpc-message}, {@code grpc-status-details-bin}) and custom metadata pass.
     */
    private static final AsciiString[] NOT_IN_TRAILERS = {
            HttpHeaderNames.CONTENT_LENGTH, HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderNames.HOST,
            HttpHeaderNames.CACHE_CONTROL, HttpHeaderNames.EXPECT, HttpHeaderNames.MAX_FORWARDS,
            HttpHeaderNames.PRAGMA, HttpHeaderNames.RANGE, HttpHeaderNames.IF_MATCH, HttpHeaderNames.IF_NONE_MATCH,
            HttpHeaderNames.IF_MODIFIED_SINCE, HttpHeaderNames.IF_UNMODIFIED_SINCE, HttpHeaderNames.IF_RANGE,
            HttpHeaderNames.AUTHORIZATION, HttpHeaderNames.WWW_AUTHENTICATE, HttpHeaderNames.COOKIE,
            HttpHeaderNames.SET_COOKIE, HttpHeaderNames.AGE, HttpHeaderNames.DATE, HttpHeaderNames.EXPIRES,
            HttpHeaderNames.LOCATION, HttpHeaderNames.RETRY_AFTER, HttpHeaderNames.VARY,
            HttpHeaderNames.CONTENT_ENCODING, HttpHeaderNames.CONTENT_TYPE, HttpHeaderNames.CONTENT_RANGE,
            HttpHeaderNames.TE, HttpHeaderNames.CONNECTION, X_FORWARDED_FOR, X_REQUEST_ID,
    };
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

    /**
     * Cleans a caller's request head on arrival: hop-by-hop fields (every field named in Connection
     * included) and sidecar-owned fields are removed. The caller's keep-alive wish survives as the one
     * Connection value it needs ({@code close} on HTTP/1.1, {@code keep-alive} on HTTP/1.0), which the
     * forwarding hop reads and removes. An upgrade request (an allowed one: {@link RequestGuardHandler} refused
     * the others) keeps its {@code Upgrade}, which is how the forwarding hop knows it; the forwarding hop sends it
     * on with {@code Connection: upgrade}.
     */
    public static void cleanRequestHead(HttpRequest request) {
        HttpHeaders headers = request.headers();
        boolean keepAlive = KeepAlive.requested(request);
        String upgrade = Upgrades.requested(request);
        stripHopByHop(headers);
        if (upgrade != null) {
            headers.set(HttpHeaderNames.UPGRADE, upgrade); // the request to forward asks to switch protocols
        }
        for (AsciiString name : SIDECAR_OWNED) {
            headers.remove(name);
        }
        if (KeepAlive.requested(request) != keepAlive) {
            KeepAlive.mark(request, keepAlive);
        }
    }

    /**
     * Cleans trailer fields (HTTP/1.1 chunked trailers, an HTTP/2 trailing HEADERS frame): hop-by-hop fields,
     * sidecar-owned fields and those RFC 9110 §6.5.1 keeps out of trailers are removed.
     */
    public static void cleanTrailers(HttpHeaders trailers) {
        if (trailers.isEmpty()) {
            return;
        }
        stripHopByHop(trailers);
        for (AsciiString name : NOT_IN_TRAILERS) {
            trailers.remove(name);
        }
        for (AsciiString name : SIDECAR_OWNED) {
            trailers.remove(name);
        }
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
     * The request-side additions: the caller's address appended to X-Forwarded-For, X-Forwarded-Proto set
     * from the listener's protocol ({@code proto}; a caller's value was removed on arrival, so one present was set
     * by the sidecar for this connection: a plaintext one on a listener with TLS), x-request-id
     * set when absent. Returns the request id in use.
     */
    public static String addForwardingHeaders(HttpHeaders headers, String clientIp, String proto) {
        if (clientIp != null) {
            String xff = headers.get(X_FORWARDED_FOR);
            headers.set(X_FORWARDED_FOR, xff == null || xff.isBlank() ? clientIp : xff + ", " + clientIp);
        }
        if (!headers.contains(X_FORWARDED_PROTO)) { // a caller's was removed on arrival: one set here is the sidecar's
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
