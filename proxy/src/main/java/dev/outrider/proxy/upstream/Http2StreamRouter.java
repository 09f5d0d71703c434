package dev.outrider.proxy.upstream;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.VoidChannelPromise;
import io.netty.handler.codec.http.HttpScheme;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2ChannelDuplexHandler;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2FrameStreamEvent;
import io.netty.handler.codec.http2.Http2FrameStreamException;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.collection.IntObjectHashMap;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The one handler of an upstream HTTP/2 connection after {@link Http2FrameCodec}: it opens streams
 * ({@link Http2FrameCodec}'s frame streams, no child channel and no pipeline per stream), writes their frames and
 * routes what the upstream sends by stream id to the {@link Http2UpstreamStream} that owns it. It also reads the
 * connection's SETTINGS (max concurrent streams) and GOAWAY for {@link Http2Connection}, and keeps one timer for
 * the idle timeout of all its streams.
 *
 * <p>Pipeline: [tls →] idle (connection) → h2 ({@link Http2FrameCodec}) → <b>streams</b> (this, last).
 *
 * <p>Threading: the connection's event loop only; no field needs {@code volatile}.
 */
final class Http2StreamRouter extends Http2ChannelDuplexHandler {
    private static final AsciiString HTTPS = HttpScheme.HTTPS.name();
    private static final AsciiString HTTP = HttpScheme.HTTP.name();

    private final Http2Connection owner;
    private final long idleNanos;
    /** Streams whose HEADERS went out and whose lease is not over, by stream id. */
    private final IntObjectHashMap<Http2UpstreamStream> streams = new IntObjectHashMap<>();
    /** Streams that delivered something in the current read pass: they get a read-complete at its end. */
    private final List<Http2UpstreamStream> readComplete = new ArrayList<>(4);
    private final Runnable checkIdle = this::checkIdle;
    private ChannelHandlerContext ctx;
    /** The codec's view of the connection: streams, flow controllers. */
    private io.netty.handler.codec.http2.Http2Connection connection;
    private ChannelPromise quietVoid;
    private AsciiString scheme = HTTP;
    private boolean reading;
    private ScheduledFuture<?> idleCheck;

    Http2StreamRouter(Http2Connection owner, long idleNanos) {
        this.owner = owner;
        this.idleNanos = idleNanos;
    }

    @Override
    protected void handlerAdded0(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.connection = ((Http2FrameCodec) ctx.pipeline().context(Http2FrameCodec.class).handler()).connection();
        this.quietVoid = new VoidChannelPromise(ctx.channel(), false); // failures end streams, not the connection
        this.scheme = ctx.pipeline().get(SslHandler.class) != null ? HTTPS : HTTP;
    }

    /** Whether a new stream can be opened now (the handler is in place and the connection open). */
    boolean active() {
        return ctx != null && !ctx.isRemoved() && ctx.channel().isActive();
    }

    Http2UpstreamStream newStream(Endpoint endpoint) {
        return new Http2UpstreamStream(this, newStream(), endpoint);
    }

    // ---- for the streams

    AsciiString scheme() {
        return scheme;
    }

    ByteBufAllocator alloc() {
        return ctx.alloc();
    }

    ChannelFuture failed(Throwable cause) {
        return ctx.newFailedFuture(cause);
    }

    /** Writes a stream's first HEADERS frame; the codec gives the stream its id and it joins the routing. */
    ChannelFuture writeHeaders(Http2UpstreamStream s, Http2HeadersFrame frame) {
        ChannelPromise promise = ctx.newPromise();
        ctx.write(frame, promise);
        int id = frame.stream().id();
        Http2Stream codecStream = Http2CodecUtil.isStreamIdValid(id) ? connection.stream(id) : null;
        if (codecStream != null && codecStream.state() != Http2Stream.State.CLOSED) { // else the promise failed
            s.started(codecStream);
            streams.put(id, s);
            armIdleCheck();
        }
        return promise;
    }

    void write(Http2StreamFrame frame) {
        ctx.write(frame, quietVoid);
    }

    void flush() {
        ctx.flush();
    }

    void reset(Http2FrameStream stream, Http2Error error) {
        if (ctx.channel().isActive()) {
            ctx.write(new DefaultHttp2ResetFrame(error).stream(stream), quietVoid);
            ctx.flush();
        }
    }

    boolean isWritable(Http2Stream stream) {
        return connection.remote().flowController().isWritable(stream);
    }

    /** Gives {@code bytes} of {@code stream} back to the upstream's window (a WINDOW_UPDATE when due). */
    void consume(Http2Stream stream, int bytes) {
        try {
            if (connection.local().flowController().consumeBytes(stream, bytes) && !reading) {
                ctx.flush(); // in a read pass the codec flushes at its end
            }
        } catch (Http2Exception e) {
            exceptionCaught(ctx, e);
        }
    }

    void readCompleteLater(Http2UpstreamStream s) {
        if (!s.readCompletePending) {
            s.readCompletePending = true;
            readComplete.add(s);
        }
    }

    void notifyClosedLater(Http2UpstreamStream s) {
        executeLater(s::notifyClosed);
    }

    /** Runs {@code task} from a task of its own (not inside the codec's callback); at once if the loop is ending. */
    void executeLater(Runnable task) {
        try {
            ctx.executor().execute(task);
        } catch (RejectedExecutionException e) {
            task.run();
        }
    }

    /** The stream's lease is over or its close was reported: frames of its id are no longer routed. */
    void detach(Http2UpstreamStream s) {
        int id = s.id();
        if (Http2CodecUtil.isStreamIdValid(id) && streams.get(id) == s) {
            streams.remove(id);
        }
    }

    void streamEnded() {
        owner.streamEnded();
    }

    // ---- from the codec

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        reading = true;
        if (msg instanceof Http2StreamFrame frame) {
            Http2UpstreamStream s = frame.stream() == null ? null : streams.get(frame.stream().id());
            if (s == null) {
                unrouted(frame);
            } else if (frame instanceof Http2DataFrame data) {
                s.onData(data); // the content moves on
            } else if (frame instanceof Http2HeadersFrame headers) {
                s.onHeaders(headers);
            } else if (frame instanceof Http2ResetFrame reset) {
                s.onReset(reset.errorCode()); // the codec closes the stream right after
            } else {
                ReferenceCountUtil.release(frame); // WINDOW_UPDATE, PRIORITY, unknown frame types
            }
            return;
        }
        try {
            if (msg instanceof Http2SettingsFrame settings) {
                Long max = settings.settings().maxConcurrentStreams();
                if (max != null) {
                    owner.maxStreams(max);
                }
            } else if (msg instanceof Http2GoAwayFrame goAway) {
                onGoAway(goAway.lastStreamId());
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    /**
     * A frame of no stream we route: a stream whose lease ended (dropped) or one the upstream opened, which it
     * may not (server push is off in our SETTINGS): reset.
     */
    private void unrouted(Http2StreamFrame frame) {
        try {
            Http2FrameStream stream = frame.stream();
            if (stream != null && frame instanceof Http2HeadersFrame && !connection.local().isValidStreamId(stream.id())
                    && stream.state() != Http2Stream.State.CLOSED) {
                reset(stream, Http2Error.CANCEL);
            }
        } finally {
            ReferenceCountUtil.release(frame);
        }
    }

    /** Streams above the GOAWAY's last stream id were not processed; the codec closes them right after. */
    private void onGoAway(int lastStreamId) {
        owner.goingAway();
        if (lastStreamId == Integer.MAX_VALUE) {
            return;
        }
        for (Http2UpstreamStream s : streams.values()) {
            if (s.id() > lastStreamId) {
                s.onGoAway();
            }
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        try {
            for (int i = 0; i < readComplete.size(); i++) { // a read-complete may add streams: index loop
                readComplete.get(i).readComplete();
            }
        } finally {
            readComplete.clear();
            reading = false;
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof Http2FrameStreamEvent event) {
            Http2UpstreamStream s = streams.get(event.stream().id());
            if (s == null) {
                return;
            }
            if (event.type() == Http2FrameStreamEvent.Type.Writability) {
                s.writabilityChanged();
            } else if (event.stream().state() == Http2Stream.State.CLOSED) {
                s.onClosed();
            }
            return;
        }
        if (evt instanceof IdleStateEvent) {
            if (owner.openStreams() == 0) { // the connection's own idle timeout: no stream for that long
                owner.goingAway();
                ctx.close();
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof Http2FrameStreamException e) {
            Http2UpstreamStream s = streams.get(e.stream().id());
            if (s != null) {
                s.fail(e.getCause(), e.error());
            } else {
                reset(e.stream(), e.error());
            }
            return;
        }
        owner.goingAway();
        for (Http2UpstreamStream s : streams.values()) {
            s.failedWith(cause); // reported when the close below closes the stream
        }
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        owner.goingAway();
        for (Http2UpstreamStream s : List.copyOf(streams.values())) {
            if (!s.isClosed()) {
                s.onClosed(); // the codec closed its streams already; this covers any it did not know
            }
        }
        ctx.fireChannelInactive(); // the idle timer goes on while streams still hold what was not read yet
    }

    // ---- idle timeout of the streams: one timer for the connection

    private void armIdleCheck() {
        if (idleCheck == null && idleNanos > 0) {
            idleCheck = ctx.executor().schedule(checkIdle, idleNanos, TimeUnit.NANOSECONDS);
        }
    }

    /**
     * Tells each stream that had no sign of life (a frame delivered or written) for the idle timeout, then sleeps
     * until the next stream could be idle. As an IdleStateHandler per stream did: once per idle period, also after
     * the connection closed while a stream still holds response objects nobody read. Stops when no stream is left.
     */
    private void checkIdle() {
        idleCheck = null;
        if (streams.isEmpty()) {
            return;
        }
        long now = System.nanoTime();
        List<Http2UpstreamStream> idle = null;
        for (Http2UpstreamStream s : streams.values()) {
            if (now - s.lastActivityNanos >= idleNanos) {
                s.lastActivityNanos = now;
                if (idle == null) {
                    idle = new ArrayList<>(2);
                }
                idle.add(s);
            }
        }
        if (idle != null) {
            for (Http2UpstreamStream s : idle) {
                s.onIdle();
            }
        }
        long oldest = Long.MAX_VALUE;
        for (Http2UpstreamStream s : streams.values()) {
            oldest = Math.min(oldest, s.lastActivityNanos - now);
        }
        if (oldest != Long.MAX_VALUE && idleCheck == null) {
            idleCheck = ctx.executor().schedule(checkIdle, Math.max(0, oldest + idleNanos), TimeUnit.NANOSECONDS);
        }
    }
}
