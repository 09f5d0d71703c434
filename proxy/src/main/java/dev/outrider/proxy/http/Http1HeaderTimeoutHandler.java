package dev.outrider.proxy.http;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * Pipeline position: HTTP/1.1 connections only, right after {@link Http1ServerCodec} and before
 * {@link Http1PipeliningHandler}: it sees every request head as the codec decodes it, and every response as it
 * goes out.
 *
 * <p>{@code http.requestHeaderTimeout}: a request's header block must be complete within the timeout of its
 * first byte; otherwise the connection gets {@code 408 Request Timeout} and is closed
 * ({@link LocalResponses#respondAndClose}),
 * and nothing of the request goes further. The timer runs:
 * <ul>
 *   <li>for the connection's first request, from the accept (the deadline comes from
 *       {@link FirstRequestDeadlineHandler}, so the TLS handshake counts) until its head is decoded, whether
 *       bytes arrive or not;</li>
 *   <li>for each later request, from the first read that brings bytes while the connection waits for a request
 *       (every earlier request decoded to its end and answered) until its head is decoded. A read counts when
 *       the codec now holds part of a header block, or when it produced no HTTP message at all: its bytes are
 *       still in the codec or in TLS (a record sent a byte at a time). Bytes of a request that arrive while an
 *       earlier one is being answered (pipelining) start the timer when that answer is written, not before:
 *       the wait is the sidecar's, not the client's, and a 408 must not overtake a response.</li>
 * </ul>
 * It never runs while a keep-alive connection waits idle between requests ({@code http.idleTimeout} does),
 * nor after a response that says {@code Connection: close}.
 *
 * <p>Threading: one instance per connection; every field is used on its event loop only, so none needs
 * {@code volatile}.
 */
final class Http1HeaderTimeoutHandler extends ChannelDuplexHandler {
    static final String MESSAGE = "request header timeout";
    private static final LocalRejection TIMED_OUT = new LocalRejection(HttpResponseStatus.REQUEST_TIMEOUT, MESSAGE);

    private final Http1ServerCodec codec;
    private final long timeoutNanos;
    private final long firstDeadlineNanos;
    private final Runnable expire = this::expire;
    private ChannelHandlerContext ctx;
    private ScheduledFuture<?> timer;
    /** The connection's first request head has been decoded: later timers start at a first byte. */
    private boolean firstRequestSeen;
    /** Request heads decoded minus final responses fully written. */
    private int unanswered;
    /** The response being written is interim (1xx): its end answers nothing. */
    private boolean interim;
    /** The codec produced an HTTP message during the current read. */
    private boolean decodedThisRead;
    /** A final response said {@code Connection: close}, or the timeout was answered: no timer from now on. */
    private boolean closing;
    /** The timeout was answered: everything read from now on is dropped (lingering close). */
    private boolean timedOut;

    /**
     * @param firstDeadlineNanos when the first request's header block must be complete ({@link System#nanoTime()})
     */
    Http1HeaderTimeoutHandler(Http1ServerCodec codec, long timeoutNanos, long firstDeadlineNanos) {
        this.codec = requireNonNull(codec, "codec");
        this.timeoutNanos = timeoutNanos;
        this.firstDeadlineNanos = firstDeadlineNanos;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        schedule(firstDeadlineNanos - System.nanoTime());
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (timedOut) {
            ReferenceCountUtil.release(msg);
            return;
        }
        decodedThisRead = true;
        if (msg instanceof HttpRequest) {
            cancel(); // the header block is complete (or the codec refused it: the guard answers)
            firstRequestSeen = true;
            unanswered++;
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (waitingForRequest() && (codec.headerBlockStarted() || !decodedThisRead)) {
            startTimer();
        }
        decodedThisRead = false;
        ctx.fireChannelReadComplete();
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        boolean end = false;
        if (msg instanceof HttpResponse response) {
            interim = response.status().codeClass() == HttpStatusClass.INFORMATIONAL;
            if (!interim && KeepAlive.closesConnection(response)) {
                closing = true;
            }
        }
        if (msg instanceof LastHttpContent) {
            end = !interim;
            interim = false;
        }
        ctx.write(msg, promise); // msg may be released from here on
        if (end && unanswered > 0) {
            unanswered--;
            if (waitingForRequest() && codec.headerBlockStarted()) {
                startTimer(); // the next request began arriving while this one was answered
            }
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancel();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancel();
    }

    /** Past the first request, nothing being answered, the codec between requests, no close decided. */
    private boolean waitingForRequest() {
        return firstRequestSeen && unanswered == 0 && !closing && codec.awaitingHeaders();
    }

    private void startTimer() {
        if (timer == null) {
            schedule(timeoutNanos);
        }
    }

    private void schedule(long delayNanos) {
        timer = ctx.executor().schedule(expire, Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
    }

    private void cancel() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    private void expire() {
        timer = null;
        if (closing || unanswered > 0 || !ctx.channel().isActive()) {
            return; // a request is being answered, or the connection is ending anyway
        }
        timedOut = true;
        closing = true;
        LocalResponses.respondAndClose(ctx, TIMED_OUT);
    }
}
