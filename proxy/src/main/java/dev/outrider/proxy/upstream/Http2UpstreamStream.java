package dev.outrider.proxy.upstream;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.EncoderException;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.util.ReferenceCountUtil;

import java.util.ArrayDeque;

/**
 * One request's HTTP/2 stream on a shared upstream connection, without a channel of its own: the request goes
 * out as frames through the connection's {@link Http2StreamRouter}, which hands this stream the frames and events
 * of its stream id.
 *
 * <pre>
 *  Exchange                      Http2UpstreamStream                     Http2StreamRouter / Http2FrameCodec
 *  ────────                      ───────────────────                     ───────────────────────────────────
 *  writeHead / write ──────────▶ HttpObject → HEADERS, DATA, trailers ─▶ encoder, remote flow control
 *  isWritable ◀───────────────── stream window − queued &gt; 0, socket writable (flow controller)
 *  read() ─────────────────────▶ give back the bytes delivered since the last read (WINDOW_UPDATE);
 *                                deliver what waited, or take the next frames as they come
 *  onUpstreamMessage ◀────────── HEADERS, DATA → HttpObject ◀────────── frames of this stream id
 *  onUpstreamReadComplete ◀───── end of the connection's read pass (or of what read() delivered)
 * </pre>
 * Frames that arrive unasked wait here; the upstream cannot send more than the stream window (64 KiB by default)
 * before we give bytes back, and we give them back only when the listener asks to read again, i.e. when the
 * downstream took what it got. As with Netty's stream channel: RST_STREAM(CANCEL) when released before both sides
 * ended; the close is reported after what waited was read, with {@link UpstreamRefusedException} when the peer
 * provably did not process the stream (GOAWAY above it, REFUSED_STREAM).
 *
 * <p>Threading: the connection's event loop only; no field needs {@code volatile}.
 */
final class Http2UpstreamStream extends UpstreamStream {
    private final Http2StreamRouter router;
    private final Http2FrameStream frameStream;
    /** The codec's stream, from the moment the HEADERS were written; null before, or if they could not be. */
    private Http2Stream stream;
    private UpstreamListener listener;
    /** Response objects that arrived while nobody asked to read; created at the first one. */
    private ArrayDeque<HttpObject> inbound;
    /** The listener asked to read and has not had a read-complete since. */
    private boolean demand;
    /** Flow-controlled bytes delivered (or padding received) and not yet given back to the window. */
    private int unconsumed;
    private boolean sentEnd;
    private boolean receivedEnd;
    private boolean closed;
    private boolean closeNotified;
    private boolean ended;
    private Throwable failure;
    /** Read and written by the router: the stream is in its read-complete list; the last sign of life. */
    boolean readCompletePending;
    long lastActivityNanos;
    private boolean writabilityTaskPending;
    private Runnable writabilityTask;

    Http2UpstreamStream(Http2StreamRouter router, Http2FrameStream frameStream, Endpoint endpoint) {
        super(endpoint);
        this.router = router;
        this.frameStream = frameStream;
    }

    int id() {
        return frameStream.id();
    }

    @Override
    public boolean isHttp2() {
        return true;
    }

    @Override
    public void bind(UpstreamListener listener) {
        this.listener = listener;
    }

    // ---- request: HttpObjects → frames

    @Override
    public ChannelFuture writeHead(HttpRequest head) {
        Http2Headers headers;
        try {
            headers = Http2Messages.request(head, router.scheme());
        } catch (RuntimeException e) {
            ReferenceCountUtil.release(head);
            return router.failed(new EncoderException(e));
        }
        FullHttpRequest full = head instanceof FullHttpRequest f ? f : null;
        boolean endStream = full != null && !full.content().isReadable() && full.trailingHeaders().isEmpty();
        sentEnd = endStream;
        lastActivityNanos = System.nanoTime();
        ChannelFuture written = router.writeHeaders(this, new DefaultHttp2HeadersFrame(headers, endStream)
                .stream(frameStream));
        if (full != null) {
            if (endStream || stream == null) {
                full.release();
            } else {
                writeLast(full, true);
            }
        }
        return written;
    }

