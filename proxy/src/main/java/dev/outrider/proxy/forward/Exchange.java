package dev.outrider.proxy.forward;

import dev.outrider.proxy.accesslog.AccessLogEntry;
import dev.outrider.proxy.http.HeaderHygiene;
import dev.outrider.proxy.http.Upgrades;
import dev.outrider.proxy.http.KeepAlive;
import dev.outrider.proxy.http.LocalRejection;
import dev.outrider.proxy.http.LocalResponses;
import dev.outrider.proxy.metrics.Direction;
import dev.outrider.proxy.metrics.MeshMetrics;
import dev.outrider.proxy.metrics.ProxyMetrics;
import dev.outrider.proxy.tracing.HopSpan;
import dev.outrider.proxy.upstream.Cluster;
import dev.outrider.proxy.upstream.Endpoint;
import dev.outrider.proxy.upstream.LoadBalancer;
import dev.outrider.proxy.upstream.UpstreamListener;
import dev.outrider.proxy.upstream.UpstreamStream;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * One request and its response, from the downstream request headers to the last response byte.
 *
 * <pre>
 *  downstream (auto-read off)            Exchange                        upstream stream (auto-read off)
 *  ─────────────────────────             ────────                        ───────────────────────────────
 *  request, body ──channelRead──▶ RequestBodyRelay ─────────────────────▶ h1 connection / h2 stream
 *     ▲ read() only while upstream.isWritable()  ◀── writability changed ──┘
 *     │
 *  response ◀──write── onUpstreamMessage ◀──────────────────────────────── response, body, trailers
 *     └── writability changed ──▶ upstream.read() only while downstream.isWritable()
 * </pre>
 * Neither side reads faster than the other can write, so a 1 GiB body passes with at most the socket
 * buffers, the write-buffer high-water mark and (HTTP/2) one flow-control window in memory per direction.
 * The request side (head, waiting contents, body) is {@link RequestBodyRelay}'s, 1xx responses are
 * {@link InterimResponses}'; this class routes, leases, carries the response and answers failures.
 *
 * <p>Failure handling: whether a failed attempt is made again is {@link RetryPolicy}'s decision. Otherwise the
 * caller gets one of {@link UpstreamFailures}: connect failure → 503, upstream reset → 502, no response headers
 * within the request timeout (or no bytes for the idle timeout) → 504. Once response bytes went out an error
 * can only cut the downstream connection (HTTP/1.1) or reset the stream. Whether the downstream connection
 * carries the next request is {@link KeepAlive}'s decision.
 *
 * <p>Threading: everything runs on the downstream channel's event loop.
 */
final class Exchange implements UpstreamListener {
    /** Status logged for requests whose caller went away before a response (nginx's convention). */
    private static final int CLIENT_CLOSED = 499;
    private static final io.netty.util.AsciiString GRPC_STATUS = io.netty.util.AsciiString.cached("grpc-status");

    private final ForwardingHandler owner;
    private final ForwardingContext fc;
    private final ChannelHandlerContext ctx;
    final HttpRequest request;
    private final boolean downstreamHttp2;
    private final long startNanos = System.nanoTime();
    private final long startMillis = System.currentTimeMillis();
    private final String method;
    private final String uri;
    final boolean retriable;
    /** The caller's keep-alive wish (header hygiene left it in Connection), read before the version is rewritten. */
    private final boolean callerKeepAlive;
    /** The protocols an HTTP/1.1 upgrade request offers (its {@code Upgrade}, kept by header hygiene), or null. */
    private final String upgrade;
    /** {@link InterimResponses}' state: 1xx responses from upstream, and the caller's {@code 100-continue}. */
    private int interim;

    private String requestId;
    private Cluster cluster;
    /** The endpoints tried ({@link LoadBalancer#markTried}). */
    private long tried;
    /** Created at the first failure. */
    private RetryPolicy retry;
    private Throwable lastConnectFailure;
    private String upstreamAddress;

    UpstreamStream upstream;
    boolean done;
    // The request side's state, read and written by RequestBodyRelay (held here: a request is one object).
    /** Request contents read before the upstream was ready; written in order when it is. */
    PendingRequestBody pending;
    boolean requestComplete;
    boolean requestWritten;
    /** The request had trailers: it cannot be sent again as a bodyless request. */
    boolean requestTrailers;
    long requestBytes;

