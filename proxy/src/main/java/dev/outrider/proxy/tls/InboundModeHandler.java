package dev.outrider.proxy.tls;

import dev.outrider.core.policy.PeerAuthentication.Mode;
import dev.outrider.proxy.accesslog.SecurityEvent;
import dev.outrider.proxy.http.DownstreamConnections;
import dev.outrider.proxy.http.DownstreamHttp;
import dev.outrider.proxy.http.HttpProtocolDetector;
import dev.outrider.proxy.metrics.ConnectionRefusal;
import dev.outrider.proxy.metrics.Direction;
import dev.outrider.proxy.metrics.ProxyMetrics;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.OptionalSslHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * Pipeline position: where the inbound {@link SslHandler} would be, on a connection accepted while the port's
 * PeerAuthentication mode is {@link Mode#PERMISSIVE} or {@link Mode#DISABLE} (a STRICT port gets the
 * {@link SslHandler} directly and pays nothing for this). Netty's {@link OptionalSslHandler} reads the first
 * five bytes and tells a TLS record from anything else ({@link SslHandler#isEncrypted}):
 * <pre>
 *   TLS record ──PERMISSIVE──▶ "tls" SslHandler → "alpn" InboundTlsHandler (as on a STRICT port)
 *              ──DISABLE─────▶ closed, counted (connections_refused{reason="plaintext_required"})
 *   other ───────────────────▶ counted as a plaintext connection → "detect" HttpProtocolDetector (h1 or h2c
 *                              prior knowledge) → the plaintext requests' pipeline, which counts each request
 * </pre>
 * A plaintext connection carries no {@link PeerIdentity}: its requests have no principal and no namespace, so an
 * AuthorizationPolicy that requires either does not match them; JWT authentication applies as to any request.
 * One instance per connection; event loop only.
 */
public final class InboundModeHandler extends OptionalSslHandler {
    private static final Logger log = LoggerFactory.getLogger(InboundModeHandler.class);
    /** The security event's reason for a TLS handshake on a DISABLE port. */
    static final String PLAINTEXT_REQUIRED_REASON = "plaintext_required: the port's PeerAuthentication mode is DISABLE";
    /** {@link SslHandler#isEncrypted} needs a record header: content type, version, length. */
    private static final int TLS_RECORD_HEADER = 5;

    private final boolean acceptTls;
    private final TlsState tls;
    private final DownstreamHttp tlsHttp;
    private final DownstreamHttp plaintextHttp;
    private final DownstreamConnections connections;
    private final ProxyMetrics metrics;

    /**
     * @param mode          PERMISSIVE (TLS or plaintext) or DISABLE (plaintext only)
     * @param tlsHttp       the HTTP of mTLS connections (ALPN decides h2 or HTTP/1.1)
     * @param plaintextHttp the HTTP of plaintext connections
     */
    public InboundModeHandler(Mode mode, TlsState tls, DownstreamHttp tlsHttp, DownstreamHttp plaintextHttp,
                              DownstreamConnections connections, ProxyMetrics metrics) {
        super(requireNonNull(tls, "tls").current().server());
        if (mode != Mode.PERMISSIVE && mode != Mode.DISABLE) {
            throw new IllegalArgumentException("only a PERMISSIVE or DISABLE port tells TLS from plaintext: " + mode);
        }
        this.acceptTls = mode == Mode.PERMISSIVE;
        this.tls = tls;
        this.tlsHttp = requireNonNull(tlsHttp, "tlsHttp");
        this.plaintextHttp = requireNonNull(plaintextHttp, "plaintextHttp");
        this.connections = requireNonNull(connections, "connections");
        this.metrics = requireNonNull(metrics, "metrics");
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        if (!acceptTls && in.readableBytes() >= TLS_RECORD_HEADER && SslHandler.isEncrypted(in, false)) {
            in.skipBytes(in.readableBytes());
            connections.refused(ConnectionRefusal.PLAINTEXT_REQUIRED);
            if (tls.securityEvents().admit()) {
                tls.securityEvents().emit(SecurityEvent.connection(SecurityEvent.Type.CONNECTION_REFUSED,
                        Direction.INBOUND, null, ctx.channel().remoteAddress(), null, PLAINTEXT_REQUIRED_REASON));
            }
            log.debug("inbound connection from {} refused: TLS on a port whose mode is DISABLE",
                    ctx.channel().remoteAddress());
            ctx.close();
            return;
        }
        super.decode(ctx, in, out);
    }

    /** TLS: the handshake and ALPN exactly as on a STRICT port. */
    @Override
    protected SslHandler newSslHandler(ChannelHandlerContext ctx, SslContext context) {
        SslHandler ssl = InboundTlsHandler.newServerHandler(tls, context, ctx.alloc());
        // after this handler, which the SslHandler then replaces: tls → alpn
        ctx.pipeline().addAfter(ctx.name(), "alpn", new InboundTlsHandler(tlsHttp, tls, connections));
        return ssl;
    }

    @Override
    protected String newSslHandlerName() {
        return "tls";
    }

    @Override
    protected ChannelHandler newNonSslHandler(ChannelHandlerContext ctx) {
        metrics.plaintextConnection();
        return new HttpProtocolDetector(plaintextHttp);
    }

    @Override
    protected String newNonSslHandlerName() {
        return "detect";
    }
}
