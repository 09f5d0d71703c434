package dev.outrider.proxy.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class IdleTimeoutHandlerTest {
    private static final long TIMEOUT_MS = 1000;

    private final List<IdleStateEvent> events = new ArrayList<>();
    private final EmbeddedChannel ch = new EmbeddedChannel(
            new IdleTimeoutHandler(TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS)),
            new ChannelInboundHandlerAdapter() {
                @Override
                public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                    events.add((IdleStateEvent) evt);
                }

                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    ReferenceCountUtil.release(msg);
                }
            });

    private void advance(long millis) {
        for (long t = 0; t < millis; t += 50) {
            ch.advanceTimeBy(50, TimeUnit.MILLISECONDS);
            ch.runScheduledPendingTasks();
        }
    }

    @Test
    void aSilentConnectionIsIdleAfterTheTimeoutAndNotBefore() {
        advance(950);
        assertThat(events).isEmpty();
        advance(300); // within a quarter of the timeout after it
        assertThat(events).containsExactly(IdleStateEvent.FIRST_ALL_IDLE_STATE_EVENT);
        advance(TIMEOUT_MS + 300);
        assertThat(events).containsExactly(IdleStateEvent.FIRST_ALL_IDLE_STATE_EVENT,
                IdleStateEvent.ALL_IDLE_STATE_EVENT);
        ch.finishAndReleaseAll();
    }

    @Test
    void readsAndWritesKeepTheConnectionBusy() {
        for (int i = 0; i < 6; i++) {
            advance(400);
            if (i % 2 == 0) {
                ch.writeInbound(Unpooled.wrappedBuffer(new byte[]{1}));
            } else {
                ch.writeOutbound(Unpooled.wrappedBuffer(new byte[]{2}));
            }
        }
        assertThat(events).isEmpty();
        advance(TIMEOUT_MS + 300);
        assertThat(events).containsExactly(IdleStateEvent.FIRST_ALL_IDLE_STATE_EVENT);
        ch.finishAndReleaseAll();
    }

    @Test
    void activityAfterAnIdleEventStartsAFreshFirstEvent() {
        advance(TIMEOUT_MS + 300);
        ch.writeInbound(Unpooled.wrappedBuffer(new byte[]{1}));
        advance(TIMEOUT_MS + 300);
        assertThat(events).containsExactly(IdleStateEvent.FIRST_ALL_IDLE_STATE_EVENT,
                IdleStateEvent.FIRST_ALL_IDLE_STATE_EVENT);
        ch.finishAndReleaseAll();
    }

    @Test
    void aClosedConnectionFiresNothing() {
        ch.close();
        advance(3 * TIMEOUT_MS);
        assertThat(events).isEmpty();
        ch.finishAndReleaseAll();
    }
}
