package dev.outrider.proxy.accesslog;

import dev.outrider.proxy.metrics.Direction;

import static java.util.Objects.requireNonNull;

/**
 * One finished request, as the access log records it. Built on the event loop when the response ends,
 * written later by the access log's own thread.
 *
 * <p>Invariant: an entry carries no header at all (so no Authorization, cookie or token can reach the log),
 * and {@link #uri} is only ever written after {@link dev.outrider.proxy.http.PathNormalizer} has cut its
 * query off.
 *
 * @param startEpochMillis when the request's first byte arrived (wall clock)
 * @param protocol         {@code HTTP/1.1}, {@code HTTP/2}, ...
 * @param uri              the raw request target as received (the log writes its normalized path only)
 * @param status           the response status sent to the client
 * @param upstream         {@code host:port} of the upstream that served it, or null
 * @param requestId        the request id (x-request-id), or null
 * @param service          the target service, or null
 * @param auth             who called and what authentication and authorization decided (inbound, from the
 *                         request state, {@link AuthSource}), or null
 * @param traceId          the request's trace id (32 hex digits) when tracing is on, or null
 */
public record AccessLogEntry(long startEpochMillis, Direction direction, String protocol, String method,
                             String uri, int status, long durationNanos, long requestBytes,
                             long responseBytes, String upstream, String requestId, String service, Auth auth,
                             String traceId) {
    public AccessLogEntry {
        requireNonNull(direction, "direction");
    }

    public AccessLogEntry(long startEpochMillis, Direction direction, String protocol, String method, String uri,
                          int status, long durationNanos, long requestBytes, long responseBytes, String upstream,
                          String requestId, String service, Auth auth) {
        this(startEpochMillis, direction, protocol, method, uri, status, durationNanos, requestBytes, responseBytes,
                upstream, requestId, service, auth, null);
    }

    public AccessLogEntry(long startEpochMillis, Direction direction, String protocol, String method, String uri,
                          int status, long durationNanos, long requestBytes, long responseBytes, String upstream,
                          String requestId, String service) {
        this(startEpochMillis, direction, protocol, method, uri, status, durationNanos, requestBytes, responseBytes,
                upstream, requestId, service, null);
    }

    /**
     * The audit part of an inbound entry. Fixed texts only: no token, claim or header value.
     *
     * @param peer   the caller's workload identity (principal form, {@code cluster.local/ns/shop/sa/frontend})
     * @param authn  why the JWT was refused ({@code token expired}), or null
     * @param authz  the decision's reason ({@code allow policy shop/x rule 0}, {@code default deny: no policy}),
     *               or null when authorization did not run
     * @param audit  the AUDIT policy and rule that marked the request, or null
     * @param dryRun    the decision with dry-run policies enforced, when they apply; or null
     * @param rateLimit the rate-limit rule that refused the request, or would have in dry run; or null
     */
    public record Auth(String peer, String authn, String authz, String audit, String dryRun, String rateLimit) {
        public Auth(String peer, String authn, String authz, String audit, String dryRun) {
            this(peer, authn, authz, audit, dryRun, null);
        }
    }
}
