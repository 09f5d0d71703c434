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
 * <p>Runs one {@link Exchange} at a time: HTTP/1.1 requests on a keep-alive connection one after another;
 * an HTTP/2 stream channel carries exactly one.
 *
 * <p>HTTP/1.1 pipelining: what the codec decodes after the current request is complete (the next requests
 * and their bodies, often from the same read as the current request) waits in {@link #held}, in arrival
 * order. When the response is done, the next held request starts an exchange together with the held part of
 * its body, so the exchange knows at once whether its request is complete; the rest stays held for the
 * exchanges after it. At most {@link #MAX_HELD_REQUESTS} requests wait: the requests after that are dropped
 * and the connection closes after the response to the last held one (which says {@code Connection: close});
 * a pipelining client retries what was not answered (RFC 9112 §9.3.2).
 *
 * <p>Reading: downstream auto-read is off. This handler asks for more bytes only when nothing is held and
 * either the exchange can take them (its upstream is connected and writable and the request is not complete)
 * or no exchange runs; see {@link Exchange} for the whole flow-control picture. So what is held never
 * exceeds what the codec decoded from one read.
 *
 * <p>Threading: every field is used on this channel's event loop only (upstream streams live on the same
 * loop), so none needs {@code volatile}.
 */
public final class ForwardingHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ForwardingHandler.class);

    /** HTTP/1.1 pipelining: the most requests held behind the one in progress. */
    static final int MAX_HELD_REQUESTS = 16;

    private final ForwardingContext fc;
    private ChannelHandlerContext ctx;
    private boolean http2;
    private Exchange exchange;
    /**
     * HTTP/1.1 pipelining: messages of the next requests, read while the current exchange runs with its
     * request complete. Non-empty only while an exchange runs whose request is complete.
     */
    private ArrayDeque<Object> held;
    /** The requests in {@link #held}. */
    private int heldRequests;
    /** {@link #held} is being replayed; an exchange that ends meanwhile leaves the next start to the replay. */
    private boolean replaying;
    /** A pipelined request beyond {@link #MAX_HELD_REQUESTS} arrived: it and all that follows are dropped. */
    private boolean overflowed;
    /** The connection closes (after the last response is written): nothing more is read or started. */
    private boolean closing;
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
        if (closing || overflowed) {
            ReferenceCountUtil.release(msg);
            return;
        }
        Exchange e = exchange;
        if (e != null) {
            if (!e.requestComplete() && msg instanceof HttpContent content && isEmpty(held)) {
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
        e.flushUpstream();
        if (e.wantsRequestBytes() && isEmpty(held)) {
            ctx.read();
        }
    }

    /**
     * The exchange can take request bytes again (its upstream became writable or connected). Never while
     * something is held: then the exchange's request is complete, and reading would only add to what waits.
     */
    void resumeRequest() {
        if (!closing && !replaying && isEmpty(held)) {
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

    /**
     * Whether a response on HTTP/1.1 may promise to keep the connection open: not while draining, and not for
     * the last held request once pipelined requests had to be dropped.
     */
    boolean keepAliveAllowed() {
        return !closeAfterResponse && !fc.drain().isDraining() && !(overflowed && heldRequests == 0);
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
        boolean close = !reusable || closeAfterResponse || fc.drain().isDraining()
                || (overflowed && heldRequests == 0);
        if (http2) {
            if (!e.requestComplete() || lastWrite == null) {
                ctx.close(); // RST_STREAM: the request body is no longer wanted
            }
            return;
        }
        if (close) {
            closing = true;
            releaseHeld();
            if (lastWrite != null) {
                lastWrite.addListener(ChannelFutureListener.CLOSE);
            } else {
                ctx.close();
            }
            return;
        }
        if (replaying) {
            return; // ended while being started by replayHeld(), which goes on with the next held request
        }
        replayHeld();
        if (exchange == null && !closing && ctx.channel().isActive()) {
            ctx.read();
        }
    }

    /**
     * Starts exchanges for held requests until one is still running (or nothing is held). Each exchange gets
     * the held part of its request body before it starts. An exchange that ends while it starts (a local
     * response) does not recurse into this method: the loop takes the next request.
     */
    private void replayHeld() {
        replaying = true;
        try {
            while (exchange == null && !closing && !isEmpty(held)) {
                Object msg = pollHeld();
                if (!(msg instanceof HttpRequest request)) {
                    ReferenceCountUtil.release(msg); // the rest of a body whose request was already answered
                    continue;
                }
                Exchange e = new Exchange(this, fc, ctx, request, false);
                exchange = e;
                while (!e.requestComplete() && held.peek() instanceof HttpContent) {
                    e.onRequestContent((HttpContent) pollHeld());
                }
                e.start();
            }
        } finally {
            replaying = false;
        }
        Exchange e = exchange;
        if (e != null && !closing && e.wantsRequestBytes() && isEmpty(held)) {
            ctx.read(); // the rest of its body (its upstream was ready while the replay ran)
        }
    }

    private void hold(Object msg) {
        if (msg instanceof HttpRequest) {
            if (heldRequests >= MAX_HELD_REQUESTS) {
                // Too deep a pipeline: this request and everything after it are dropped; the connection
                // closes once the held requests are answered.
                overflowed = true;
                ReferenceCountUtil.release(msg);
                return;
            }
            heldRequests++;
        }
        if (held == null) {
            held = new ArrayDeque<>(4);
        }
        held.add(msg);
    }

    private Object pollHeld() {
        Object msg = held.poll();
        if (msg instanceof HttpRequest) {
            heldRequests--;
        }
        return msg;
    }

    private void releaseHeld() {
        if (held != null) {
            Object m;
            while ((m = held.poll()) != null) {
                ReferenceCountUtil.release(m);
            }
        }
        heldRequests = 0;
    }

    private static boolean isEmpty(ArrayDeque<Object> queue) {
        return queue == null || queue.isEmpty();
    }
}
