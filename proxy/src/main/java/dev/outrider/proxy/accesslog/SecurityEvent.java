package dev.outrider.proxy.accesslog;

import dev.outrider.proxy.metrics.Direction;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Locale;

import static java.util.Objects.requireNonNull;

/**
 * One security decision that refused something (or would have, in dry run), as the security event stream
 * records it. Built on the event loop only when something is refused, written later by the stream's writer
 * thread ({@link SecurityEvents}).
 *
 * <p>Invariant: an event carries no header value and no token: the caller is named by its verified identity and
 * address, the request by method, path (the writer cuts the query off) and authority, a JWT refusal by the
 * token's issuer and key id only; reasons are the fixed texts the access log gives.
 *
 * @param epochMillis   when it was decided (wall clock)
 * @param peer          the caller's SPIFFE ID (inbound) or the upstream's (outbound), when known; or null
 * @param remoteAddress the other end's {@code ip:port}, or null
 * @param service       the upstream service (outbound), or null
 * @param method        the request's method, or null for a connection-level event
 * @param uri           the request target (the writer writes its path without the query), or null
 * @param authority     the request's Host/:authority, or null
 * @param policy        the deciding policy ({@code namespace/name}), or null (a default decision, a TLS event)
 * @param rule          the deciding rule (index or name) within {@code policy}, or null
 * @param reason        why, in the access log's words ({@code token expired}, {@code deny policy shop/x rule 0})
 * @param requestId     the request id (x-request-id), or null
 * @param jwtIssuer     a refused token's {@code iss}, or null
 * @param jwtKeyId      a refused token's {@code kid}, or null
 */
public record SecurityEvent(long epochMillis, Type type, Direction direction, String peer, String remoteAddress,
                            String service, String method, String uri, String authority, String policy,
                            String rule, String reason, String requestId, String jwtIssuer, String jwtKeyId)
        implements SecurityEventJson.Line {
    public SecurityEvent {
        requireNonNull(type, "type");
        requireNonNull(direction, "direction");
    }

    /** A refusal of a connection (no request): TLS handshakes, identity checks, per-identity connection limits. */
    public static SecurityEvent connection(Type type, Direction direction, String peer, SocketAddress remote,
                                           String service, String reason) {
        return new SecurityEvent(System.currentTimeMillis(), type, direction, peer, address(remote), service,
                null, null, null, null, null, reason, null, null, null);
    }

    /** {@code ip:port} of an IP socket address, else its text; null for null. */
    public static String address(SocketAddress remote) {
        if (remote instanceof InetSocketAddress a) {
            String host = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
            return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
        }
        return remote == null ? null : remote.toString();
    }

    /** What was refused: the {@code event} field of the line. */
    public enum Type {
        /** 401: the request's JWT was refused. */
        AUTHN_REFUSED,
        /** 403: authorization denied the request. */
        AUTHZ_DENIED,
        /** A dry-run authorization policy would have denied a request that went on. */
        AUTHZ_DENIED_DRY_RUN,
        /** 429 (or 503 for a concurrency limit): a rate-limit rule refused the request. */
        RATE_LIMITED,
        /** A dry-run rate-limit rule would have refused a request that went on. */
        RATE_LIMITED_DRY_RUN,
        /** 503: no usable policy snapshot, so the request was refused (fail closed). */
        POLICY_UNAVAILABLE,
        /** A TLS handshake failed: no or untrusted client certificate, expired, wrong trust domain, protocol. */
        TLS_HANDSHAKE_REFUSED,
        /** An upstream proved an identity that is not one its service may have: the connection was closed. */
        UPSTREAM_IDENTITY_MISMATCH,
        /** A verified caller was over its per-identity connection limit: the connection was closed. */
        CONNECTION_REFUSED;

        private final String tag = name().toLowerCase(Locale.ROOT);

        public String tag() {
            return tag;
        }
    }
}
