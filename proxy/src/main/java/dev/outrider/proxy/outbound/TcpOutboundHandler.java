package dev.outrider.proxy.outbound;

import dev.outrider.proxy.accesslog.AccessLog;
import dev.outrider.proxy.accesslog.AccessLogEntry;
import dev.outrider.proxy.config.UpstreamPortConfig;
import dev.outrider.proxy.forward.Route;
import dev.outrider.proxy.http.TunnelRequests;
import dev.outrider.proxy.metrics.Direction;
import dev.outrider.proxy.metrics.TcpMetrics;
import dev.outrider.proxy.metrics.TcpRefusal;
import dev.outrider.proxy.tunnel.ByteRelay;
import dev.outrider.proxy.upstream.Cluster;
import dev.outrider.proxy.upstream.Endpoint;
import dev.outrider.proxy.upstream.LoadBalancer;
import dev.outrider.proxy.upstream.UpstreamPools;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;

/**
 * Pipeline position: last handler of a connection on a TCP upstream port, until its tunnel is up. When the
 * application connects: the route to the port's service (none: closed), an endpoint by P2C least-request, a new
 * mTLS connection to its sidecar on this event loop ({@code UpstreamPool#connectTunnel}: the upstream's SPIFFE
 * identity is checked against the service's, as for requests; a refused connect tries the next endpoint), then
 * {@code CONNECT <service>:<targetPort>} ({@link TunnelRequests}). On {@code 200} the two connections are joined by a
 * {@link ByteRelay}; on anything else, or when no sidecar can be reached, the application's connection is closed
 * (its client sees the close) and the refusal counted.
 * <pre>
 *  app ──bytes──▶ [tracker][idle][tcp]  (held until the 200: at most what one read brought)
 *                                 └─▶ sidecar ══mTLS══ [tls][codec][connect] ──CONNECT──▶ ◀──200──
 *  after the 200:   app [tracker][idle][relay] ◀──────────▶ [tls][relay] upstream sidecar
 * </pre>
 * Until the tunnel is up nothing more is read from the application (auto-read is off), so what is held is
 * bounded; a FIN it sent meanwhile is passed on once the tunnel is up.
 *
 * <p>Threading: one instance per connection; its event loop only (the upstream connection shares it).
 */
