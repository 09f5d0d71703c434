package dev.outrider.proxy.accesslog;

/**
 * Where the handler that writes a forwarded request's access-log entry finds what authentication,
 * authorization and rate limiting decided for it: the inbound request state ({@code inbound.InboundRequest},
 * one per request channel), which the inbound checks fill in as they decide. Read on the request channel's
 * event loop when the exchange ends. The outbound side has no checks: {@link #NONE}.
 */
@FunctionalInterface
public interface AuthSource {
    /** No inbound checks ran (the outbound listener). */
    AuthSource NONE = () -> null;

    /** The current request's outcome, or null when no check recorded one. */
    AccessLogEntry.Auth auth();

    /**
     * The caller's principal from its verified certificate (Istio's form, {@code td/ns/N/sa/S}), or null: for the
     * request metrics by source ({@code metrics.MeshMetrics}); allocates nothing.
     */
    default String peerPrincipal() {
        return null;
    }
}
