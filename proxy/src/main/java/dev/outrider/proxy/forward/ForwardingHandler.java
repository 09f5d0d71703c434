package dev.outrider.proxy.forward;

import dev.outrider.proxy.accesslog.AccessLogEntry;
import dev.outrider.proxy.accesslog.AuthSource;
import dev.outrider.proxy.http.DrainEvent;
import dev.outrider.proxy.http.Http1PipeliningHandler;
import dev.outrider.proxy.http.KeepAlive;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static java.util.Objects.requireNonNull;

/**
 * Pipeline position: last handler of a downstream HTTP/1.1 connection, or of an HTTP/2 stream channel.
 * Everything before it has decoded, validated (and later authenticated, authorized, throttled) the request.
 *
 * <p>Runs one {@link Exchange} at a time: HTTP/1.1 requests on a keep-alive connection one after another, an
 * HTTP/2 stream channel exactly one. HTTP/1.1 pipelining is {@link Http1PipeliningHandler}'s concern: it lets
 * the next request through only once the response to the current one is written (and the exchange is done),
 * so a request head never arrives here while an exchange runs.
 *
 * <p>Start: an exchange starts when its request is complete or at the end of the read that brought its head
 * ({@code channelReadComplete}), whichever comes first. So a request whose body came with its head (a GET, a
 * small POST, a pipelined request released with its body) is complete when its exchange starts, and an
 * exchange that answers at once (no route) can keep the connection open; a longer body streams in later.
 *
 * <p>Reading: downstream auto-read is off. This handler asks for more bytes when the exchange can take them
 * (its upstream is connected and writable and the request is not complete, {@link RequestBodyRelay#wantsBytes})
 * or no exchange runs; see {@link Exchange} for the whole flow-control picture.
 *
 * <p>Threading: every field is used on this channel's event loop only (upstream streams live on the same
 * loop), so none needs {@code volatile}.
 */