    private boolean responseStarted;
    private boolean upstreamKeepAlive;
    private boolean downstreamKeepAlive = true;
    private boolean noResponseBody;
    private int status;
    /** The response's {@code grpc-status} (headers or trailers), or -1. */
    private int grpcStatus = -1;
    private long responseBytes;
    private ScheduledFuture<?> timeout;
    /** This hop's span, or null when tracing is off. */
    private HopSpan span;

    Exchange(ForwardingHandler owner, ForwardingContext fc, ChannelHandlerContext ctx, HttpRequest request,
             boolean downstreamHttp2) {
        this.owner = owner;
        this.fc = fc;
        this.ctx = ctx;
        this.request = request;
        this.downstreamHttp2 = downstreamHttp2;
        this.method = request.method().name();
        this.uri = request.uri();
        this.retriable = RetryPolicy.retriable(request);
        this.noResponseBody = request.method().equals(HttpMethod.HEAD);
        this.callerKeepAlive = KeepAlive.requested(request);
        this.interim = InterimResponses.initial(request);
        this.upgrade = downstreamHttp2 ? null : request.headers().get(HttpHeaderNames.UPGRADE);
    }

    boolean requestComplete() {
        return requestComplete;
    }

    void start() {
        request.headers().remove(HttpHeaderNames.CONNECTION); // hop-by-hop; the rest went on arrival
        if (upgrade != null) {
            request.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE); // this hop's request to switch
        }
        InetSocketAddress remote = (InetSocketAddress) owner.connection().remoteAddress();
        requestId = HeaderHygiene.addForwardingHeaders(request.headers(),
                remote == null ? null : remote.getAddress().getHostAddress(), fc.forwardedProto());
        span = fc.tracing().start(fc.direction(), request.headers(), method, uri, startMillis * 1_000_000L);
        request.setProtocolVersion(HttpVersion.HTTP_1_1);
        RouteResult result = fc.router().resolve(request, owner.connection());
        if (result instanceof NoRoute noRoute) {
            respondLocally(UpstreamFailures.of(noRoute));
            return;
        }
        cluster = ((Route) result).cluster();
        cluster.requestStarted();
        connect();
    }

    private void connect() {
        int i = LoadBalancer.pick(cluster.endpoints(), tried);
        if (i < 0) {
            respondLocally(UpstreamFailures.connectError(cluster, lastConnectFailure));
            return;
        }
        tried = LoadBalancer.markTried(tried, i);
        Endpoint endpoint = cluster.endpoints().get(i);
        boolean h2 = upgrade == null && ForwardingContext.useHttp2(cluster.protocol(), downstreamHttp2);
        Future<UpstreamStream> f = fc.pools().of(ctx.channel().eventLoop()).acquire(endpoint, h2, cluster.tls());
        if (f.isDone()) {
            onAcquired(f);
        } else {
            f.addListener(this::onAcquired);
        }
    }

    private void onAcquired(Future<? super UpstreamStream> f) {
        if (done) {
            if (f.isSuccess()) {
                ((UpstreamStream) f.getNow()).release(false);
            }
            return;
        }
        if (!f.isSuccess()) {
            fc.metrics().upstreamConnectFailure(fc.direction());
            lastConnectFailure = f.cause();
            if (retry().afterConnectFailure(LoadBalancer.pick(cluster.endpoints(), tried) >= 0)) {
                connect(); // nothing was sent: another endpoint is always safe
            } else {
                respondLocally(UpstreamFailures.connectError(cluster, lastConnectFailure));
            }
            return;
        }
        upstream = (UpstreamStream) f.getNow();
        upstreamAddress = upstream.endpoint().toString();
        upstream.bind(this);
        RequestBodyRelay.writeRequest(this, upstream);
        long timeoutNanos = fc.upstream().requestTimeout().toNanos();
        if (timeoutNanos > 0 && timeout == null) {
            timeout = ctx.executor().schedule(this::onRequestTimeout, timeoutNanos, TimeUnit.NANOSECONDS);
        }
        upstream.read();
        if (RequestBodyRelay.wantsBytes(this)) {
            owner.resumeRequest();
        }
    }

    private RetryPolicy retry() {
        RetryPolicy r = retry;
        if (r == null) {
            r = new RetryPolicy(fc, cluster);
            retry = r;
        }
        return r;
    }

    // ---- request body, downstream → upstream: RequestBodyRelay

    @Override
    public void onUpstreamWritabilityChanged(boolean writable) {
        if (writable && RequestBodyRelay.wantsBytes(this)) {
            owner.resumeRequest();
        }
    }

    // ---- response, upstream → downstream

    @Override
    public void onUpstreamMessage(HttpObject msg) {
        if (done) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (upgrade != null && msg instanceof HttpResponse response
                && response.status().code() == HttpResponseStatus.SWITCHING_PROTOCOLS.code()) {
            switchProtocols(response);
            return;
        }
        if (InterimResponses.isInterim(interim, msg)) {
            interim = InterimResponses.consume(interim, msg, responseStarted, upstream, ctx);
            return;
        }
        if (msg instanceof HttpResponse response) {
            startResponse(response);
        }
        if (msg instanceof HttpContent content) {
            responseBytes += content.content().readableBytes();
            if (content instanceof LastHttpContent last) {
                grpcStatus = grpcStatus(last.trailingHeaders(), grpcStatus);
                HeaderHygiene.cleanTrailers(last.trailingHeaders());
                ChannelFuture lastWrite = ctx.writeAndFlush(msg);
                finish(lastWrite, false);
                return;
            }
        }
        ctx.write(msg, ctx.voidPromise());
    }

    private void startResponse(HttpResponse response) {
        cancelTimeout();
        responseStarted = true;
        status = response.status().code();
        grpcStatus = grpcStatus(response.headers(), -1); // a trailers-only response carries it here
        upstreamKeepAlive = KeepAlive.requested(response);
        if (downstreamHttp2) {
            ResponseHeads.forHttp2(response);
        } else {
            downstreamKeepAlive = KeepAlive.forwardedResponse(callerKeepAlive, owner.keepAliveAllowed());
            ResponseHeads.forHttp1(response, noResponseBody, downstreamKeepAlive);
        }
    }

    @Override
    public void onUpstreamReadComplete() {
        ctx.flush();
        if (!done && ctx.channel().isWritable() && upstream != null) {
            upstream.read();
        }
    }

    void onDownstreamWritable() {
        if (!done && upstream != null) {
            upstream.read();
        }
    }

    /**
     * The upstream switched protocols: the exchange ends as a {@code 101} (logged and counted as one, its bytes
     * counted when the tunnel ends) and the two connections become one tunnel ({@link ProtocolSwitch}). A 101 to a
     * protocol the caller did not offer is the upstream's fault: 502.
     */
    private void switchProtocols(HttpResponse response) {
        String chosen = response.headers().get(HttpHeaderNames.UPGRADE);
        if (!Upgrades.isOffered(chosen, upgrade)) {
            ReferenceCountUtil.release(response);
            respondLocally(UpstreamFailures.UPGRADE_NOT_OFFERED);
            return;
        }
        cancelTimeout();
        responseStarted = true;
        status = HttpResponseStatus.SWITCHING_PROTOCOLS.code();
        FullHttpResponse switched = ProtocolSwitch.switchingProtocols(response, chosen);
        Channel tunnel = upstream.takeOver();
        upstream = null;
        ChannelHandlerContext downstream = ctx;
        Direction direction = fc.direction();
        ProxyMetrics metrics = fc.metrics();
        String protocol = Upgrades.name(chosen);
        metrics.tunnelOpened(direction, protocol);
        finish(null, false);
        ProtocolSwitch.join(downstream, switched, tunnel, protocol,
                (fromCaller, fromUpstream) -> metrics.tunnelClosed(direction, protocol, fromCaller, fromUpstream));
    }

    // ---- failures

    @Override
    public void onUpstreamClosed(Throwable cause) {
        if (done) {
            return;
        }
        if (!responseStarted) {
            UpstreamStream failed = upstream;
            upstream = null;
            if (failed != null) {
                failed.release(false);
            }
            if (retry().afterUpstreamClosed(cause, retriable, requestComplete,
                    RequestBodyRelay.carriedNothing(this))) {
                if (LoadBalancer.pick(cluster.endpoints(), tried) < 0) {
                    tried = 0L; // no other endpoint: the same one again, on another connection
                } // else another endpoint first: this one may be going away (drain, exit)
                requestWritten = false;
                connect();
                return;
            }
            respondLocally(UpstreamFailures.CLOSED_BEFORE_HEADERS);
            return;
        }
        abort();
    }

    @Override
    public void onUpstreamIdle() {
        if (done) {
            return;
        }
        if (!responseStarted) {
            onRequestTimeout();
        } else {
            abort();
        }
    }

    private void onRequestTimeout() {
        timeout = null;
        if (done || responseStarted) {
            return;
        }
        respondLocally(UpstreamFailures.TIMEOUT);
    }

    void onDownstreamClosed() {
        if (done) {
            return;
        }
        if (!responseStarted) {
            status = CLIENT_CLOSED;
        }
        finish(null, true);
    }

    /** A response already under way cannot become an error response: cut the downstream. */
    private void abort() {
        finish(null, true);
        ctx.close();
    }

    private void respondLocally(LocalRejection rejection) {
        if (responseStarted) {
            abort();
            return;
        }
        responseStarted = true;
        status = rejection.status().code();
        cancelTimeout();
        if (upstream != null) {
            upstream.release(false);
            upstream = null;
        }
        FullHttpResponse response = LocalResponses.of(ctx.alloc(), rejection, requestId, false);
        if (!downstreamHttp2) {
            downstreamKeepAlive = KeepAlive.localResponse(callerKeepAlive, owner.keepAliveAllowed(), requestComplete);
            KeepAlive.mark(response, downstreamKeepAlive);
        }
        responseBytes = response.content().readableBytes();
        finish(ctx.writeAndFlush(response), false);
    }

    private void finish(ChannelFuture lastWrite, boolean aborted) {
        if (done) {
            return;
        }
        done = true;
        cancelTimeout();
        PendingRequestBody.release(pending);
        if (upstream != null) {
            boolean reusable = KeepAlive.upstreamReusable(aborted, upstream.isHttp2(), requestWritten,
                    upstreamKeepAlive);
            upstream.release(reusable);
            upstream = null;
        }
        if (cluster != null) {
            cluster.requestFinished();
            if (retry != null) {
                retry.finished();
            }
        }
        long duration = System.nanoTime() - startNanos;
        int logged = status == 0 ? CLIENT_CLOSED : status;
        MeshMetrics mesh = fc.metrics().mesh();
        MeshMetrics.Series series = fc.direction() == Direction.INBOUND ? mesh.inbound(owner.peerPrincipal())
                : cluster == null ? mesh.outbound(null, null)
                : mesh.outbound(cluster.name(), cluster.tls() == null ? null : cluster.tls().identities());
        fc.metrics().requestCompleted(fc.direction(), series, logged, grpcStatus, duration, requestBytes,
                responseBytes);
        String traceId = null;
        if (span != null) {
            traceId = span.traceId();
            span.end(status, grpcStatus, upstreamAddress,
                    fc.direction() == Direction.OUTBOUND && cluster != null ? cluster.name() : null,
                    owner.peerPrincipal(), owner.auth());
            span = null;
        }
        if (fc.accessLog().enabled()) {
            fc.accessLog().log(new AccessLogEntry(startMillis, fc.direction(), downstreamHttp2 ? "HTTP/2" : "HTTP/1.1",
                    method, uri, logged, duration, requestBytes, responseBytes,
                    upstreamAddress, requestId, cluster == null ? null : cluster.name(), owner.auth(), traceId));
        }
        if (status == HttpResponseStatus.SWITCHING_PROTOCOLS.code()) {
            owner.switchedProtocols(this);
            return;
        }
        owner.exchangeDone(this, lastWrite, KeepAlive.afterExchange(aborted, requestComplete, downstreamKeepAlive));
    }

    /** {@code grpc-status} of {@code headers} (0..16), or {@code otherwise}; looks no further for others. */
    private static int grpcStatus(HttpHeaders headers, int otherwise) {
        if (headers.isEmpty() || !headers.contains(GRPC_STATUS)) {
            return otherwise;
        }
        Integer value = headers.getInt(GRPC_STATUS);
        return value == null || value < 0 || value > 16 ? otherwise : value;
    }

    private void cancelTimeout() {
        if (timeout != null) {
            timeout.cancel(false);
            timeout = null;
        }
    }
}
