package dev.outrider.proxy.metrics;

/**
 * Why a TCP connection through a sidecar was refused; the {@code reason} tag of
 * {@code outrider_tcp_connections_refused_total}.
 */
public enum TcpRefusal {
    /** Inbound: a {@code CONNECT} for a port that {@code inbound.tcp.ports} does not declare. */
    UNDECLARED_PORT("undeclared_port"),
    /** Inbound: a {@code CONNECT} that is not one (bad target, sent over HTTP/2). */
    BAD_REQUEST("bad_request"),
    /** Inbound: no policy snapshot can be trusted yet (fail closed). */
    NOT_READY("not_ready"),
    /** Inbound: the authorization policies do not allow the caller on this port. */
    AUTHZ("authz"),
    /** Inbound: the caller opened connections faster than {@code inbound.tcp.connectionsPerSecond}. */
    SOURCE_RATE("source_rate"),
    /** Inbound: the caller has {@code inbound.tcp.maxConnectionsPerSource} open. */
    SOURCE_LIMIT("source_limit"),
    /** Inbound: the application refused the connection; outbound: no upstream sidecar could be reached. */
    CONNECT_FAILED("connect_failed"),
    /** Outbound: the service has no endpoints. */
    NO_ROUTE("no_route"),
    /** Outbound: the upstream sidecar answered the {@code CONNECT} with a refusal (403, 429, 503). */
    UPSTREAM_REFUSED("upstream_refused");

    private final String tag;

    TcpRefusal(String tag) {
        this.tag = tag;
    }

    public String tag() {
        return tag;
    }
}
