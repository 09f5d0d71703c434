package dev.outrider.proxy.forward;

import dev.outrider.proxy.http.DrainEvent;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
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

import java.util.ArrayDeque;

import static java.util.Objects.requireNonNull;

/**
 * Pipeline position: last handler of a downstream HTTP/1.1 connection, or of an HTTP/2 stream channel.
 * Everything before it has decoded, validated (and later authenticated, authorized, throttled) the request.
 *
 * <p>Runs one {@link Exchange} at a time: HTTP/1.1 requests on a keep-alive connection one after another
 * (a pipelined request waits, fully parsed, until the response before it is done); an HTTP/2 stream channel
 * carries exactly one.
 *
 * <p>Reading: downstream auto-read is off. This handler asks for more bytes only when the exchange can take
 * them (its upstream is connected and writable) or when no exchange runs; see {@link Exchange} for the
 * whole flow-control picture.
 *
 * <p>Threading: every field is used on this channel's event loop only (upstream streams live on the same
 * loop), so none needs {@code volatile}.
 */
public final class ForwardingHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ForwardingHandler.class);

    private final ForwardingContext fc;
    private ChannelHandlerContext ctx;
    private boolean http2;
    private Exchange exchange;
    /** HTTP/1.1 pipelining: messages of the next request, read while the current response is under way. */
    private ArrayDeque<Object> held;
    private boolean closeAfterResponse;

    public ForwardingHandler(ForwardingContext fc) {
        this.fc = requireNonNull(fc, "fc");
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
        Exchange e = exchange;
        if (e != null) {
            if (!e.requestComplete() && msg instanceof HttpContent content) {
                e.onRequestContent(content);
            } else {
                hold(msg);
            }
            return;
        }
        if (msg instanceof HttpRequest request) {
            start(request);
        } else {
            ReferenceCountUtil.release(msg); // the rest of a body whose request was already answered
        }
    }

    private void start(HttpRequest request) {
        HttpContent last = null;
        if (request instanceof FullHttpRequest full) {
            // HTTP/2 HEADERS with END_STREAM: split so every exchange sees request + contents.
            request = new DefaultHttpRequest(full.protocolVersion(), full.method(), full.uri(), full.headers());
            last = new DefaultLastHttpContent(full.content(), full.trailingHeaders());
        }
        Exchange e = new Exchange(this, fc, ctx, request, http2);
        exchange = e;
        if (last != null) {
            e.onRequestContent(last); // before start: the exchange knows the request is complete
        }
        e.start();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        Exchange e = exchange;
        if (e == null) {
            if (ctx.channel().isActive()) {
                ctx.read();
            }
            return;
        }
        e.flushUpstream();
        if (e.wantsRequestBytes()) {
            ctx.read();
        }
    }

    /** The exchange can take request bytes again (its upstream became writable or connected). */
    void resumeRequest() {
        ctx.read();
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
                ctx.close();
            } else {
                closeAfterResponse = true;
            }
            return;
        }
        if (evt instanceof IdleStateEvent) {
            if (exchange == null) {
                ctx.close(); // idle keep-alive connection
            }
            return; // an exchange in progress has its own upstream timeouts
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        Exchange e = exchange;
        if (e != null) {
            e.onDownstreamClosed();
        }
        releaseHeld();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("downstream {} failed", ctx.channel(), cause);
        ctx.close();
    }

    /** Whether a response on HTTP/1.1 may promise to keep the connection open. */
    boolean keepAliveAllowed() {
        return !closeAfterResponse && !fc.drain().isDraining();
    }

    /** The downstream connection (the parent of an HTTP/2 stream). */
    Channel connection() {
        Channel ch = ctx.channel();
        return http2 ? ch.parent() : ch;
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
        boolean close = !reusable || closeAfterResponse || fc.drain().isDraining();
        if (http2) {
            if (!e.requestComplete() || lastWrite == null) {
                ctx.close(); // RST_STREAM: the request body is no longer wanted
            }
            return;
        }
        if (close) {
            releaseHeld();
            if (lastWrite != null) {
                lastWrite.addListener(ChannelFutureListener.CLOSE);
            } else {
                ctx.close();
            }
            return;
        }
        while (exchange == null && held != null && !held.isEmpty()) {
            channelRead(ctx, held.poll());
        }
        if (exchange == null && ctx.channel().isActive()) {
            ctx.read();
        }
    }

    private void hold(Object msg) {
        if (held == null) {
            held = new ArrayDeque<>(4);
        }
        held.add(msg);
    }

    private void releaseHeld() {
        if (held != null) {
            Object m;
            while ((m = held.poll()) != null) {
                ReferenceCountUtil.release(m);
            }
        }
    }
}
