package dev.outrider.proxy.http;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

import java.util.ArrayDeque;
import java.util.Iterator;

/**
 * Pipeline position: HTTP/1.1 connections only, right after {@link Http1ServerCodec} and before
 * {@link RequestGuardHandler}. Every handler after it sees one request at a time.
 *
 * <p>HTTP/1.1 pipelining (RFC 9112 §9.3.2): a client may send requests without waiting for the responses,
 * which must come back in request order. The codec decodes whatever one read brings, so request N+1 is often
 * decoded while the response to request N is still being produced. A handler that answers on its own (the
 * guard's 400/414/431, path normalization's 400, the inbound 401/403, the {@code 100 Continue} of
 * {@code HttpServerExpectContinueHandler}) would then answer N+1 before N. So this handler lets request N
 * through (head, contents, last content) and holds every message from request N+1 on, until the response
 * to N is fully written:
 * <pre>
 *  codec ──▶ [pipelining] ──▶ guard → expect-continue → request handlers → forward
 *               │  held: N+1, its body, N+2, ...                               │
 *               ◀──────── write: the LastHttpContent that ends response N ◀────┘
 *               └──▶ (next event-loop task) N+1 and its held body go on; then channelReadComplete
 * </pre>
 * <ul>
 *   <li>A response ends with the {@link LastHttpContent} written after a final (non-1xx) head, or with a
 *       final {@code FullHttpResponse}; HEAD, 204 and 304 responses end the same way. An interim response
 *       ({@code 100 Continue}) ends nothing.</li>
 *   <li>A held request goes on in the next event-loop task, not inside the write that ended the previous
 *       response: the writer ({@code Exchange}, a local reply) finishes its bookkeeping first.</li>
 *   <li>A final response that says {@code Connection: close} is the last on this connection (RFC 9112
 *       §9.6): once it is written, what is held and whatever is read later is dropped here; the handler that
 *       wrote it closes the connection.</li>
 *   <li>A half-close by the client ({@code ChannelInputShutdownEvent}: TCP FIN) behind held requests is held
 *       too and goes on after the last of them, as a server answers what it was sent before it closes.</li>
 *   <li>At most {@link #MAX_HELD_REQUESTS} requests wait. The request beyond that and everything after it
 *       are dropped, and the last held request goes on as if it said {@code Connection: close}, so its
 *       response says so and the connection closes after it; the client retries what was not answered.</li>
 * </ul>
 *
 * <p>Reading: downstream auto-read is off and the handlers after this one ask for bytes with
 * {@code read()}. While anything is held such requests stop here: what waits is at most what the codec
 * decoded from one read. Held messages that go on are followed by {@code channelReadComplete}, as if they
 * had just been read, so the handlers after this one ask again when they want more.
 *
 * <p>Threading: one instance per connection; every field is used on its event loop only, so none needs
 * {@code volatile}.
 */
public final class Http1PipeliningHandler extends ChannelDuplexHandler {
    /** The most pipelined requests held behind the one being answered. */
    public static final int MAX_HELD_REQUESTS = 16;

