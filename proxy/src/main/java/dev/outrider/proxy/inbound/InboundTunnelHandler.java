package dev.outrider.proxy.inbound;

import dev.outrider.proxy.accesslog.AccessLogEntry;
import dev.outrider.proxy.accesslog.SecurityEvent;
import dev.outrider.proxy.authz.AuthorizationEngine;
import dev.outrider.proxy.authz.ConnectionAttributes;
import dev.outrider.proxy.authz.Decision;
import dev.outrider.proxy.http.DownstreamHttp;
import dev.outrider.proxy.http.IdleTimeoutHandler;
import dev.outrider.proxy.http.LocalRejection;
import dev.outrider.proxy.http.LocalResponses;
import dev.outrider.proxy.http.TunnelRequests;
import dev.outrider.proxy.metrics.Direction;
import dev.outrider.proxy.metrics.TcpMetrics;
import dev.outrider.proxy.metrics.TcpRefusal;
import dev.outrider.proxy.policy.PolicySnapshot;
import dev.outrider.proxy.ratelimit.SourceLimits;
import dev.outrider.proxy.tunnel.ByteRelay;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.List;

/**
 * Pipeline position: per inbound request channel, first of the request handlers (after the request guard and
 * header hygiene, before path normalization, authentication and everything that would treat a {@code CONNECT}
 * as a request for the application). Every other request passes through untouched.
 *
 * <p>A {@code CONNECT <host>:<port>} on an HTTP/1.1 connection opens a TCP tunnel to the application's
 * {@code port}, which must be one of {@code inbound.tcp.ports}: the listener is never an open proxy (the host
 * part is not used: the tunnel always ends at the local application). In order, on the policy snapshot read
 * once: the port is declared (else 403), the sidecar has policies it can trust (else 503), authorization with
 * Istio's TCP semantics allows the caller on that port ({@link AuthorizationEngine#authorizeTcp}, else 403),
 * the caller is within its connection rate and open connections ({@link SourceLimits}, else 429); then the
 * connection to the application is made, and only when it is up is {@code 200} sent, so a closed application
 * port is a 503 the caller's sidecar sees. Then the HTTP handlers leave the pipeline and a {@link ByteRelay}
 * joins the two connections:
 * <pre>
 *  caller sidecar ══mTLS══▶ [tls][idle][http1][...][tunnel][...]      ──200──▶ [tls][idle][relay] ◀──▶ app:port
 *                                                              (after the 200: HTTP handlers removed)
 * </pre>
 * A {@code CONNECT} on HTTP/2 is refused (400): tunnels are HTTP/1.1, one connection each. Every refusal is
 * counted ({@code outrider_tcp_connections_refused_total}) and closes the connection.
 *
 * <p>Threading: one instance per connection; its event loop only. The caller sends no byte after its
 * {@code CONNECT} before the {@code 200}, so the codec holds nothing when it is removed (anything it did hold
 * would be passed on to the relay).
 */