    /** Called by the router once the HEADERS went out and the codec made the stream. */
    void started(Http2Stream codecStream) {
        this.stream = codecStream;
    }

    @Override
    public void write(HttpContent content) {
        if (stream == null || released() || closed) {
            content.release(); // the head never went out (its write failed) or the stream is gone
            return;
        }
        lastActivityNanos = System.nanoTime();
        if (content instanceof LastHttpContent last) {
            writeLast(last, false);
        } else {
            router.write(new DefaultHttp2DataFrame(content.content(), false).stream(frameStream));
        }
    }

    /** The end of the request: DATA (unless empty and trailers follow), then the trailers if any. */
    private void writeLast(LastHttpContent last, boolean ofFullRequest) {
        HttpHeaders trailers = last.trailingHeaders();
        Http2Headers trailerBlock = null;
        if (!trailers.isEmpty()) {
            try {
                trailerBlock = Http2Messages.trailers(trailers);
            } catch (RuntimeException e) {
                last.release();
                fail(new EncoderException(e), Http2Error.CANCEL);
                return;
            }
        }
        boolean filler = !ofFullRequest && trailerBlock == null;
        if (last.content().isReadable() || filler) {
            router.write(new DefaultHttp2DataFrame(last.content(), trailerBlock == null).stream(frameStream));
        } else {
            last.release();
        }
        if (trailerBlock != null) {
            router.write(new DefaultHttp2HeadersFrame(trailerBlock, true).stream(frameStream));
        }
        sentEnd = true;
    }

    @Override
    public void flush() {
        router.flush();
    }

    @Override
    public boolean isWritable() {
        return stream != null && !closed && router.isWritable(stream);
    }

    /**
     * The flow controller says this stream's writability changed: told to the listener from a task of its own, with
     * what it is when the task runs. Every change is told, even if it changed back meanwhile: the listener may have
     * seen the other state through {@link #isWritable} since, and stopped reading.
     */
    void writabilityChanged() {
        if (writabilityTaskPending || listener == null) {
            return;
        }
        writabilityTaskPending = true;
        Runnable task = writabilityTask;
        if (task == null) {
            task = this::notifyWritability;
            writabilityTask = task;
        }
        router.executeLater(task);
    }

    private void notifyWritability() {
        writabilityTaskPending = false;
        UpstreamListener l = listener;
        if (l != null) {
            l.onUpstreamWritabilityChanged(isWritable());
        }
    }

    // ---- response: frames → HttpObjects, read on demand

    @Override
    public void read() {
        if (released() || closeNotified) {
            return;
        }
        if (unconsumed > 0 && stream != null) {
            int bytes = unconsumed;
            unconsumed = 0;
            router.consume(stream, bytes);
        }
        ArrayDeque<HttpObject> waiting = inbound;
        if (waiting == null || waiting.isEmpty()) {
            demand = true;
            return;
        }
        demand = false;
        HttpObject msg;
        while (listener != null && (msg = waiting.poll()) != null) {
            deliver(msg);
        }
        UpstreamListener l = listener;
        if (l == null) {
            releaseInbound();
            return;
        }
        l.onUpstreamReadComplete();
        if (closed && listener != null && waiting.isEmpty()) {
            router.notifyClosedLater(this);
        }
    }

    void onHeaders(Http2HeadersFrame frame) {
        receivedEnd |= frame.isEndStream();
        HttpObject msg;
        try {
            msg = Http2Messages.response(id(), frame.headers(), frame.isEndStream(), router.alloc());
        } catch (Http2Exception e) {
            fail(new DecoderException(e), Http2Error.CANCEL);
            return;
        }
        arrived(msg);
    }

