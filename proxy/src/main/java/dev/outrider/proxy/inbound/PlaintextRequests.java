package dev.outrider.proxy.inbound;

import dev.outrider.core.policy.PeerAuthentication.Mode;
import dev.outrider.proxy.http.DownstreamConnections;
import dev.outrider.proxy.http.HeaderHygiene;
import dev.outrider.proxy.metrics.ConnectionRefusal;
import dev.outrider.proxy.metrics.ProxyMetrics;
import dev.outrider.proxy.policy.PolicyStore;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.ReferenceCountUtil;

import static java.util.Objects.requireNonNull;

/**
 * Pipeline position: first of the per-request handlers, on inbound plaintext connections only (a PERMISSIVE or
 * DISABLE port, or a listener without TLS); mTLS connections never have it. Counts each request head
 * ({@code outrider_inbound_plaintext_requests_total}), marks it {@code X-Forwarded-Proto: http} on a listener with
 * TLS (the caller's value was removed by header hygiene; forwarding keeps this one, set by the sidecar, instead of
 * the listener's {@code https}) and passes everything on.
 *
 * <p>A plaintext connection accepted while its port was PERMISSIVE may outlive a switch to STRICT: its next request is
 * then not served. The connection is closed without a response (HTTP/2: with every stream of it), counted as
 * refused ({@code reason="mtls_required"}), and the rest of that request is dropped. So a switch to STRICT ends
 * plaintext at the next request of every open connection, not only for new connections; an idle one ends with its
 * idle timeout. One instance per HTTP/1.1 connection or HTTP/2 stream; event loop only.
 */
final class PlaintextRequests extends ChannelInboundHandlerAdapter {
    private static final String HTTP = "http";

    private final ProxyMetrics metrics;
    /** Null on a listener without TLS: nothing to switch to. */
    private final PolicyStore store;
    private final DownstreamConnections connections;
    /** The current request is refused: its remaining messages are dropped. Event loop only. */
    private boolean refusing;

    /** @param store the policy store whose mode a request checks; null on a listener without certificates */
    PlaintextRequests(ProxyMetrics metrics, PolicyStore store, DownstreamConnections connections) {
        this.metrics = requireNonNull(metrics, "metrics");
        this.store = store;
        this.connections = requireNonNull(connections, "connections");
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest) {
            refusing = store != null && store.current().mtls().mode() == Mode.STRICT;
            if (refusing) {
                connections.refused(ConnectionRefusal.MTLS_REQUIRED);
                Channel ch = ctx.channel();
                (ch instanceof Http2StreamChannel ? ch.parent() : ch).close();
            } else {
                metrics.plaintextRequest();
                if (store != null) {
                    ((HttpRequest) msg).headers().set(HeaderHygiene.X_FORWARDED_PROTO, HTTP);
                }
            }
        }
        if (refusing) {
            ReferenceCountUtil.release(msg);
            return;
        }
        ctx.fireChannelRead(msg);
    }
}
