package dev.outrider.bench.load;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

import java.util.Map;

/**
 * HTTP/1.1 keep-alive, one request at a time (no pipelining). Sits behind {@code HttpClientCodec}.
 * A response with {@code Connection: close} ends the connection after it; what was queued then fails.
 */
final class Http1LoadConnection extends LoadConnection {
    private final HttpMethod method;
    /** Start of the request in flight; only meaningful while one is (event loop only). */
    private long startNanos;
    private boolean inFlight;
    private boolean success;

    Http1LoadConnection(LoadStats stats, RequestTemplate request) {
        super(stats, request, 1);
        this.method = HttpMethod.valueOf(request.method());
    }

    @Override
    void send(long start) {
        FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, request.path(), Unpooled.EMPTY_BUFFER);
        req.headers().set(HttpHeaderNames.HOST, request.authority());
        for (Map.Entry<String, String> h : request.headers()) {
            req.headers().add(h.getKey(), h.getValue());
        }
        startNanos = start;
        inFlight = true;
        ctx.write(req, ctx.voidPromise());
    }

    @Override
    int abandonInFlight() {
        int n = inFlight ? 1 : 0;
        inFlight = false;
        return n;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof HttpResponse response) {
                int code = response.status().code();
                success = code >= 200 && code < 300;
            }
            if (msg instanceof LastHttpContent && inFlight) {
                inFlight = false;
                completed(startNanos, success);
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }
}
