package dev.outrider.proxy.outbound;

import dev.outrider.proxy.config.HttpConfig;
import dev.outrider.proxy.forward.ForwardingContext;
import dev.outrider.proxy.forward.ForwardingHandler;
import dev.outrider.proxy.http.DownstreamConnections;
import dev.outrider.proxy.http.DownstreamHttp;
import dev.outrider.proxy.http.Http2ConnectionErrorHandler;
import dev.outrider.proxy.http.HttpProtocolDetector;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;

import static java.util.Objects.requireNonNull;

/**
 * The outbound listeners' pipeline: plaintext from the local application to the services it calls.
 * <pre>
 * connection: admit (outbound.maxConnections) → tracker → first-request deadline → protocol detection
 *             → HTTP/1.1 codec, header timeout (one pipelined request at a time past it,
 *             Http1PipeliningHandler) or HTTP/2 (h2c) codec, header timeout (one request per stream)
 * per request: guard → header hygiene (identity headers removed) → forwarding (route by Host or port, P2C endpoint,
 *              mTLS to the upstream sidecar with its identity checked; {@code Expect: 100-continue} goes on to
 *              the upstream sidecar, which answers it after its checks, and its 100 is relayed)
 * </pre>
 */
public final class OutboundInitializer extends ChannelInitializer<Channel> {
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
        if (!connections.admit(ch)) {
            return; // over outbound.maxConnections: closed
        }
        ChannelPipeline p = ch.pipeline();
        addConnectionTracking(p);
        http.addFirstRequestDeadline(p);
        addProtocolDetection(p);
    }

    private void addConnectionTracking(ChannelPipeline p) {
        p.addLast("tracker", connections.tracker());
    }

    private void addProtocolDetection(ChannelPipeline p) {
        p.addLast("detect", new HttpProtocolDetector(http));
    }

    /**
     * Per request (HTTP/1.1 connection or HTTP/2 stream), after the codec, the request guard and header
     * hygiene (which removes any X-Forwarded-Client-Cert the application sends: it may not claim one).
     */
    private void addRequestHandlers(ChannelPipeline p) {
        p.addLast("forward", new ForwardingHandler(forwarding));
    }
}
