package dev.outrider.controlplane.server;

import dev.outrider.core.net.LingeringClose;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLPeerUnverifiedException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import static java.util.Objects.requireNonNull;

/**
 * The last handler of an API connection: authenticates, routes and answers each complete request.
 * Pipeline: {@code tls → codec → idle → aggregator(1 MiB) → api}.
 *
 * <p>Requests are answered one at a time and in order (HTTP/1.1 §9.3.2 pipelining): while one is in flight
 * auto-read is off, and requests the decoder had already produced wait in {@link #queued}. A route's answer
 * may complete on any thread (the worker executor, a snapshot wake-up); it is handed back to this channel's
 * event loop before anything touches the channel or the fields below. When the connection closes, the
 * request in flight is cancelled, so a held long poll lets go of its callback.
 *
 * <p>Keep-alive (RFC 9112 §9.3): the connection stays open unless the request asked for {@code close} (or was
 * HTTP/1.0 without {@code keep-alive}) or could not be decoded; then the answer says {@code Connection: close}
 * and the connection ends once it is written, with a lingering close ({@link LingeringClose}) so that request
 * bytes the client is still sending cannot reset the connection before it reads the answer.
 *
 * <p>Threading: every field is confined to the channel's event loop (no {@code volatile} needed).
 * An idle timeout closes the connection only when nothing is in flight: a held request is not idle.
 */
