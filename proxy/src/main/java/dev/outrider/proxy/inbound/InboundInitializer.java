package dev.outrider.proxy.inbound;

import dev.outrider.proxy.config.HttpConfig;
import dev.outrider.proxy.forward.ForwardingContext;
import dev.outrider.proxy.forward.ForwardingHandler;
import dev.outrider.proxy.http.DownstreamConnections;
import dev.outrider.proxy.http.DownstreamHttp;
import dev.outrider.proxy.http.Http2ConnectionErrorHandler;
import dev.outrider.proxy.http.HttpProtocolDetector;
import dev.outrider.proxy.http.PathNormalizationHandler;
import dev.outrider.proxy.http.RequestPathPolicy;
import dev.outrider.proxy.tls.ClientCertHeaderHandler;
import dev.outrider.proxy.tls.InboundTlsHandler;
import dev.outrider.proxy.tls.TlsState;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.ssl.SslHandler;

import static java.util.Objects.requireNonNull;

/**
 * The inbound listener's pipeline: traffic from other sidecars to the local application.
 * <pre>
 * connection: admit (inbound.maxConnections) → tracker → first-request deadline (http.requestHeaderTimeout)
 *             → TLS (client certificate required) → identity (inbound.maxConnectionsPerPeer)
 *             → ALPN: HTTP/2 or HTTP/1.1 codec, then its header timeout
 *             (without TLS: protocol detection from the first bytes); HTTP/1.1: one pipelined request
 *             at a time past the codec (Http1PipeliningHandler), HTTP/2: one request per stream
 * per request: guard → header hygiene → TCP tunnel (CONNECT only) → path normalization
 *              → client-certificate header → authn (JWT) → authz → rate limit → 100-continue → forwarding
 * </pre>
 * A {@code CONNECT} for one of {@code inbound.tcp.ports} becomes a TCP tunnel to the application
 * ({@link InboundTunnelHandler}: authorized with Istio's TCP semantics, limited per caller); any other
 * {@code CONNECT} is refused there, before the request handlers could treat it as a request.
 * Authentication, authorization and throttling run in that order on the same policy snapshot, read once per
 * request; a request one of them refuses is answered here (401, 403, 429 or 503) and never reaches the
 * application. Throttling comes last, so a request refused for who it is costs the caller no budget. An
 * {@code Expect: 100-continue} is answered only once every check has passed, so a refused caller is never
 * invited to send its body.
 */
public final class InboundInitializer extends ChannelInitializer<Channel> {
    private final DownstreamConnections connections;
    private final ForwardingContext forwarding;
    private final TlsState tls;
    private final ClientCertHeaderHandler clientCertHeader;
    private final PathNormalizationHandler pathNormalization;
    private final InboundPolicy policy;
    private final DownstreamHttp http;
    /** TCP tunnels, or null when no TCP port is declared: then nothing intercepts a CONNECT, and forwarding refuses it (405). */
    private final InboundTunnels tunnels;

    /**
     * @param tls            the TLS state, or null for a plaintext inbound listener (development only)
     * @param pathRules      what path normalization does with {@code %2F}, {@code %5C} and {@code ;}
     */
    public InboundInitializer(HttpConfig http, long drainTimeoutMillis, DownstreamConnections connections,
                              ForwardingContext forwarding, TlsState tls, InboundPolicy policy,
                              RequestPathPolicy.Rules pathRules) {
        this(http, drainTimeoutMillis, connections, forwarding, tls, policy, pathRules, null);
    }

    /** @param tunnels the TCP ports' tunnels ({@code inbound.tcp}); null: none (CONNECT is not intercepted) */
    public InboundInitializer(HttpConfig http, long drainTimeoutMillis, DownstreamConnections connections,
                              ForwardingContext forwarding, TlsState tls, InboundPolicy policy,
                              RequestPathPolicy.Rules pathRules, InboundTunnels tunnels) {
        this.tunnels = tunnels;
        this.connections = requireNonNull(connections, "connections");
        this.forwarding = requireNonNull(forwarding, "forwarding");
        this.tls = tls;
        this.policy = requireNonNull(policy, "policy");
        this.pathNormalization = new PathNormalizationHandler(requireNonNull(pathRules, "pathRules"));
        this.clientCertHeader = new ClientCertHeaderHandler(tls == null ? null : tls.identity());
        Http2ConnectionErrorHandler http2Errors =
                new Http2ConnectionErrorHandler(forwarding.direction(), forwarding.metrics());
        this.http = new DownstreamHttp(http, drainTimeoutMillis, http2Errors, this::addRequestHandlers);
    }

    @Override
    protected void initChannel(Channel ch) {
        if (!connections.admit(ch)) {
            return; // over inbound.maxConnections: closed before any TLS work
        }
        ChannelPipeline p = ch.pipeline();
        addConnectionTracking(p);
        addFirstRequestDeadline(p);
        if (tls != null) {
            addTls(p);
        } else {
            addProtocolDetection(p);
        }
    }

    private void addConnectionTracking(ChannelPipeline p) {
        p.addLast("tracker", connections.tracker());
    }

    /** From the accept: the handshake and the first request's header block share http.requestHeaderTimeout. */
    private void addFirstRequestDeadline(ChannelPipeline p) {
        http.addFirstRequestDeadline(p);
    }

    private void addTls(ChannelPipeline p) {
        SslHandler ssl = tls.current().server().newHandler(p.channel().alloc());
        ssl.setHandshakeTimeoutMillis(tls.config().handshakeTimeout().toMillis());
        p.addLast("tls", ssl);
        p.addLast("alpn", new InboundTlsHandler(http, tls, connections));
    }

    private void addProtocolDetection(ChannelPipeline p) {
        p.addLast("detect", new HttpProtocolDetector(http));
    }

    /** Per request (HTTP/1.1 connection or HTTP/2 stream), after the codec and the request guard. */
    private void addRequestHandlers(ChannelPipeline p) {
        addTunnels(p);
        addNormalization(p);
        addClientCertHeader(p);
        InboundRequest request = new InboundRequest(policy.applicationPort());
        addAuthn(p, request);
        addAuthz(p, request);
        addRateLimit(p, request);
        DownstreamHttp.addExpectContinue(p);
        addForwarding(p, request);
    }

    /** First: a CONNECT never reaches the request handlers (a declared TCP port's tunnel, or a refusal). */
    private void addTunnels(ChannelPipeline p) {
        if (tunnels != null) {
            p.addLast("tunnel", new InboundTunnelHandler(policy, tunnels));
        }
    }

    /** Before authn/authz: from here on {@code request.uri()} is canonical, as matched and as forwarded. */
    private void addNormalization(ChannelPipeline p) {
        p.addLast("normalize", pathNormalization);
    }

    private void addClientCertHeader(ChannelPipeline p) {
        p.addLast("client-cert-header", clientCertHeader);
    }

    private void addAuthn(ChannelPipeline p, InboundRequest request) {
        p.addLast("authn", new AuthnHandler(policy, request));
    }

    private void addAuthz(ChannelPipeline p, InboundRequest request) {
        p.addLast("authz", new AuthzHandler(policy, request));
    }

    private void addRateLimit(ChannelPipeline p, InboundRequest request) {
        p.addLast("ratelimit", new RateLimitHandler(policy, request));
    }

    /** The access-log entry of a forwarded request carries what the checks recorded in {@code request}. */
    private void addForwarding(ChannelPipeline p, InboundRequest request) {
        p.addLast("forward", new ForwardingHandler(forwarding, request));
    }
}