final class TcpOutboundHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(TcpOutboundHandler.class);

    private final UpstreamPortConfig port;
    private final OutboundRoutes routes;
    private final UpstreamPools pools;
    private final TcpMetrics.Port meters;
    private final AccessLog accessLog;
    /** Bytes the application sent before the tunnel was up. */
    private final ArrayDeque<ByteBuf> held = new ArrayDeque<>(2);
    private long heldBytes;
    private boolean inputShut;
    private Channel upstream;
    private long tried;
    private long startNanos;
    private boolean over;

    TcpOutboundHandler(UpstreamPortConfig port, OutboundRoutes routes, UpstreamPools pools, TcpMetrics.Port meters,
                       AccessLog accessLog) {
        this.port = port;
        this.routes = routes;
        this.pools = pools;
        this.meters = meters;
        this.accessLog = accessLog;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.fireChannelActive();
        startNanos = System.nanoTime();
        Route route = routes.current().route(port.service());
        if (route == null) {
            log.debug("TCP port {}: no endpoints for {}; connection closed", port.port(), port.service());
            refuse(ctx, TcpRefusal.NO_ROUTE, 0);
            return;
        }
        connect(ctx, route.cluster());
    }

    private void connect(ChannelHandlerContext ctx, Cluster cluster) {
        int i = LoadBalancer.pick(cluster.endpoints(), tried);
        if (i < 0) {
            refuse(ctx, TcpRefusal.CONNECT_FAILED, 0);
            return;
        }
        tried = LoadBalancer.markTried(tried, i);
        Endpoint endpoint = cluster.endpoints().get(i);
        Future<Channel> connecting = pools.of(ctx.channel().eventLoop()).connectTunnel(endpoint, cluster.tls());
        connecting.addListener(f -> {
            if (!f.isSuccess()) {
                log.debug("TCP port {}: tunnel to {} ({}) failed: {}", port.port(), cluster, endpoint,
                        f.cause().toString());
                if (ctx.channel().isActive()) {
                    connect(ctx, cluster); // the next endpoint, until every one was tried
                }
                return;
            }
            Channel ch = connecting.getNow();
            if (!ctx.channel().isActive() || over) {
                ch.close();
                return;
            }
            upstream = ch;
            ch.pipeline().addLast("codec", new HttpClientCodec(new HttpDecoderConfig()
                    .setMaxInitialLineLength(8192).setMaxHeaderSize(16384), false, false));
            ch.pipeline().addLast("connect", new ConnectResponse(ctx, endpoint));
            ch.closeFuture().addListener(c -> {
                if (!over) {
                    refuse(ctx, TcpRefusal.UPSTREAM_REFUSED, 0); // closed before it answered
                }
            });
            ch.writeAndFlush(TunnelRequests.connectRequest(port.service().toString(), port.targetPort()));
            ch.read();
        });
    }

    /** The upstream sidecar said 200: joins the two connections, after what the application already sent. */
    private void tunnelUp(ChannelHandlerContext ctx, Endpoint endpoint) {
        over = true;
        Channel app = ctx.channel();
        meters.opened();
        long early = heldBytes;
        ctx.pipeline().remove(this);
        ByteRelay.join(app, upstream, (fromApp, fromUpstream) -> {
            meters.closed(early + fromApp, fromUpstream);
            log(200, early + fromApp, fromUpstream, endpoint.toString());
        });
        upstream.pipeline().remove("codec"); // bytes the codec still holds go on to the relay
        // Before anything the relay reads from the application (its reads come in later event-loop turns).
        for (ByteBuf b; (b = held.poll()) != null; ) {
            upstream.write(b, upstream.voidPromise());
        }
        upstream.flush();
        if (inputShut) {
            app.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        }
    }

    private void refuse(ChannelHandlerContext ctx, TcpRefusal reason, int status) {
        if (over) {
            return;
        }
        over = true;
        meters.refused(reason);
        log(status, heldBytes, 0, null);
        releaseHeld();
        if (upstream != null) {
            upstream.close();
        }
        ctx.close();
    }

    private void log(int status, long received, long sent, String upstreamAddress) {
        if (!accessLog.enabled()) {
            return;
        }
        long duration = System.nanoTime() - startNanos;
        accessLog.log(new AccessLogEntry(System.currentTimeMillis() - duration / 1_000_000, Direction.OUTBOUND,
                "TCP", "CONNECT", port.service() + ":" + port.targetPort(), status, duration, received, sent,
                upstreamAddress, null, port.service().toString()));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf bytes && !over) {
            heldBytes += bytes.readableBytes();
            held.add(bytes);
            return; // no read() until the tunnel is up
        }
        ReferenceCountUtil.release(msg);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            inputShut = true;
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        releaseHeld();
        if (!over) {
            over = true;
            if (upstream != null) {
                upstream.close();
            }
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("TCP port {}: {}", port.port(), cause.toString());
        ctx.close();
    }

    private void releaseHeld() {
        for (ByteBuf b; (b = held.poll()) != null; ) {
            b.release();
        }
    }

    /** On the upstream connection, after its codec: waits for the answer to the CONNECT. */
    private final class ConnectResponse extends ChannelInboundHandlerAdapter {
        private final ChannelHandlerContext app;
        private final Endpoint endpoint;

        ConnectResponse(ChannelHandlerContext app, Endpoint endpoint) {
            this.app = app;
            this.endpoint = endpoint;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof HttpResponse response) {
                int status = response.status().code();
                ReferenceCountUtil.release(msg);
                ctx.pipeline().remove(this);
                if (response.status().codeClass() == HttpStatusClass.SUCCESS) {
                    tunnelUp(app, endpoint);
                } else {
                    log.debug("TCP port {}: {} answered the CONNECT with {}", port.port(), endpoint, status);
                    refuse(app, TcpRefusal.UPSTREAM_REFUSED, status);
                }
                return;
            }
            ReferenceCountUtil.release(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (ctx.channel().isActive() && !over) {
                ctx.read(); // the response is not complete yet
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("TCP port {}: {}", port.port(), cause.toString());
            ctx.close();
        }
    }
}
