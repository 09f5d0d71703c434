package dev.outrider.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2ConnectionDecoder;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Flags;
import io.netty.handler.codec.http2.Http2FrameListener;
import io.netty.handler.codec.http2.Http2FrameListenerDecorator;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Settings;

import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * Pipeline position: HTTP/2 connections only, right after the {@code Http2FrameCodec} and before the
 * multiplexer. It decorates the codec's frame listener to learn when the codec has read a whole frame.
 *
 * <p>{@code http.requestHeaderTimeout} on HTTP/2, where a header block is one HEADERS frame and any number of
 * CONTINUATION frames that nothing may interleave (RFC 9113 §6.10), and Netty's frame reader reports the
 * block only once it is complete. Two bounds, both ending in GOAWAY and close (the codec's graceful close:
 * streams already open may finish, within the drain timeout):
 * <ul>
 *   <li>the connection's first complete HEADERS must arrive by the deadline counted from the accept
 *       ({@link FirstRequestDeadlineHandler}): a client that completes TLS and sends only a preface, or a
 *       first header block that never ends, is closed;</li>
 *   <li>after that, once a read brings bytes but the codec completes no frame from them, the next frame must
 *       complete within the timeout. A header block in progress completes no frame until its END_HEADERS, so a
 *       block dripped a byte at a time, or a HEADERS frame followed by CONTINUATION bytes that stop, is closed;
 *       so is any other frame that takes that long to arrive (at most 16 KiB: the sidecar never raises
 *       SETTINGS_MAX_FRAME_SIZE). Netty itself refuses more than 16 small CONTINUATION frames per block.</li>
 * </ul>
 * Limits: Netty exposes neither "a header block is in progress" nor its buffered bytes, so a read that
 * completes one frame and also brings the start of the next header block, after which the client sends nothing
 * at all, starts no timer; that connection is then closed by {@code http.idleTimeout} (no byte arrives to reset
 * it). And frames the codec drops without reporting them (DATA for a stream already reset) count as no
 * progress: a client that sends nothing else for the whole timeout is closed.
 *
 * <p>Threading: one instance per connection; every field is used on its event loop only (the codec calls its
 * listener there), so none needs {@code volatile}.
 */
final class Http2HeaderTimeoutHandler extends ChannelInboundHandlerAdapter {
    private final Http2ConnectionDecoder decoder;
    private final long timeoutNanos;
    private final long firstDeadlineNanos;
    private final Runnable expire = this::expire;
    private ChannelHandlerContext ctx;
    private ScheduledFuture<?> timer;
    /** A complete HEADERS frame has arrived: from now on the timer follows frame progress. */
    private boolean headersSeen;
    /** The codec completed a frame during the current read. */
    private boolean frameRead;

    /**
     * @param decoder            the frame codec's decoder, whose listener is decorated
     * @param firstDeadlineNanos when the first HEADERS must be complete ({@link System#nanoTime()})
     */
    Http2HeaderTimeoutHandler(Http2ConnectionDecoder decoder, long timeoutNanos, long firstDeadlineNanos) {
        this.decoder = requireNonNull(decoder, "decoder");
        this.timeoutNanos = timeoutNanos;
        this.firstDeadlineNanos = firstDeadlineNanos;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        decoder.frameListener(new FrameProgress(decoder.frameListener()));
        schedule(firstDeadlineNanos - System.nanoTime());
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (headersSeen) {
            if (frameRead) {
                cancel();
            } else if (timer == null) {
                schedule(timeoutNanos);
            }
        }
        frameRead = false;
        ctx.fireChannelReadComplete();
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

    private void frameRead(boolean headers) {
        frameRead = true;
        if (headers && !headersSeen) {
            headersSeen = true;
            cancel(); // the first request's header block is complete
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
        ctx.close(); // through the codec: GOAWAY, then close once open streams end
    }

    /** Notes every frame the codec completes, then hands it on unchanged. */
    private final class FrameProgress extends Http2FrameListenerDecorator {
        FrameProgress(Http2FrameListener listener) {
            super(listener);
        }

        @Override
        public int onDataRead(ChannelHandlerContext ctx, int streamId, ByteBuf data, int padding,
                              boolean endOfStream) throws Http2Exception {
            frameRead(false);
            return super.onDataRead(ctx, streamId, data, padding, endOfStream);
        }

        @Override
        public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int padding,
                                  boolean endStream) throws Http2Exception {
            frameRead(true);
            super.onHeadersRead(ctx, streamId, headers, padding, endStream);
        }

        @Override
        public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers,
                                  int streamDependency, short weight, boolean exclusive, int padding,
                                  boolean endStream) throws Http2Exception {
            frameRead(true);
            super.onHeadersRead(ctx, streamId, headers, streamDependency, weight, exclusive, padding, endStream);
        }

        @Override
        public void onPriorityRead(ChannelHandlerContext ctx, int streamId, int streamDependency, short weight,
                                   boolean exclusive) throws Http2Exception {
            frameRead(false);
            super.onPriorityRead(ctx, streamId, streamDependency, weight, exclusive);
        }

        @Override
        public void onRstStreamRead(ChannelHandlerContext ctx, int streamId, long errorCode) throws Http2Exception {
            frameRead(false);
            super.onRstStreamRead(ctx, streamId, errorCode);
        }

        @Override
        public void onSettingsAckRead(ChannelHandlerContext ctx) throws Http2Exception {
            frameRead(false);
            super.onSettingsAckRead(ctx);
        }

        @Override
        public void onSettingsRead(ChannelHandlerContext ctx, Http2Settings settings) throws Http2Exception {
            frameRead(false);
            super.onSettingsRead(ctx, settings);
        }

        @Override
        public void onPingRead(ChannelHandlerContext ctx, long data) throws Http2Exception {
            frameRead(false);
            super.onPingRead(ctx, data);
        }

        @Override
        public void onPingAckRead(ChannelHandlerContext ctx, long data) throws Http2Exception {
            frameRead(false);
            super.onPingAckRead(ctx, data);
        }

        @Override
        public void onPushPromiseRead(ChannelHandlerContext ctx, int streamId, int promisedStreamId,
                                      Http2Headers headers, int padding) throws Http2Exception {
            frameRead(false);
            super.onPushPromiseRead(ctx, streamId, promisedStreamId, headers, padding);
        }

        @Override
        public void onGoAwayRead(ChannelHandlerContext ctx, int lastStreamId, long errorCode, ByteBuf debugData)
                throws Http2Exception {
            frameRead(false);
            super.onGoAwayRead(ctx, lastStreamId, errorCode, debugData);
        }

        @Override
        public void onWindowUpdateRead(ChannelHandlerContext ctx, int streamId, int windowSizeIncrement)
                throws Http2Exception {
            frameRead(false);
            super.onWindowUpdateRead(ctx, streamId, windowSizeIncrement);
        }

        @Override
        public void onUnknownFrame(ChannelHandlerContext ctx, byte frameType, int streamId, Http2Flags flags,
                                   ByteBuf payload) throws Http2Exception {
            frameRead(false);
            super.onUnknownFrame(ctx, frameType, streamId, flags, payload);
        }
    }
}
