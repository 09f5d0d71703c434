package dev.outrider.proxy.admin;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;

import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Optional;

/**
 * Whether a {@code POST /drain} may run. The admin port listens on loopback, but a web page open in a browser
 * on the same host can still send it requests: a form POST is a "simple" cross-origin request that needs no
 * CORS preflight, and a page served from a domain that resolves to 127.0.0.1 (DNS rebinding) is even
 * same-origin with it. So the drain also requires:
 * <ol>
 *   <li>{@code Host} naming loopback ({@code localhost}, a loopback IP literal such as {@code 127.0.0.1} or
 *       {@code [::1]}, any port): a rebound domain name arrives with its own name;</li>
 *   <li>no {@code Origin}, or a loopback one ({@code http(s)://localhost|127.0.0.1|[::1][:port]}): a browser
 *       sends Origin on every cross-origin POST;</li>
 *   <li>{@value #HEADER_TEXT}: {@code true}, a header a page can only add through CORS, whose preflight this
 *       server never grants ({@code OPTIONS} gets 405).</li>
 * </ol>
 * {@code curl -X POST -H 'X-Outrider-Drain: true' http://127.0.0.1:15000/drain} passes all three.
 * A pure function of the request headers; no DNS lookup.
 */
final class DrainRequestCheck {
    static final String HEADER_TEXT = "X-Outrider-Drain";
    static final AsciiString HEADER = AsciiString.cached("x-outrider-drain");

    private DrainRequestCheck() {
    }

    /** Empty when the drain may run; otherwise what is wrong, for a 403 body. */
    static Optional<String> refusal(HttpHeaders headers) {
        List<String> hosts = headers.getAll(HttpHeaderNames.HOST);
        if (hosts.size() != 1 || !isLoopbackAuthority(hosts.getFirst())) {
            return Optional.of("POST /drain needs a Host header naming loopback (localhost, 127.0.0.1 or [::1]), got "
                    + (hosts.isEmpty() ? "none" : "'" + String.join("', '", hosts) + "'"));
        }
        List<String> origins = headers.getAll(HttpHeaderNames.ORIGIN);
        if (origins.size() > 1 || (origins.size() == 1 && !isLoopbackOrigin(origins.getFirst()))) {
            return Optional.of("POST /drain is refused from origin '" + String.join("', '", origins)
                    + "': only a loopback origin may drain the sidecar");
        }
        List<String> marks = headers.getAll(HEADER);
        if (marks.size() != 1 || !marks.getFirst().strip().equalsIgnoreCase("true")) {
            return Optional.of("POST /drain needs the header '" + HEADER_TEXT + ": true' (so a web page cannot "
                    + "trigger it with a simple cross-origin request)");
        }
        return Optional.empty();
    }

    /** {@code host[:port]} or {@code [v6][:port]} whose host is {@code localhost} or a loopback IP literal. */
    static boolean isLoopbackAuthority(String authority) {
        String a = authority.strip();
        String host;
        String port;
        if (a.startsWith("[")) {
            int close = a.indexOf(']');
            if (close < 0) {
                return false;
            }
            host = a.substring(1, close);
            String rest = a.substring(close + 1);
            if (!rest.isEmpty() && !rest.startsWith(":")) {
                return false;
            }
            port = rest.isEmpty() ? "" : rest.substring(1);
        } else {
            int colon = a.indexOf(':');
            host = colon < 0 ? a : a.substring(0, colon);
            port = colon < 0 ? "" : a.substring(colon + 1);
            if (host.indexOf(':') >= 0 || port.indexOf(':') >= 0) {
                return false; // IPv6 without brackets
            }
        }
        return isPort(port) && isLoopbackHost(host);
    }

    private static boolean isLoopbackOrigin(String origin) {
        URI uri;
        try {
            uri = new URI(origin.strip());
        } catch (URISyntaxException e) {
            return false; // also "null", the origin of sandboxed and file: pages
        }
        String scheme = uri.getScheme();
        if (scheme == null || !(scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https"))
                || uri.getRawAuthority() == null || uri.getRawUserInfo() != null) {
            return false;
        }
        String path = uri.getRawPath();
        return (path == null || path.isEmpty()) && uri.getRawQuery() == null && uri.getRawFragment() == null
                && isLoopbackAuthority(uri.getRawAuthority());
    }

    private static boolean isPort(String port) {
        if (port.isEmpty()) {
            return true;
        }
        if (port.length() > 5) {
            return false;
        }
        for (int i = 0; i < port.length(); i++) {
            if (port.charAt(i) < '0' || port.charAt(i) > '9') {
                return false;
            }
        }
        return Integer.parseInt(port) <= 65535;
    }

    private static boolean isLoopbackHost(String host) {
        if (host.equalsIgnoreCase("localhost")) {
            return true;
        }
        if (host.isEmpty()) {
            return false;
        }
        try {
            return InetAddress.ofLiteral(host).isLoopbackAddress();
        } catch (IllegalArgumentException e) {
            return false; // a name other than localhost: never resolved here
        }
    }
}