final class ApiHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ApiHandler.class);
    /** More pipelined requests than this on one connection is abuse, not a client. */
    static final int MAX_QUEUED = 16;

    private final Router router;
    private final Authenticator authenticator;

    private final ArrayDeque<Incoming> queued = new ArrayDeque<>();
    private CompletableFuture<ApiResponse> inFlight;
    /** The answer ending the connection was written: nothing read after it is a request. */
    private boolean closing;
    private boolean peerLoaded;
    private X509Certificate peer;

    ApiHandler(Router router, Authenticator authenticator) {
        this.router = requireNonNull(router, "router");
        this.authenticator = requireNonNull(authenticator, "authenticator");
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (closing || !(msg instanceof FullHttpRequest request)) {
            ReferenceCountUtil.release(msg); // the aggregator passes nothing else; be safe anyway
            return;
        }
        Incoming incoming;
        try {
            incoming = Incoming.of(request);
        } finally {
            request.release();
        }
        if (queued.size() >= MAX_QUEUED) {
            log.debug("{}: more than {} pipelined requests; closing", ctx.channel().remoteAddress(), MAX_QUEUED);
            ctx.close();
            return;
        }
        queued.add(incoming);
        if (inFlight == null) {
            next(ctx);
        }
    }

    /** Starts the next queued request, or turns auto-read back on when there is none. */
    private void next(ChannelHandlerContext ctx) {
        Incoming incoming = queued.poll();
        if (incoming == null) {
            ctx.channel().config().setAutoRead(true);
            return;
        }
        ctx.channel().config().setAutoRead(false);
        if (incoming.failure() != null) {
            write(ctx, incoming, ApiResponse.error(incoming.failure()), true);
            return;
        }
        long started = System.nanoTime();
        CompletableFuture<ApiResponse> answer = dispatch(ctx, incoming);
        inFlight = answer;
        answer.whenComplete((response, failure) -> {
            if (ctx.executor().inEventLoop()) {
                complete(ctx, answer, incoming, response, failure, started);
            } else {
                ctx.executor().execute(() -> complete(ctx, answer, incoming, response, failure, started));
            }
        });
    }

    private CompletableFuture<ApiResponse> dispatch(ChannelHandlerContext ctx, Incoming incoming) {
        try {
            Router.Match match = router.match(incoming.method(), incoming.segments());
            Caller caller = authenticator.authenticate(peer(ctx), incoming.authorization());
            if (!match.route().answersRefusals()) {
                match.route().access().check(caller);
            }
            ApiRequest request = new ApiRequest(incoming.method(), incoming.path(), match.params(),
                    incoming.query(), incoming.contentType(), incoming.body(), caller, source(ctx));
            return requireNonNull(match.route().handler().handle(request), "route answered null").toCompletableFuture();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** On the event loop: writes the answer of {@code answer} unless the connection gave up on it. */
    private void complete(ChannelHandlerContext ctx, CompletableFuture<ApiResponse> answer, Incoming incoming,
                          ApiResponse response, Throwable failure, long started) {
        if (inFlight != answer) {
            return; // closed (and cancelled) meanwhile
        }
        inFlight = null;
        ApiResponse out = failure == null ? response : errorResponse(incoming, failure);
        if (log.isDebugEnabled()) {
            log.debug("{} {} -> {} in {} us", incoming.method(), incoming.path(), out.status().code(),
                    (System.nanoTime() - started) / 1000);
        }
        write(ctx, incoming, out, false);
    }

    private void write(ChannelHandlerContext ctx, Incoming incoming, ApiResponse response, boolean close) {
        FullHttpResponse http = toHttp(response);
        if (close || !incoming.keepAlive()) {
            http.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            closing = true;
            queued.clear();
            ctx.writeAndFlush(http).addListener(f -> LingeringClose.close(ctx));
            return;
        }
        if (incoming.http10()) {
            http.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        ctx.writeAndFlush(http).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
        next(ctx);
    }

    /**
     * The Netty response for {@code response}: its headers, {@code Cache-Control: no-store}, and Content-Length
     * except on 204 and 304, which have no content and must not claim one (RFC 9110 §8.6).
     */
    static FullHttpResponse toHttp(ApiResponse response) {
        FullHttpResponse http = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, response.status(),
                Unpooled.wrappedBuffer(response.body()));
        var headers = http.headers();
        if (response.contentType() != null) {
            headers.set(HttpHeaderNames.CONTENT_TYPE, response.contentType());
        }
        int code = response.status().code();
        if (code != 204 && code != 304) {
            headers.setInt(HttpHeaderNames.CONTENT_LENGTH, response.body().length);
        }
        headers.set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
        for (Map.Entry<String, String> h : response.headers().entrySet()) {
            headers.set(h.getKey(), h.getValue());
        }
        return http;
    }

    private static ApiResponse errorResponse(Incoming incoming, Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                ? failure.getCause() : failure;
        if (cause instanceof ApiException api) {
            return ApiResponse.error(api);
        }
        log.warn("{} {} failed", incoming.method(), incoming.path(), cause);
        return ApiResponse.error(ApiException.internal("internal error; the control plane log has the details"));
    }

    /** The peer's address as {@code host:port} (IPv6 in brackets), or null when the channel has none. */
    private static String source(ChannelHandlerContext ctx) {
        if (ctx.channel().remoteAddress() instanceof InetSocketAddress peer && peer.getAddress() != null) {
            String host = peer.getAddress().getHostAddress();
            return (peer.getAddress() instanceof Inet6Address ? "[" + host + "]" : host) + ":" + peer.getPort();
        }
        return null;
    }

    /** The verified client certificate of this connection, or null; read once (TLS 1.3 has no renegotiation). */
    private X509Certificate peer(ChannelHandlerContext ctx) {
        if (!peerLoaded) {
            peerLoaded = true;
            SslHandler tls = ctx.pipeline().get(SslHandler.class);
            if (tls != null) {
                try {
                    Certificate[] chain = tls.engine().getSession().getPeerCertificates();
                    if (chain.length > 0 && chain[0] instanceof X509Certificate leaf) {
                        peer = leaf;
                    }
                } catch (SSLPeerUnverifiedException e) {
                    peer = null; // no client certificate: allowed (new sidecars have none)
                }
            }
        }
        return peer;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof IdleStateEvent) {
            if (inFlight == null && queued.isEmpty()) {
                ctx.close();
            }
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        queued.clear();
        CompletableFuture<ApiResponse> pending = inFlight;
        inFlight = null;
        if (pending != null) {
            pending.cancel(false);
        }
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // TLS handshake refusals (untrusted or expired client certificates) and resets land here: the
        // client's problem, logged at debug only.
        log.debug("{}: closing after {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }
}
