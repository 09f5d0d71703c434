package dev.outrider.proxy.tracing;

import dev.outrider.proxy.accesslog.AccessLogEntry;

/** The span of one request at one hop; ended once, on the request's event loop. */
public interface HopSpan {
    /** The trace id (32 hex digits), for the access log. */
    String traceId();

    /**
     * Ends the span with what happened.
     *
     * @param status     the response status sent (0: none)
     * @param grpcStatus the response's gRPC status, or -1
     * @param upstream   {@code host:port} of the upstream that served it, or null
     * @param service    the service called (outbound), or null
     * @param peer       the caller's verified principal (inbound), or null
     * @param auth       what authentication, authorization and rate limiting decided (inbound), or null
     */
    void end(int status, int grpcStatus, String upstream, String service, String peer, AccessLogEntry.Auth auth);
}
