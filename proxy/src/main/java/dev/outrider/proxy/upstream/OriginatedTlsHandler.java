package dev.outrider.proxy.upstream;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.concurrent.Promise;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pipeline position: right after the {@link SslHandler} of a new connection to an external server, until the
 * handshake is done. The SSL engine has verified the chain (the entry's CA bundle or the default trust store) and
 * the name (endpoint identification HTTPS on the SNI host); a failure is counted by reason, logged, and fails the
 * request; the connection is closed before any request byte is sent. On success the connection joins the pool as
 * HTTP/1.1 (no ALPN is offered to external servers).
 */
final class OriginatedTlsHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(OriginatedTlsHandler.class);

    private final UpstreamPool pool;
    private final Endpoint endpoint;
    private final OriginatedTls tls;
    private final Promise<UpstreamStream> promise;
    /** Event loop only. */
    private boolean done;

    OriginatedTlsHandler(UpstreamPool pool, Endpoint endpoint, OriginatedTls tls, Promise<UpstreamStream> promise) {
        this.pool = pool;
        this.endpoint = endpoint;
        this.tls = tls;
        this.promise = promise;
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
        done = true;
        ctx.pipeline().remove(this);
        pool.adoptHttp1(endpoint, ctx.channel(), promise);
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
        OriginatedTlsException.Reason reason = OriginatedTlsException.Reason.of(cause);
        tls.failures().accept(reason);
        OriginatedTlsException failure = new OriginatedTlsException(tls, reason, cause);
        log.warn("{} (endpoint {}): {}", failure.getMessage(), endpoint, cause.getMessage());
        promise.tryFailure(failure);
        ctx.close();
    }
}
