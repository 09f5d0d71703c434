package dev.outrider.proxy.outbound;

import dev.outrider.proxy.accesslog.AccessLog;
import dev.outrider.proxy.config.UpstreamPortConfig;
import dev.outrider.proxy.http.DownstreamConnections;
import dev.outrider.proxy.http.IdleTimeoutHandler;
import dev.outrider.proxy.metrics.Direction;
import dev.outrider.proxy.metrics.TcpMetrics;
import dev.outrider.proxy.upstream.UpstreamPools;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;

import static java.util.Objects.requireNonNull;

/**
 * The pipeline of a TCP upstream port ({@code outbound.upstreams[]} with {@code protocol: tcp}): plaintext bytes
 * from the local application, carried to one of the service's sidecars in mTLS.
 * <pre>
 * connection: admit (outbound.maxConnections) → tracker (drain waits for the tunnel) → idle (http.idleTimeout)
 *             → TCP tunnel: route to the service, P2C endpoint, mTLS (upstream identity checked), CONNECT,
 *               then a ByteRelay between the two connections
 * </pre>
 */
public final class TcpOutboundInitializer extends ChannelInitializer<Channel> {
    private final DownstreamConnections connections;
    private final UpstreamPortConfig port;
    private final OutboundRoutes routes;
    private final UpstreamPools pools;
    private final TcpMetrics.Port meters;
    private final AccessLog accessLog;
    private final long idleTimeoutNanos;

    public TcpOutboundInitializer(DownstreamConnections connections, UpstreamPortConfig port, OutboundRoutes routes,
                                  UpstreamPools pools, TcpMetrics metrics, AccessLog accessLog,
                                  long idleTimeoutNanos) {
        this.connections = requireNonNull(connections, "connections");
        this.port = requireNonNull(port, "port");
        if (!port.tcp()) {
            throw new IllegalArgumentException("not a TCP upstream port: " + port);
        }
        this.routes = requireNonNull(routes, "routes");
        this.pools = requireNonNull(pools, "pools");
        this.meters = metrics.port(Direction.OUTBOUND, port.targetPort());
        this.accessLog = requireNonNull(accessLog, "accessLog");
        this.idleTimeoutNanos = idleTimeoutNanos;
    }

    @Override
    protected void initChannel(Channel ch) {
        if (!connections.admit(ch)) {
            return; // over outbound.maxConnections: closed
        }
        // A FIN from the application before its tunnel is up is remembered and passed on after.
        ch.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
        ChannelPipeline p = ch.pipeline();
        p.addLast("tracker", connections.tracker());
        p.addLast("idle", new IdleTimeoutHandler(idleTimeoutNanos));
        p.addLast("tcp", new TcpOutboundHandler(port, routes, pools, meters, accessLog));
    }
}