final class InboundTunnelHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(InboundTunnelHandler.class);

    private static final LocalRejection UNDECLARED = new LocalRejection(HttpResponseStatus.FORBIDDEN,
            "forbidden: the port is not one of the workload's TCP ports");
    private static final LocalRejection DENIED = new LocalRejection(HttpResponseStatus.FORBIDDEN,
            AuthzHandler.DENIED);
    private static final LocalRejection BAD_TARGET = new LocalRejection(HttpResponseStatus.BAD_REQUEST,
            "bad CONNECT: expected CONNECT host:port over HTTP/1.1");
    private static final LocalRejection UNAVAILABLE = new LocalRejection(HttpResponseStatus.SERVICE_UNAVAILABLE,
            "policy unavailable");
    private static final LocalRejection RATE = new LocalRejection(HttpResponseStatus.TOO_MANY_REQUESTS,
            "too many connections: the caller opens TCP connections too fast");
    private static final LocalRejection LIMIT = new LocalRejection(HttpResponseStatus.TOO_MANY_REQUESTS,
            "too many connections: the caller has its maximum of TCP connections open");
    private static final LocalRejection APP_DOWN = new LocalRejection(HttpResponseStatus.SERVICE_UNAVAILABLE,
            "the application's port refused the connection");

    private final InboundPolicy policy;
    private final InboundTunnels tunnels;
    /** A CONNECT was taken: its (empty) body and anything after it is dropped here. Event loop only. */
    private boolean connecting;

    InboundTunnelHandler(InboundPolicy policy, InboundTunnels tunnels) {
        this.policy = policy;
        this.tunnels = tunnels;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (connecting) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (!(msg instanceof HttpRequest request) || !HttpMethod.CONNECT.equals(request.method())) {
            ctx.fireChannelRead(msg);
            return;
        }
        connecting = true;
        String target = request.uri();
        ReferenceCountUtil.release(msg);
        int port = TunnelRequests.connectPort(target);
        if (port < 0 || ctx.channel() instanceof Http2StreamChannel) {
            refuse(ctx, tunnels.metrics().port(Direction.INBOUND, -1), TcpRefusal.BAD_REQUEST, BAD_TARGET);
            return;
        }
        TcpMetrics.Port meters = tunnels.metrics().port(Direction.INBOUND, port);
        if (!tunnels.ports().declares(port)) {
            refuse(ctx, meters, TcpRefusal.UNDECLARED_PORT, UNDECLARED);
            return;
        }
        PolicySnapshot snapshot = policy.store().current();
        if (snapshot.refusal() != null) {
            refuse(ctx, meters, TcpRefusal.NOT_READY, UNAVAILABLE);
            return;
        }
        InboundPeer peer = InboundPeer.of(ctx.channel());
        ConnectionAttributes attributes = new ConnectionAttributes(peer.principal(), peer.namespace(), peer.ip(),
                peer.address(), port);
        Decision decision = AuthorizationEngine.authorizeTcp(snapshot.authorization(), attributes);
        snapshot.meters().count(decision);
        if (!decision.allowed()) {
            securityEvent(ctx, SecurityEvent.Type.AUTHZ_DENIED, peer, target, decision, decision.reason());
            log(ctx, target, peer, decision, HttpResponseStatus.FORBIDDEN.code(), System.nanoTime(), 0, 0);
            refuse(ctx, meters, TcpRefusal.AUTHZ, DENIED);
            return;
        }
        Decision shadow = decision.shadow();
        if (shadow != null && !shadow.allowed()) {
            securityEvent(ctx, SecurityEvent.Type.AUTHZ_DENIED_DRY_RUN, peer, target, shadow, shadow.reason());
        }
        SourceLimits.Admission admission = tunnels.limits().admit(peer.principal());
        if (!admission.admitted()) {
            boolean rate = admission.refusal() == SourceLimits.Refusal.SOURCE_RATE;
            securityEvent(ctx, SecurityEvent.Type.RATE_LIMITED, peer, target, null,
                    rate ? "tcp connectionsPerSecond" : "tcp maxConnectionsPerSource");
            refuse(ctx, meters, rate ? TcpRefusal.SOURCE_RATE : TcpRefusal.SOURCE_LIMIT, rate ? RATE : LIMIT);
            return;
        }
        SourceLimits.Permit permit = admission.permit();
        ctx.channel().closeFuture().addListener(f -> permit.release());
        connect(ctx, target, port, meters, peer, decision);
    }

    /** Connects to the application's port on this event loop; answers 200 and joins, or 503. */
    private void connect(ChannelHandlerContext ctx, String target, int port, TcpMetrics.Port meters,
                         InboundPeer peer, Decision decision) {
        long start = System.nanoTime();
        Channel downstream = ctx.channel();
        ChannelFuture connect = tunnels.pools().of(downstream.eventLoop())
                .connectPlain(new InetSocketAddress(tunnels.application(), port));
        connect.addListener((ChannelFuture f) -> {
            if (!f.isSuccess()) {
                log.debug("tunnel to application port {} failed: {}", port, f.cause().toString());
                log(ctx, target, peer, decision, HttpResponseStatus.SERVICE_UNAVAILABLE.code(), start, 0, 0);
                refuse(ctx, meters, TcpRefusal.CONNECT_FAILED, APP_DOWN);
                return;
            }
            Channel app = f.channel();
            if (!downstream.isActive()) {
                app.close();
                return;
            }
            app.pipeline().addLast("idle", new IdleTimeoutHandler(tunnels.idleTimeoutNanos()));
            meters.opened();
            ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));
            // The 200 went through the codec; the HTTP handlers go, the codec last (what it holds goes on).
            ByteRelay.join(downstream, DownstreamHttp.http1Handlers(downstream.pipeline()), app, List.of(),
                    (fromCaller, fromApp) -> {
                        meters.closed(fromCaller, fromApp);
                        log(ctx, target, peer, decision, HttpResponseStatus.OK.code(), start, fromCaller, fromApp);
                    });
        });
    }

    private static void refuse(ChannelHandlerContext ctx, TcpMetrics.Port meters, TcpRefusal reason,
                               LocalRejection rejection) {
        meters.refused(reason);
        LocalResponses.respondAndClose(ctx, rejection);
    }

    private void securityEvent(ChannelHandlerContext ctx, SecurityEvent.Type type, InboundPeer peer, String target,
                               Decision decision, String reason) {
        if (policy.securityEvents().admit()) {
            policy.securityEvents().emit(new SecurityEvent(System.currentTimeMillis(), type, Direction.INBOUND,
                    peer.principal(), SecurityEvent.address(ctx.channel().remoteAddress()), null, "CONNECT", target,
                    target, decision == null ? null : decision.policy(),
                    decision == null || decision.rule() < 0 ? null : Integer.toString(decision.rule()), reason,
                    null, null, null));
        }
    }

    /** One access-log line per tunnel (or refused CONNECT): protocol {@code TCP}, bytes each way. */
    private void log(ChannelHandlerContext ctx, String target, InboundPeer peer, Decision decision, int status,
                     long startNanos, long received, long sent) {
        if (!policy.accessLog().enabled()) {
            return;
        }
        long duration = System.nanoTime() - startNanos;
        policy.accessLog().log(new AccessLogEntry(System.currentTimeMillis() - duration / 1_000_000,
                Direction.INBOUND, "TCP", "CONNECT", target, status, duration, received, sent,
                tunnels.application().getHostAddress() + ":" + TunnelRequests.connectPort(target), null, null,
                new AccessLogEntry.Auth(peer.principal(), null, decision.reason(), null,
                        decision.shadow() == null ? null : decision.shadow().reason())));
    }
}
