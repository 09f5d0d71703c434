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
 */
public record AccessLogEntry(long startEpochMillis, Direction direction, String protocol, String method,
                             String uri, int status, long durationNanos, long requestBytes,
                             long responseBytes, String upstream, String requestId, String service) {
    public AccessLogEntry {
        requireNonNull(direction, "direction");
    }
}
