package dev.outrider.proxy.inbound;

import dev.outrider.proxy.metrics.ProxyMetrics;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpRequest;

import static java.util.Objects.requireNonNull;

/**
 * Pipeline position: first of the per-request handlers, on inbound plaintext connections only (a PERMISSIVE or
 * DISABLE port, or a listener without TLS); mTLS connections never have it. Counts each request head
 * ({@code outrider_inbound_plaintext_requests_total}) and passes everything on. Shared by every plaintext
 * connection of the listener; the counter is thread-safe.
 */
@ChannelHandler.Sharable
final class PlaintextRequests extends ChannelInboundHandlerAdapter {
    private final ProxyMetrics metrics;

    PlaintextRequests(ProxyMetrics metrics) {
        this.metrics = requireNonNull(metrics, "metrics");
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest) {
            metrics.plaintextRequest();
        }
        ctx.fireChannelRead(msg);
    }
}