    private final Runnable releaseTask = this::releaseHeld;
    private ChannelHandlerContext ctx;
    /** Messages of the requests after the one being answered, in arrival order; created on first use. */
    private ArrayDeque<Object> held;
    /** The requests in {@link #held}. */
    private int heldRequests;
    /** A request went on and its response has not been fully written yet. */
    private boolean answering;
    /** The response being written is interim (1xx): its last content ends nothing. */
    private boolean interim;
    /** The final response being written says {@code Connection: close}. */
    private boolean closeAfterResponse;
    /** A response with {@code Connection: close} was written: everything read from now on is dropped. */
    private boolean closed;
    /** A request beyond {@link #MAX_HELD_REQUESTS} arrived: it and everything after it are dropped. */
    private boolean overflowed;
    /**
     * {@link #releaseHeld} is scheduled or running. Invariant: while something is held and no request is
     * being answered, this is true (so held messages never wait for nothing).
     */
    private boolean releasing;

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (closed || overflowed) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (!isEmpty(held)) {
            hold(msg);
            return;
        }
        if (msg instanceof HttpRequest) {
            if (answering) {
                hold(msg);
                return;
            }
            answering = true;
        }
        ctx.fireChannelRead(msg); // a request's contents follow it while nothing is held
    }

    /**
     * The client half-closed (TCP FIN). Behind held requests the event waits its turn, so they are all
     * answered first and the handlers after this one see it while the last request is being answered.
     */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent && !isEmpty(held)) {
            held.add(evt);
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void read(ChannelHandlerContext ctx) {
        if (isEmpty(held)) {
            ctx.read();
        }
        // else: held messages go on first, followed by channelReadComplete; the handlers ask again then.
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        boolean end = false;
        if (msg instanceof HttpResponse response) {
            interim = response.status().codeClass() == HttpStatusClass.INFORMATIONAL;
            if (!interim) {
                closeAfterResponse = KeepAlive.closesConnection(response);
            }
        }
        if (msg instanceof LastHttpContent) {
            end = !interim;
            interim = false;
        }
        ctx.write(msg, promise); // msg may be released from here on
        if (end) {
            responseWritten();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        discardHeld();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        discardHeld();
    }

    /** The response to the request that went on last is fully written. */
    private void responseWritten() {
        answering = false;
        if (closeAfterResponse) {
            closed = true;
            discardHeld();
            return;
        }
        if (!releasing && !isEmpty(held)) {
            releasing = true;
            ctx.executor().execute(releaseTask);
        }
    }

    /**
     * Lets held messages go on, in order, up to the next request whose predecessor is still being answered.
     * A request answered at once (a local reply) ends its response inside {@code fireChannelRead}: the loop
     * then goes on with the next one.
     */
    private void releaseHeld() {
        if (!ctx.channel().isActive()) {
            releasing = false;
            discardHeld(); // closed meanwhile (drain, idle): nothing more can be answered
            return;
        }
        boolean released = false;
        Object inputShutdown = null;
        try {
            while (!isEmpty(held)) {
                Object msg = held.peek();
                if (msg instanceof HttpRequest) {
                    if (answering) {
                        break;
                    }
                    heldRequests--;
                    answering = true;
                }
                held.poll();
                if (msg instanceof ChannelInputShutdownEvent) {
                    inputShutdown = msg; // always last: nothing is read after the end of the stream
                    continue;
                }
                released = true;
                ctx.fireChannelRead(msg);
            }
        } finally {
            releasing = false;
        }
        if (released) {
            ctx.fireChannelReadComplete();
        }
        if (inputShutdown != null) {
            ctx.fireUserEventTriggered(inputShutdown); // after the read complete, as when read from the socket
        }
    }

    private void hold(Object msg) {
        if (msg instanceof HttpRequest) {
            if (heldRequests == MAX_HELD_REQUESTS) {
                overflowed = true;
                ReferenceCountUtil.release(msg);
                KeepAlive.mark(lastHeldRequest(), false); // answered with Connection: close
                return;
            }
            heldRequests++;
        }
        if (held == null) {
            held = new ArrayDeque<>(8);
        }
        held.add(msg);
    }

    /** The last request in {@link #held}; called with {@link #heldRequests} at its bound, so there is one. */
    private HttpRequest lastHeldRequest() {
        for (Iterator<Object> it = held.descendingIterator(); it.hasNext(); ) {
            if (it.next() instanceof HttpRequest request) {
                return request;
            }
        }
        throw new IllegalStateException("no held request");
    }

    private void discardHeld() {
        if (held != null) {
            Object msg;
            while ((msg = held.poll()) != null) {
                ReferenceCountUtil.release(msg);
            }
        }
        heldRequests = 0;
    }

    private static boolean isEmpty(ArrayDeque<Object> queue) {
        return queue == null || queue.isEmpty();
    }
}
