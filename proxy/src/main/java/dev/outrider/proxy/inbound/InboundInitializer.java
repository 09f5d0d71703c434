package dev.outrider.proxy.inbound;

import dev.outrider.proxy.config.HttpConfig;
import dev.outrider.proxy.forward.ForwardingContext;
import dev.outrider.proxy.forward.ForwardingHandler;
import dev.outrider.proxy.http.DownstreamConnections;
import dev.outrider.proxy.http.HttpProtocolDetector;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;

import static java.util.Objects.requireNonNull;

/**
 * The inbound listener's pipeline: traffic from other sidecars to the local application.
 * <pre>
 * connection: tracker → [TLS, next issue] → protocol detection → HTTP/1.1 or HTTP/2 codec
 * per request: guard → [authn → authz → rate limit, next issues] → forwarding to the application
 * </pre>
 */
public final class InboundInitializer extends ChannelInitializer<Channel> {
    private final HttpConfig http;
    private final long drainTimeoutMillis;
    private final DownstreamConnections connections;
    private final ForwardingContext forwarding;

    public InboundInitializer(HttpConfig http, long drainTimeoutMillis, DownstreamConnections connections,
                              ForwardingContext forwarding) {
        this.http = requireNonNull(http, "http");
        this.drainTimeoutMillis = drainTimeoutMillis;
        this.connections = requireNonNull(connections, "connections");
        this.forwarding = requireNonNull(forwarding, "forwarding");
    }

    @Override
    protected void initChannel(Channel ch) {
        ChannelPipeline p = ch.pipeline();
        addConnectionTracking(p);
        addHttpCodec(p);
    }

    private void addConnectionTracking(ChannelPipeline p) {
        p.addLast("tracker", connections.tracker());
    }

    private void addHttpCodec(ChannelPipeline p) {
        p.addLast("detect", new HttpProtocolDetector(http, drainTimeoutMillis, this::addRequestHandlers));
    }

    /** Per request (HTTP/1.1 connection or HTTP/2 stream), after the codec and the request guard. */
    private void addRequestHandlers(ChannelPipeline p) {
        addForwarding(p);
    }

    private void addForwarding(ChannelPipeline p) {
        p.addLast("forward", new ForwardingHandler(forwarding));
    }
}
