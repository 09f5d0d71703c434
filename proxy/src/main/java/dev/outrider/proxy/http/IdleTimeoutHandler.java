package dev.outrider.proxy.http;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.concurrent.ScheduledFuture;
import io.netty.util.concurrent.Ticker;

import java.util.concurrent.TimeUnit;

/**
 * Pipeline position: on a connection (downstream or upstream), before its HTTP codec. Fires
 * {@link IdleStateEvent#FIRST_ALL_IDLE_STATE_EVENT} when nothing was read or written on the connection for the
 * timeout, then {@link IdleStateEvent#ALL_IDLE_STATE_EVENT} after every further timeout of silence: the events
 * of Netty's {@code IdleStateHandler(0, 0, timeout)}, for the handlers that act on them.
 *
 * <p>Cheaper per request than Netty's handler, which reads the clock after every read and puts a listener on
 * every write's promise: here a read or a write only sets a flag, and a timer that runs every quarter of the
 * timeout looks at it. So the event comes between 1 and 1.25 timeouts after the last read or write.
 *
 * <p>Threading: one instance per connection; its event loop only.
 */
public final class IdleTimeoutHandler extends ChannelDuplexHandler {
    private final long timeoutNanos;
    private final long periodNanos;
    private final Runnable checkTask = this::check;
    private ChannelHandlerContext ctx;
    private Ticker ticker;
    private ScheduledFuture<?> timer;
    /** A read or a write since the timer last looked. */
    private boolean active;
    /** When the timer last saw activity (or started, or fired). */
    private long quietSinceNanos;
    private boolean first = true;
    private boolean stopped;

    /** @param timeoutNanos the idle timeout; 0 or less: never idle */
    public IdleTimeoutHandler(long timeoutNanos) {
        this.timeoutNanos = timeoutNanos;
        this.periodNanos = Math.max(TimeUnit.MILLISECONDS.toNanos(1), timeoutNanos / 4);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.ticker = ctx.executor().ticker(); // the clock the timer runs on
        if (ctx.channel().isActive() && ctx.channel().isRegistered()) {
            start();
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        stop();
    }

    @Override
    public void channelRegistered(ChannelHandlerContext ctx) {
        if (ctx.channel().isActive()) {
            start();
        }
        ctx.fireChannelRegistered();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        start();
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        stop();
        ctx.fireChannelInactive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        active = true;
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        active = true;
        ctx.write(msg, promise);
    }

    private void start() {
        if (timer != null || stopped || timeoutNanos <= 0) {
            return;
        }
        quietSinceNanos = ticker.nanoTime();
        timer = ctx.executor().schedule(checkTask, periodNanos, TimeUnit.NANOSECONDS);
    }

    private void stop() {
        stopped = true;
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    private void check() {
        timer = null;
        if (stopped || !ctx.channel().isOpen()) {
            return;
        }
        long now = ticker.nanoTime();
        if (active) {
            active = false;
            quietSinceNanos = now;
            first = true;
        } else if (now - quietSinceNanos >= timeoutNanos) {
            quietSinceNanos = now;
            IdleStateEvent event = first ? IdleStateEvent.FIRST_ALL_IDLE_STATE_EVENT
                    : IdleStateEvent.ALL_IDLE_STATE_EVENT;
            first = false;
            ctx.fireUserEventTriggered(event);
        }
        if (!stopped) {
            timer = ctx.executor().schedule(checkTask, periodNanos, TimeUnit.NANOSECONDS);
        }
    }
}
