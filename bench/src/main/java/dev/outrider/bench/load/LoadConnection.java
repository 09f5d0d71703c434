package dev.outrider.bench.load;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

import java.util.ArrayDeque;

import static java.util.Objects.requireNonNull;

/**
 * One client connection of the load generator: the last handler of its pipeline, behind the protocol
 * codec. Subclasses write one request ({@link #send}) and call {@link #completed} once per response.
 *
 * <pre>
 *   dispatcher thread ──submit(intended start)──▶ waiting ──(fewer than maxInFlight in flight)──▶ send
 *   closed loop: each completion submits the next request, started "now"
 * </pre>
 *
 * <p>Threading: every field is touched on the channel's event loop only ({@link #submit} hops onto it), so
 * none needs {@code volatile}; {@link #closedLoop} is written once before the channel is connected.
 */
abstract class LoadConnection extends ChannelInboundHandlerAdapter {
    final LoadStats stats;
    final RequestTemplate request;
    private final int maxInFlight;
    /** Intended start times (System.nanoTime) of requests accepted but not yet written. */
    private final ArrayDeque<Long> waiting = new ArrayDeque<>();
    private int inFlight;
    private boolean closedLoop;
    private boolean stopped;
    private boolean dead;
    ChannelHandlerContext ctx;

    LoadConnection(LoadStats stats, RequestTemplate request, int maxInFlight) {
        this.stats = requireNonNull(stats, "stats");
        this.request = requireNonNull(request, "request");
        this.maxInFlight = maxInFlight;
    }

    /** Writes one request started at {@code startNanos}; the subclass remembers it until its response. */
    abstract void send(long startNanos);

    /** Fails every request the subclass has in flight (the connection is gone). */
    abstract int abandonInFlight();

    /** On any thread: queue one request whose intended start is {@code intendedNanos}. */
    final void submit(long intendedNanos) {
        Channel ch = ctx.channel();
        ch.eventLoop().execute(() -> {
            if (dead) {
                stats.fail();
                return;
            }
            waiting.add(intendedNanos);
            drain();
        });
    }

    /** On any thread: keep maxInFlight requests in flight, each started when the previous answer arrived. */
    final void startClosedLoop() {
        ctx.channel().eventLoop().execute(() -> {
            closedLoop = true;
            for (int i = 0; i < maxInFlight && !dead; i++) {
                stats.outstanding.incrementAndGet();
                waiting.add(System.nanoTime());
            }
            drain();
        });
    }

    /** On any thread: the closed loop sends no new request; those in flight finish. */
    final void stop() {
        ctx.channel().eventLoop().execute(() -> stopped = true);
    }

    /** Called by the subclass on the event loop when the response to a request started at startNanos ended. */
    final void completed(long startNanos, boolean success) {
        long now = System.nanoTime();
        inFlight--;
        stats.complete(startNanos, now, success);
        if (closedLoop && !stopped && !dead) {
            stats.outstanding.incrementAndGet();
            waiting.add(now);
        }
        drain();
    }

    /** Called by the subclass when one in-flight request failed (reset stream) and the connection lives on. */
    final void failed() {
        inFlight--;
        stats.fail();
        drain();
    }

    private void drain() {
        boolean wrote = false;
        while (inFlight < maxInFlight && !waiting.isEmpty() && !dead) {
            inFlight++;
            send(waiting.poll());
            wrote = true;
        }
        if (wrote) {
            ctx.flush();
        }
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        dead = true;
        int lost = abandonInFlight() + waiting.size();
        waiting.clear();
        inFlight = 0;
        for (int i = 0; i < lost; i++) {
            stats.fail();
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