public final class ForwardingHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ForwardingHandler.class);

    private final ForwardingContext fc;
    private final AuthSource auth;
    private ChannelHandlerContext ctx;
    private boolean http2;
    private Exchange exchange;
    /** {@link #exchange} was started; before, it collects the request contents of the current read. */
    private boolean started;
    /** The connection closes (after the last response is written): nothing more is read or started. */
    private boolean closing;
    private boolean closeAfterResponse;

    /** Without request checks before it (the outbound listener): access-log entries carry no auth outcome. */
    public ForwardingHandler(ForwardingContext fc) {
        this(fc, AuthSource.NONE);
    }

    /** @param auth the request state the checks before this handler record their outcome in, for the access log */
    public ForwardingHandler(ForwardingContext fc, AuthSource auth) {
        this.fc = requireNonNull(fc, "fc");
        this.auth = requireNonNull(auth, "auth");
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.http2 = ctx.channel() instanceof Http2StreamChannel;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.fireChannelActive();
        ctx.read(); // HTTP/2 stream channels start here; HTTP/1.1 reading was started by the tracker
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (closing) {
            ReferenceCountUtil.release(msg);
            return;
        }
        Exchange e = exchange;
        if (e == null) {
            if (msg instanceof HttpRequest request) {
                begin(request);
            } else {
                ReferenceCountUtil.release(msg); // the rest of a body whose request was already answered
            }
            return;
        }
        if (msg instanceof HttpContent content && !e.requestComplete()) {
            RequestBodyRelay.onContent(e, content);
            if (!started && e.requestComplete()) {
                start(e);
            }
            return;
        }
        // A second request while one runs: Http1PipeliningHandler (HTTP/1.1) and the stream (HTTP/2) rule it out.
        ReferenceCountUtil.release(msg);
        log.debug("downstream {}: {} while an exchange runs; closing", ctx.channel(), msg.getClass().getSimpleName());
        closing = true;
        ctx.close();
    }

    private void begin(HttpRequest request) {
        HttpContent last = null;
        if (request instanceof FullHttpRequest full) {
            // HTTP/2 HEADERS with END_STREAM: split so every exchange sees request + contents.
            request = new DefaultHttpRequest(full.protocolVersion(), full.method(), full.uri(), full.headers());
            last = new DefaultLastHttpContent(full.content(), full.trailingHeaders());
        }
        Exchange e = new Exchange(this, fc, ctx, request, http2);
        exchange = e;
        started = false;
        if (last != null) {
            RequestBodyRelay.onContent(e, last);
        }
        if (e.requestComplete()) {
            start(e);
        } // else at its last content or at the end of this read, whichever comes first
    }

    private void start(Exchange e) {
        started = true;
        e.start();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (closing) {
            return;
        }
        Exchange e = exchange;
        if (e == null) {
            if (ctx.channel().isActive()) {
                ctx.read();
            }
            return;
        }
        if (!started) {
            start(e); // the rest of its body comes in later reads
            if (exchange != e) {
                return; // answered at once; exchangeDone read on (or closed)
            }
        }
        RequestBodyRelay.flush(e);
        if (RequestBodyRelay.wantsBytes(e)) {
            ctx.read();
        }
    }

    /** The exchange can take request bytes again (its upstream became writable or connected). */
    void resumeRequest() {
        if (!closing) {
            ctx.read();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        Exchange e = exchange;
        if (e != null && ctx.channel().isWritable()) {
            e.onDownstreamWritable();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == DrainEvent.INSTANCE) {
            if (exchange == null) {
                closing = true;
                ctx.close();
            } else {
                closeAfterResponse = true;
            }
            return;
        }
        if (evt instanceof IdleStateEvent) {
            if (exchange == null) {
                closing = true;
                ctx.close(); // idle keep-alive connection
            }
            return; // an exchange in progress has its own upstream timeouts
        }
        if (evt instanceof ChannelInputShutdownEvent && !http2) {
            onInputShutdown();
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    /**
     * HTTP/1.1: the client half-closed (TCP FIN; nothing more will be read). Http1PipeliningHandler passes
     * this on only after every request it held, so the exchange here, if any, is the last one: a complete
     * request is answered and then the connection closes; a request whose body will never be complete is
     * aborted; an idle connection closes once what was written (a local reply) is out.
     */
    private void onInputShutdown() {
        if (closing) {
            return;
        }
        Exchange e = exchange;
        if (e != null && e.requestComplete()) {
            closeAfterResponse = true; // exchangeDone closes after the response
            return;
        }
        closing = true;
        if (e == null) {
            ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        } else {
            ctx.close(); // the exchange sees the downstream close: aborted, logged 499
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        Exchange e = exchange;
        if (e != null) {
            e.onDownstreamClosed();
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("downstream {} failed", ctx.channel(), cause);
        ctx.close();
    }

    /** Whether a response on HTTP/1.1 may promise to keep the connection open: not while draining. */
    boolean keepAliveAllowed() {
        return KeepAlive.connectionReusable(closeAfterResponse, fc.drain().isDraining());
    }

    /** The current request's authentication and authorization outcome for its access-log entry, or null. */
    AccessLogEntry.Auth auth() {
        return auth.auth();
    }

    /** The caller's verified principal (inbound), or null. */
    String peerPrincipal() {
        return auth.peerPrincipal();
    }

    /** The downstream connection (the parent of an HTTP/2 stream). */
    Channel connection() {
        Channel ch = ctx.channel();
        return http2 ? ch.parent() : ch;
    }

    /** Called by an exchange whose connection becomes a tunnel: this handler leaves the pipeline next. */
    void switchedProtocols(Exchange e) {
        if (exchange == e) {
            exchange = null;
            closing = true; // nothing more is HTTP here
        }
    }

    /**
     * Called by the exchange once its response is fully written (or it was aborted).
     *
     * @param lastWrite the write of the response's end, or null when aborted
     * @param reusable  the connection may carry the next request (HTTP/1.1 keep-alive, request fully read)
     */
    void exchangeDone(Exchange e, ChannelFuture lastWrite, boolean reusable) {
        if (exchange != e) {
            return;
        }
        exchange = null;
        if (http2) {
            if (!e.requestComplete() || lastWrite == null) {
                ctx.close(); // RST_STREAM: the request body is no longer wanted
            }
            return;
        }
        if (!reusable || !keepAliveAllowed()) {
            closing = true;
            if (lastWrite != null) {
                lastWrite.addListener(ChannelFutureListener.CLOSE);
            } else {
                ctx.close();
            }
            return;
        }
        if (ctx.channel().isActive()) {
            ctx.read(); // the next request (a pipelined one already decoded comes from Http1PipeliningHandler)
        }
    }
}
