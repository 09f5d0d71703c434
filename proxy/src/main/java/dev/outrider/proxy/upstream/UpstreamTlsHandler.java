package dev.outrider.proxy.upstream;

import dev.outrider.proxy.accesslog.SecurityEvent;
import dev.outrider.proxy.metrics.Direction;
import dev.outrider.proxy.tls.HandshakeFailure;
import dev.outrider.proxy.tls.PeerCertificateException;
import dev.outrider.proxy.tls.PeerIdentity;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.concurrent.Promise;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.cert.X509Certificate;

/**
 * Pipeline position: right after the {@link SslHandler} of a new upstream mTLS connection, until the
 * handshake is done. The upstream must prove one of the service's expected identities; otherwise the
 * connection is closed before any request bytes are sent, the failure is counted, logged and recorded as a
 * security event, and the request fails (it never falls back to plaintext). Then ALPN decides: HTTP/2 or
 * HTTP/1.1 handlers replace this one; or, for a TCP tunnel, its {@code CONNECT} handler does.
 */
final class UpstreamTlsHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(UpstreamTlsHandler.class);

    /** What takes a verified connection over: the pool's HTTP/1.1 or HTTP/2 side, or a TCP tunnel. */
    @FunctionalInterface
    interface Adopter {
        /** @param http2 ALPN chose h2 */
        void adopt(io.netty.channel.Channel ch, boolean http2);
    }

    private final Endpoint endpoint;
    private final UpstreamTls tls;
    private final Promise<?> promise;
    private final Adopter adopter;
    /** Event loop only. */
    private boolean done;

    /** @param promise failed with the reason when the handshake or the identity check fails */
    UpstreamTlsHandler(Endpoint endpoint, UpstreamTls tls, Promise<?> promise, Adopter adopter) {
        this.endpoint = endpoint;
        this.tls = tls;
        this.promise = promise;
        this.adopter = adopter;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (!(evt instanceof SslHandshakeCompletionEvent completion)) {
            ctx.fireUserEventTriggered(evt);
            return;
        }
        if (!completion.isSuccess()) {
            fail(ctx, completion.cause());
            return;
        }
        SslHandler ssl = ctx.pipeline().get(SslHandler.class);
        PeerIdentity peer;
        try {
            X509Certificate leaf = (X509Certificate) ssl.engine().getSession().getPeerCertificates()[0];
            peer = PeerIdentity.from(leaf, tls.state().identity().trustDomain());
        } catch (PeerCertificateException | javax.net.ssl.SSLPeerUnverifiedException e) {
            fail(ctx, e);
            return;
        }
        if (!tls.identities().contains(peer.id())) {
            done = true;
            tls.state().metrics().handshakeFailed(Direction.OUTBOUND, HandshakeFailure.IDENTITY_MISMATCH);
            UpstreamIdentityException mismatch = new UpstreamIdentityException(tls.service(), peer.id(),
                    tls.identities());
            log.warn("{} (endpoint {}); connection refused", mismatch.getMessage(), endpoint);
            if (tls.state().securityEvents().admit()) {
                tls.state().securityEvents().emit(SecurityEvent.connection(
                        SecurityEvent.Type.UPSTREAM_IDENTITY_MISMATCH, Direction.OUTBOUND, peer.id().toString(),
                        ctx.channel().remoteAddress(), tls.service(), mismatch.getMessage()));
            }
            promise.tryFailure(mismatch);
            ctx.close();
            return;
        }
        done = true;
        tls.state().metrics().handshakeSucceeded(Direction.OUTBOUND);
        ctx.channel().attr(PeerIdentity.KEY).set(peer);
        ctx.pipeline().remove(this);
        adopter.adopt(ctx.channel(), ApplicationProtocolNames.HTTP_2.equals(ssl.applicationProtocol()));
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        fail(ctx, cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (!done) {
            fail(ctx, new javax.net.ssl.SSLHandshakeException("connection closed during the TLS handshake"));
        }
        ctx.fireChannelInactive();
    }

    private void fail(ChannelHandlerContext ctx, Throwable cause) {
        if (done) {
            return;
        }
        done = true;
        HandshakeFailure reason = HandshakeFailure.of(cause);
        tls.state().metrics().handshakeFailed(Direction.OUTBOUND, reason);
        if (tls.state().securityEvents().admit()) {
            tls.state().securityEvents().emit(SecurityEvent.connection(SecurityEvent.Type.TLS_HANDSHAKE_REFUSED,
                    Direction.OUTBOUND, null, ctx.channel().remoteAddress(), tls.service(), reason.tag()));
        }
        promise.tryFailure(new UpstreamTlsException(tls.service(), reason, cause));
        ctx.close();
    }
}
