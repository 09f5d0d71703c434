package dev.outrider.proxy.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;

import java.util.List;
import java.util.Locale;

/**
 * HTTP/1.1 protocol upgrades (RFC 9110 §7.8): a request asks to switch protocols with {@code Upgrade} and a
 * {@code Connection} that names {@code upgrade}; a {@code 101 Switching Protocols} response picks one of the
 * offered protocols, and the connection carries that protocol's bytes from then on. Which protocols may be
 * requested is the listener's {@code http.upgrades} (WebSocket by default): a request offering any other is refused
 * with 403 by {@link RequestGuardHandler}. HTTP/2 has no Upgrade (RFC 9113 §8.2.2). Pure functions.
 */
public final class Upgrades {
    private Upgrades() {
    }

    /**
     * The {@code Upgrade} value of an HTTP/1.1 request that asks to switch protocols, or null: a request whose
     * {@code Connection} does not name {@code upgrade} only carries a stray hop-by-hop field, which header hygiene
     * removes. One lookup on a request without {@code Upgrade}.
     */
    public static String requested(HttpRequest request) {
        HttpHeaders headers = request.headers();
        if (!headers.contains(HttpHeaderNames.UPGRADE) || !request.protocolVersion().equals(HttpVersion.HTTP_1_1)) {
            return null;
        }
        String upgrade = headers.get(HttpHeaderNames.UPGRADE);
        String connection = headers.get(HttpHeaderNames.CONNECTION);
        if (upgrade == null || upgrade.isBlank() || connection == null
                || !HeaderHygiene.containsToken(connection, "upgrade")) {
            return null;
        }
        return upgrade;
    }

    /**
     * The first protocol {@code upgrade} offers that is not in {@code allowed} (a protocol name, any version:
     * {@code websocket} allows {@code WebSocket} and {@code websocket/13}), or null when every one is allowed.
     */
    public static String refused(String upgrade, List<String> allowed) {
        for (String offered : upgrade.split(",")) {
            String protocol = offered.strip();
            if (protocol.isEmpty()) {
                continue;
            }
            if (!allowed.contains(name(protocol))) {
                return protocol;
            }
        }
        return null;
    }

    /**
     * Whether {@code chosen}, the {@code Upgrade} of a {@code 101} response, is one protocol that {@code offered}
     * (the request's {@code Upgrade}) lists (RFC 9110 §15.2.2: the server picks among the client's).
     */
    public static boolean isOffered(String chosen, String offered) {
        if (chosen == null || chosen.isBlank() || chosen.indexOf(',') >= 0) {
            return false;
        }
        for (String o : offered.split(",")) {
            if (o.strip().equalsIgnoreCase(chosen.strip())) {
                return true;
            }
        }
        return false;
    }

    /** The protocol name of an Upgrade token, lower case, without its version. */
    public static String name(String protocol) {
        int slash = protocol.indexOf('/');
        return (slash < 0 ? protocol : protocol.substring(0, slash)).strip().toLowerCase(Locale.ROOT);
    }
}
