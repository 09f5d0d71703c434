package dev.outrider.proxy.outbound;

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
 * The outbound listeners' pipeline: plaintext from the local application to the services it calls.
 * <pre>
 * connection: tracker → protocol detection → HTTP/1.1 or HTTP/2 codec
 * per request: guard → forwarding (route by Host or port, P2C endpoint, [mTLS origination, next issue])
 * </pre>
 */
public final class OutboundInitializer extends ChannelInitializer<Channel> {
    private final HttpConfig http;
    private final long drainTimeoutMillis;
    private final DownstreamConnections connections;
    private final ForwardingContext forwarding;

    public OutboundInitializer(HttpConfig http, long drainTimeoutMillis, DownstreamConnections connections,
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
