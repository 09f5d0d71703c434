package dev.outrider.proxy.http;

import io.netty.channel.ChannelHandlerAdapter;
import io.netty.channel.ChannelHandlerContext;

import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Pipeline position: right after the tracker of a downstream connection, before TLS (inbound) or protocol
 * detection (plaintext), from the moment the connection is accepted.
 *
 * <p>A connection's first request must have its whole header block in by {@code http.requestHeaderTimeout}
 * after the accept, TLS handshake and protocol detection included. This handler holds that deadline until
 * {@link DownstreamHttp} installs HTTP/1.1 or HTTP/2: it then removes this handler and hands the deadline to
 * the protocol's header timer ({@link Http1HeaderTimeoutHandler}, {@link Http2HeaderTimeoutHandler}), which
 * answers when it passes. Should the deadline pass before that (a handshake or a preface that never
 * completes), there is no HTTP codec to answer with: the connection is closed.
 *
 * <p>Threading: one instance per connection, used on its event loop only.
 */
final class FirstRequestDeadlineHandler extends ChannelHandlerAdapter {
    private final long deadlineNanos;
    private ScheduledFuture<?> timer;

    /** @param timeoutNanos the header timeout; the deadline counts from now (the accept) */
    FirstRequestDeadlineHandler(long timeoutNanos) {
        this.deadlineNanos = System.nanoTime() + timeoutNanos;
    }

    /** When the connection's first request header block must be complete ({@link System#nanoTime()} clock). */
    long deadlineNanos() {
        return deadlineNanos;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        timer = ctx.executor().schedule(() -> {
            ctx.channel().close();
        }, deadlineNanos - System.nanoTime(), TimeUnit.NANOSECONDS);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }
}