    void onData(Http2DataFrame frame) {
        receivedEnd |= frame.isEndStream();
        unconsumed += frame.initialFlowControlledBytes() - frame.content().readableBytes(); // padding: nobody reads it
        arrived(Http2Messages.content(frame));
    }

    private void arrived(HttpObject msg) {
        if (released() || closeNotified) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (demand && listener != null && (inbound == null || inbound.isEmpty())) {
            deliver(msg);
            router.readCompleteLater(this);
            return;
        }
        if (inbound == null) {
            inbound = new ArrayDeque<>(4);
        }
        inbound.add(msg);
    }

    private void deliver(HttpObject msg) {
        if (msg instanceof HttpContent c) {
            unconsumed += c.content().readableBytes(); // given back at the next read()
        }
        lastActivityNanos = System.nanoTime();
        listener.onUpstreamMessage(msg);
    }

    /** End of the connection's read pass in which this stream delivered something. */
    void readComplete() {
        readCompletePending = false;
        UpstreamListener l = listener;
        if (l != null && !released()) {
            demand = false;
            l.onUpstreamReadComplete();
        }
    }

    // ---- the stream's end

    /** RST_STREAM(REFUSED_STREAM) from the peer: the request was not processed (RFC 9113 §8.7). */
    void onReset(long errorCode) {
        if (errorCode == Http2Error.REFUSED_STREAM.code()) {
            failure = UpstreamRefusedException.refusedStream();
        }
    }

    /** The peer's GOAWAY does not cover this stream: it was not processed (RFC 9113 §6.8). */
    void onGoAway() {
        failure = UpstreamRefusedException.goAway();
    }

    /** The connection failed with {@code cause}: reported when the stream closes (unless it had a cause). */
    void failedWith(Throwable cause) {
        if (failure == null) {
            failure = cause;
        }
    }

    boolean isClosed() {
        return closed;
    }

    /** Ends the stream with {@code cause}: RST_STREAM({@code error}) and the close reported with the cause. */
    void fail(Throwable cause, Http2Error error) {
        if (failure == null) {
            failure = cause;
        }
        if (stream != null && !closed) {
            router.reset(frameStream, error);
        } else {
            onClosed();
        }
    }

    /**
     * The codec closed the stream (both ends, reset, GOAWAY or the connection's end): reported to the listener
     * once what waited was read, from a task of its own (as a channel reports its close).
     */
    void onClosed() {
        closed = true;
        countEnded();
        if (listener != null && (inbound == null || inbound.isEmpty())) {
            router.notifyClosedLater(this);
        }
    }

    void notifyClosed() {
        if (closeNotified || released()) {
            return;
        }
        closeNotified = true;
        router.detach(this);
        releaseInbound();
        UpstreamListener l = listener;
        listener = null;
        if (l != null) {
            l.onUpstreamClosed(failure);
        }
    }

    /** Nothing moved on the stream for the idle timeout. */
    void onIdle() {
        UpstreamListener l = listener;
        if (l != null) {
            l.onUpstreamIdle();
        } else {
            fail(null, Http2Error.CANCEL);
        }
    }

    /** A stream shares its connection: nothing to take; upgrades always lease HTTP/1.1. */
    @Override
    Channel detach() {
        throw new UnsupportedOperationException("an HTTP/2 stream has no connection of its own to take over");
    }

    @Override
    void end(boolean reusable) {
        listener = null;
        releaseInbound();
        if (stream != null && !closed && !(sentEnd && receivedEnd)) {
            router.reset(frameStream, Http2Error.CANCEL);
        }
        router.detach(this);
        countEnded();
    }

    private void countEnded() {
        if (!ended) {
            ended = true;
            router.streamEnded();
        }
    }

    private void releaseInbound() {
        ArrayDeque<HttpObject> waiting = inbound;
        if (waiting != null) {
            HttpObject msg;
            while ((msg = waiting.poll()) != null) {
                ReferenceCountUtil.release(msg);
            }
        }
    }
}
