package dev.outrider.proxy.http;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpHeaderValidationUtil;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.util.ReferenceCountUtil;

/**
 * Pipeline position: first on a downstream HTTP/2 stream channel, before the frame to HttpObject codec
 * ({@link io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec}).
 *
 * <p>Resets the stream (RST_STREAM PROTOCOL_ERROR, RFC 9113 §8.1.1: a malformed request) when the request's
 * {@code :method} is not an HTTP token (RFC 9110 §9.1), or its request target ({@code :path}, or
 * {@code :authority} for CONNECT) holds a space, CR or LF, none of which a request target can contain
 * (RFC 9112 §3.2). The codec cannot turn such a head into an {@code HttpRequest}: it throws, and when the
 * HEADERS frame ends the stream it has already allocated the body buffer of the full request it was building,
 * which is then never released; any peer could leak one buffer per request. Here the frame never reaches
 * it. Everything the stream still delivers after the reset is dropped.
 *
 * <p>Stateless: one instance serves every stream of a listener.
 */
@Sharable
public final class Http2RequestHeadHandler extends ChannelInboundHandlerAdapter {
    public static final Http2RequestHeadHandler INSTANCE = new Http2RequestHeadHandler();

    private Http2RequestHeadHandler() {
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Http2HeadersFrame frame && frame.headers().method() != null
                && !isConvertible(frame.headers())) {
            ReferenceCountUtil.release(msg);
            ctx.pipeline().addBefore(ctx.name(), null, PathNormalizationHandler.Discard.INSTANCE);
            ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.PROTOCOL_ERROR))
                    .addListener(ChannelFutureListener.CLOSE);
            return;
        }
        ctx.fireChannelRead(msg);
    }

    /**
     * True when the codec can make an {@code HttpRequest} of a request head with {@code :method}: the method
     * is a token and the target a start-line token. A missing target is left to the codec (it rejects it
     * without allocating).
     */
    static boolean isConvertible(Http2Headers headers) {
        CharSequence method = headers.method();
        if (method.isEmpty() || HttpHeaderValidationUtil.validateToken(method) != -1) {
            return false;
        }
        CharSequence target = HttpMethod.CONNECT.asciiName().contentEqualsIgnoreCase(method)
                ? headers.authority() : headers.path();
        return target == null || HttpUtil.isEncodingSafeStartLineToken(target);
    }
}
