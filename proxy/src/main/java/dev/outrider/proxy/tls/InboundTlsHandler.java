package dev.outrider.proxy.tls;

import dev.outrider.proxy.accesslog.SecurityEvent;
import dev.outrider.proxy.http.DownstreamConnections;
import dev.outrider.proxy.http.DownstreamHttp;
import dev.outrider.proxy.metrics.ConnectionRefusal;
import dev.outrider.proxy.metrics.Direction;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLPeerUnverifiedException;
import java.security.cert.X509Certificate;

import static java.util.Objects.requireNonNull;

/**
 * Pipeline position: right after the inbound {@link SslHandler}. When the handshake succeeds it records
 * the caller's identity on the connection ({@link PeerIdentity}, the source principal for the request
 * handlers), counts the handshake, admits the connection for that identity (a caller over its connection
 * limit is closed here, counted by {@link DownstreamConnections}), and installs HTTP/2 or HTTP/1.1 as ALPN
 * decided; then it leaves the pipeline. A failed handshake is counted by reason, recorded as a security event
 * and the connection closed: nothing reaches the application. A caller that spoke plaintext (a STRICT port) is also
 * counted as refused for its mode ({@code outrider_connections_refused_total{reason="mtls_required"}}); its bytes,
 * which the TLS stack's exception quotes, are never logged.
 */
public final class InboundTlsHandler extends ApplicationProtocolNegotiationHandler {
    private static final Logger log = LoggerFactory.getLogger(InboundTlsHandler.class);

    /** The security event's reason for a connection over its identity's limit. */
    static final String PEER_LIMIT_REASON = "peer_limit: the identity has inbound.maxConnectionsPerPeer open";

    private final DownstreamHttp http;
    private final TlsState tls;
    private final DownstreamConnections connections;
    /** Failure is reported once, whichever of exception and completion event comes first. Event loop only. */
    private boolean failed;

    public InboundTlsHandler(DownstreamHttp http, TlsState tls, DownstreamConnections connections) {
        super(ApplicationProtocolNames.HTTP_1_1);
        this.http = requireNonNull(http, "http");
        this.tls = requireNonNull(tls, "tls");
        this.connections = requireNonNull(connections, "connections");
    }

    /**
     * The inbound TLS handler of a new connection: server context {@code context} (the current one of
     * {@code tls}), handshake timeout {@code tls.handshakeTimeout}.
     */
    public static SslHandler newServerHandler(TlsState tls, SslContext context, ByteBufAllocator alloc) {
        SslHandler ssl = context.newHandler(alloc);
        ssl.setHandshakeTimeoutMillis(tls.config().handshakeTimeout().toMillis());
        return ssl;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof SslHandshakeCompletionEvent done && done.isSuccess()) {
            PeerIdentity peer;
            try {
                SslHandler ssl = ctx.pipeline().get(SslHandler.class);
                X509Certificate leaf = (X509Certificate) ssl.engine().getSession().getPeerCertificates()[0];
                peer = PeerIdentity.from(leaf, tls.identity().trustDomain());
                ctx.channel().attr(PeerIdentity.KEY).set(peer);
            } catch (PeerCertificateException | SSLPeerUnverifiedException | RuntimeException e) {
                handshakeFailure(ctx, e);
                return;
            }
            tls.metrics().handshakeSucceeded(Direction.INBOUND);
            if (!connections.admitPeer(ctx.channel(), peer.id())) {
                log.debug("inbound connection from {} refused: its identity has inbound.maxConnectionsPerPeer open",
                        ctx.channel().remoteAddress());
                if (tls.securityEvents().admit()) {
                    tls.securityEvents().emit(SecurityEvent.connection(SecurityEvent.Type.CONNECTION_REFUSED,
                            Direction.INBOUND, peer.id().toString(), ctx.channel().remoteAddress(), null,
                            PEER_LIMIT_REASON));
                }
                return; // closed; no protocol is installed
            }
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
        if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
            http.addHttp2(ctx.pipeline());
        } else {
            http.addHttp1(ctx.pipeline());
        }
    }

    @Override
    protected void handshakeFailure(ChannelHandlerContext ctx, Throwable cause) {
        if (!failed) {
            failed = true;
            HandshakeFailure reason = HandshakeFailure.of(cause);
            tls.metrics().handshakeFailed(Direction.INBOUND, reason);
            if (tls.securityEvents().admit()) {
                tls.securityEvents().emit(SecurityEvent.connection(SecurityEvent.Type.TLS_HANDSHAKE_REFUSED,
                        Direction.INBOUND, null, ctx.channel().remoteAddress(), null, reason.tag()));
            }
            if (reason == HandshakeFailure.PLAINTEXT) {
                connections.refused(ConnectionRefusal.MTLS_REQUIRED);
                log.debug("inbound connection from {} refused: plaintext on a port that requires mTLS",
                        ctx.channel().remoteAddress()); // not the cause: it quotes the caller's bytes
            } else {
                log.debug("inbound TLS handshake from {} failed ({}): {}", ctx.channel().remoteAddress(),
                        reason.tag(), cause.toString());
            }
        }
        ctx.close();
    }
}
