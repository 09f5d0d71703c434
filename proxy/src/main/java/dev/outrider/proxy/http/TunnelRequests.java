package dev.outrider.proxy.http;

import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;

/**
 * The wire form of a TCP tunnel between sidecars, in one place for both ends: an HTTP/1.1
 * {@code CONNECT <service>:<port>} (RFC 9110 §9.3.6) on an mTLS connection of its own (ALPN http/1.1), answered
 * {@code 200} once the inbound side's checks passed and it reached the application's port; then bytes both ways.
 * One connection per TCP connection (as Istio's HBONE carries one per stream): TCP's own flow control works end to
 * end, one slow stream holds up no other, and the identity check and authorization happen once per connection.
 */
public final class TunnelRequests {
    private TunnelRequests() {
    }

    /** The {@code CONNECT} a caller's sidecar sends for a connection to {@code service}'s port {@code port}. */
    public static FullHttpRequest connectRequest(String service, int port) {
        String authority = service + ":" + port;
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.CONNECT, authority);
        request.headers().set(HttpHeaderNames.HOST, authority);
        return request;
    }

    /**
     * The port of a {@code CONNECT}'s authority-form target ({@code host:port}, RFC 9112 §3.2.3), or -1 when the
     * target is not one.
     */
    public static int connectPort(String target) {
        int colon = target.lastIndexOf(':');
        if (colon <= 0 || colon == target.length() - 1 || target.length() - colon > 6 || !Authority.isValid(target)) {
            return -1;
        }
        int port = 0;
        for (int i = colon + 1; i < target.length(); i++) {
            char c = target.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            port = port * 10 + (c - '0');
        }
        return port >= 1 && port <= 65535 ? port : -1;
    }
}
