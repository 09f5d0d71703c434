package dev.outrider.bench.load;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2ChannelDuplexHandler;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.collection.IntObjectHashMap;

import java.util.Map;

/**
 * h2c with prior knowledge (RFC 9113 §3.3): up to {@code streams} concurrent streams on one connection.
 * Sits behind {@link Http2FrameCodec}, which sends the preface and SETTINGS. Response bodies are dropped and
 * their flow-control credit returned at once (RFC 9113 §6.9), so a long run never stalls on the window.
 */
final class Http2LoadConnection extends LoadConnection {
    private final StreamFactory streamFactory = new StreamFactory();
    private final Http2Headers headers;
    /** Stream id → request in flight (event loop only). */
    private final IntObjectHashMap<Pending> pending = new IntObjectHashMap<>();

    private static final class Pending {
        final long startNanos;
        boolean success;

        Pending(long startNanos) {
            this.startNanos = startNanos;
        }
    }

    /** Sits between the codec and this handler, only to reach the codec's stream factory. */
    static final class StreamFactory extends Http2ChannelDuplexHandler {
        Http2FrameStream create() {
            return newStream();
        }
    }

    Http2LoadConnection(LoadStats stats, RequestTemplate request, int streams) {
        super(stats, request, streams);
        Http2Headers h = new DefaultHttp2Headers()
                .method(request.method()).scheme("http").authority(request.authority()).path(request.path());
        for (Map.Entry<String, String> e : request.headers()) {
            h.add(e.getKey(), e.getValue());
        }
        this.headers = h;
    }

    @Override
    void send(long start) {
        Http2FrameStream stream = streamFactory.create();
        // The codec assigns the stream id while writing the HEADERS frame, on this event loop.
        ctx.write(new DefaultHttp2HeadersFrame(headers, true).stream(stream), ctx.voidPromise());
        pending.put(stream.id(), new Pending(start));
    }

    /** The handlers to add after an {@link Http2FrameCodec}, in order. */
    ChannelHandler[] handlers() {
        return new ChannelHandler[] {streamFactory, this};
    }

    @Override
    int abandonInFlight() {
        int n = pending.size();
        pending.clear();
        return n;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof Http2HeadersFrame frame) {
                Pending p = pending.get(frame.stream().id());
                if (p != null && frame.headers().status() != null) {
                    CharSequence status = frame.headers().status();
                    p.success = status.length() == 3 && status.charAt(0) == '2';
                }
                if (frame.isEndStream()) {
                    end(frame.stream().id());
                }
            } else if (msg instanceof Http2DataFrame data) {
                if (data.initialFlowControlledBytes() > 0) {
                    ctx.write(new DefaultHttp2WindowUpdateFrame(data.initialFlowControlledBytes()).stream(data.stream()),
                            ctx.voidPromise());
                }
                if (data.isEndStream()) {
                    end(data.stream().id());
                }
            } else if (msg instanceof Http2ResetFrame reset) {
                if (pending.remove(reset.stream().id()) != null) {
                    failed();
                }
            } else if (msg instanceof Http2GoAwayFrame) {
                ctx.close();
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ctx.flush();
        ctx.fireChannelReadComplete();
    }

    private void end(int streamId) {
        Pending p = pending.remove(streamId);
        if (p != null) {
            completed(p.startNanos, p.success);
        }
    }
}
