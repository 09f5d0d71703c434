package dev.outrider.proxy.inbound;

import dev.outrider.core.policy.PeerAuthentication.Mode;
import dev.outrider.core.policy.PeerAuthentications;
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
import dev.outrider.proxy.tls.InboundModeHandler;
import dev.outrider.proxy.tls.InboundTlsHandler;
import dev.outrider.proxy.tls.TlsState;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.atomic.AtomicBoolean;

import static java.util.Objects.requireNonNull;

/**
 * The inbound listener's pipeline: traffic from other sidecars to the local application.
 * <pre>
 * connection: admit (inbound.maxConnections) → tracker → first-request deadline (http.requestHeaderTimeout)
 *             → by the port's PeerAuthentication mode, read once per connection from the policy snapshot:
 *               STRICT:     TLS (client certificate required) → identity (inbound.maxConnectionsPerPeer)
 *                           → ALPN: HTTP/2 or HTTP/1.1 codec, then its header timeout
 *               PERMISSIVE: the first bytes decide (InboundModeHandler): a TLS record as STRICT, anything else
 *                           plaintext: protocol detection (h1 or h2c prior knowledge), no peer identity
 *               DISABLE:    plaintext as above; a TLS record is refused
 *             (tls.mode: disabled, no certificates: plaintext whatever the mode); HTTP/1.1: one pipelined
 *             request at a time past the codec (Http1PipeliningHandler), HTTP/2: one request per stream
 * per plaintext request (PERMISSIVE, DISABLE): counted (outrider_inbound_plaintext_requests_total); refused when the
 *              port has become STRICT since the connection was accepted (closed, no response)
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
    private static final Logger log = LoggerFactory.getLogger(InboundInitializer.class);

    private final DownstreamConnections connections;
    private final ForwardingContext forwarding;
    private final TlsState tls;
    private final ClientCertHeaderHandler clientCertHeader;
    private final PathNormalizationHandler pathNormalization;
    private final InboundPolicy policy;
    private final DownstreamHttp http;
    /** TCP tunnels, or null when no TCP port is declared: then nothing intercepts a CONNECT, and forwarding refuses it (405). */
    private final InboundTunnels tunnels;
    /** As {@link #http}, counting each request: the HTTP of plaintext connections on a listener with TLS. */
    private final DownstreamHttp plaintextHttp;
    /** A mode other than DISABLE on a listener without certificates was logged (once). */
    private final AtomicBoolean warnedNoCertificates = new AtomicBoolean();

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
        this.plaintextHttp = new DownstreamHttp(http, drainTimeoutMillis, http2Errors, this::addPlaintextRequestHandlers);
    }

    @Override
    protected void initChannel(Channel ch) {
        if (!connections.admit(ch)) {
            return; // over inbound.maxConnections: closed before any TLS work
        }
        ChannelPipeline p = ch.pipeline();
        addConnectionTracking(p);
        addFirstRequestDeadline(p);
        if (tls == null) {
            addProtocolDetection(p);
            return;
        }
        Mode mode = policy.store().current().mtls().mode();
        if (mode == Mode.STRICT) {
            addTls(p);
        } else {
            addTlsOrPlaintext(p, mode);
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
        p.addLast("tls", InboundTlsHandler.newServerHandler(tls, tls.current().server(), p.channel().alloc()));
        p.addLast("alpn", new InboundTlsHandler(http, tls, connections));
    }

    /** PERMISSIVE or DISABLE: the first bytes decide; plaintext requests are counted. */
    private void addTlsOrPlaintext(ChannelPipeline p, Mode mode) {
        p.addLast("mtls-mode", new InboundModeHandler(mode, tls, http, plaintextHttp, connections, policy.metrics()));
    }

    /**
     * tls.mode: disabled: no certificates, so plaintext whatever PeerAuthentication says (the bootstrap wins); a
     * mode that asks for mTLS is logged once. Every connection is a plaintext one.
     */
    private void addProtocolDetection(ChannelPipeline p) {
        PeerAuthentications.Effective mtls = policy.store().current().mtls();
        if (mtls.mode() != Mode.DISABLE && !PeerAuthentications.DEFAULT.equals(mtls.decidedBy())
                && warnedNoCertificates.compareAndSet(false, true)) {
            log.warn("{} sets mTLS mode {} for the inbound port, but tls.mode is disabled (no certificates): the"
                    + " inbound listener accepts plaintext only", mtls.decidedBy(), mtls.mode());
        }
        policy.metrics().plaintextConnection();
        p.addLast("detect", new HttpProtocolDetector(plaintextHttp));
    }

    /**
     * As {@link #addRequestHandlers}, on a plaintext connection: each request is counted first, and refused when the
     * port has become STRICT since the connection was accepted (with TLS on the listener only).
     */
    private void addPlaintextRequestHandlers(ChannelPipeline p) {
        p.addLast("plaintext-requests", new PlaintextRequests(policy.metrics(), tls == null ? null : policy.store(),
                connections));
        addRequestHandlers(p);
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
