package dev.outrider.proxy.forward;

import dev.outrider.proxy.accesslog.AccessLog;
import dev.outrider.proxy.config.Protocol;
import dev.outrider.proxy.config.UpstreamConfig;
import dev.outrider.proxy.metrics.Direction;
import dev.outrider.proxy.metrics.ProxyMetrics;
import dev.outrider.proxy.runtime.DrainState;
import dev.outrider.proxy.tracing.Tracing;
import dev.outrider.proxy.upstream.UpstreamPools;

import static java.util.Objects.requireNonNull;

/**
 * Everything a {@link ForwardingHandler} needs, shared by all connections of one listener direction.
 *
 * @param forwardedProto value of X-Forwarded-Proto when the caller did not set one
 */
public record ForwardingContext(Direction direction, RouteResolver router, UpstreamPools pools,
                                UpstreamConfig upstream, ProxyMetrics metrics, AccessLog accessLog,
                                DrainState drain, String forwardedProto, Tracing tracing) {
    /** Without tracing. */
    public ForwardingContext(Direction direction, RouteResolver router, UpstreamPools pools, UpstreamConfig upstream,
                             ProxyMetrics metrics, AccessLog accessLog, DrainState drain, String forwardedProto) {
        this(direction, router, pools, upstream, metrics, accessLog, drain, forwardedProto, Tracing.OFF);
    }

    public ForwardingContext {
        requireNonNull(tracing, "tracing");
        requireNonNull(direction, "direction");
        requireNonNull(router, "router");
        requireNonNull(pools, "pools");
        requireNonNull(upstream, "upstream");
        requireNonNull(metrics, "metrics");
        requireNonNull(accessLog, "accessLog");
        requireNonNull(drain, "drain");
        requireNonNull(forwardedProto, "forwardedProto");
    }

    /** Whether to speak HTTP/2 to a cluster with {@code protocol}, given the caller's protocol. */
    static boolean useHttp2(Protocol protocol, boolean downstreamHttp2) {
        return switch (protocol) {
            case HTTP1 -> false;
            case H2C -> true;
            case AUTO -> downstreamHttp2;
        };
    }
}
