package dev.outrider.proxy.metrics;

/**
 * Why a downstream connection was closed as soon as it arrived; the value of the {@code reason} tag of
 * {@code outrider_connections_refused_total}. Never the caller's identity (unbounded cardinality).
 */
public enum ConnectionRefusal {
    /** The listener had its maximum of open connections: closed when accepted, before any TLS work. */
    LISTENER_LIMIT("listener_limit"),
    /** The caller's identity had its maximum of open connections: closed right after the handshake. */
    PEER_LIMIT("peer_limit");

    private final String tag;

    ConnectionRefusal(String tag) {
        this.tag = tag;
    }

    public String tag() {
        return tag;
    }
}
