package dev.outrider.proxy.metrics;

/**
 * Why a downstream connection was closed as soon as it arrived (over a limit, or not what the port's mTLS mode
 * accepts); the value of the {@code reason} tag of
 * {@code outrider_connections_refused_total}. Never the caller's identity (unbounded cardinality).
 */
public enum ConnectionRefusal {
    /** The listener had its maximum of open connections: closed when accepted, before any TLS work. */
    LISTENER_LIMIT("listener_limit"),
    /** The caller's identity had its maximum of open connections: closed right after the handshake. */
    PEER_LIMIT("peer_limit"),
    /**
     * Plaintext on an inbound port whose PeerAuthentication mode is STRICT: the first bytes were not a TLS record;
     * closed before any HTTP is read.
     */
    MTLS_REQUIRED("mtls_required"),
    /** A TLS handshake on an inbound port whose PeerAuthentication mode is DISABLE: closed before any TLS work. */
    PLAINTEXT_REQUIRED("plaintext_required");

    private final String tag;

    ConnectionRefusal(String tag) {
        this.tag = tag;
    }

    public String tag() {
        return tag;
    }
}
