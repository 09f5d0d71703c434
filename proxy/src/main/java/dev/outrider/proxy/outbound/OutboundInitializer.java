package dev.outrider.proxy.outbound;

import dev.outrider.proxy.config.HttpConfig;
import dev.outrider.proxy.forward.ForwardingContext;
import dev.outrider.proxy.forward.ForwardingHandler;
import dev.outrider.proxy.http.DownstreamConnections;
import dev.outrider.proxy.http.DownstreamHttp;
import dev.outrider.proxy.http.Http2ConnectionErrorHandler;
import dev.outrider.proxy.http.HttpProtocolDetector;
import dev.outrider.proxy.tls.ClientCertHeaderHandler;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;

import static java.util.Objects.requireNonNull;

/**
 * The outbound listeners' pipeline: plaintext from the local application to the services it calls.
 * <pre>
 * connection: tracker → protocol detection → HTTP/1.1 codec (one pipelined request at a time past it,
 *             Http1PipeliningHandler) or HTTP/2 (h2c) codec (one request per stream)
 * per request: guard → strip identity headers → forwarding (route by Host or port, P2C endpoint,
 *              mTLS to the upstream sidecar with its identity checked)
 * </pre>
 */
public final class OutboundInitializer extends ChannelInitializer<Channel> {
    /** The application may not claim a client certificate: the header is removed, never set. */
    private static final ClientCertHeaderHandler STRIP_CLIENT_CERT = new ClientCertHeaderHandler(null);

    private final DownstreamConnections connections;
    private final ForwardingContext forwarding;
    private final DownstreamHttp http;

    public OutboundInitializer(HttpConfig http, long drainTimeoutMillis, DownstreamConnections connections,
                               ForwardingContext forwarding) {
        this.connections = requireNonNull(connections, "connections");
        this.forwarding = requireNonNull(forwarding, "forwarding");
        Http2ConnectionErrorHandler http2Errors =
                new Http2ConnectionErrorHandler(forwarding.direction(), forwarding.metrics());
        this.http = new DownstreamHttp(http, drainTimeoutMillis, http2Errors, this::addRequestHandlers);
    }

    @Override
    protected void initChannel(Channel ch) {
        ChannelPipeline p = ch.pipeline();
        addConnectionTracking(p);
        addProtocolDetection(p);
    }

    private void addConnectionTracking(ChannelPipeline p) {
        p.addLast("tracker", connections.tracker());
    }

    private void addProtocolDetection(ChannelPipeline p) {
        p.addLast("detect", new HttpProtocolDetector(http));
    }

    /** Per request (HTTP/1.1 connection or HTTP/2 stream), after the codec and the request guard. */
    private void addRequestHandlers(ChannelPipeline p) {
        p.addLast("strip-client-cert-header", STRIP_CLIENT_CERT);
        p.addLast("forward", new ForwardingHandler(forwarding));
    }
}
