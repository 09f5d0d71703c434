package dev.outrider.controlplane.server;

import dev.outrider.core.net.LingeringClose;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.FullHttpMessage;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.util.ReferenceCountUtil;

/**
 * Netty's {@link HttpObjectAggregator} with the API's JSON error for a body over the limit (413
 * {@code TooLarge}, docs/control-plane.md "Errors") instead of an empty one. Sits after the codec and the
 * keep-alive handler, before {@link ApiHandler}, which therefore only ever sees complete requests of at most
 * {@code maxContentLength} bytes.
 *
 * <p>Same connection handling as Netty's: with a declared Content-Length on a keep-alive request the 413 is
 * sent at once, the body is read and discarded and the connection stays usable; when the limit is crossed in
 * the middle of a chunked body, or the client wants no keep-alive, the connection ends after the 413 with a
 * lingering close ({@link LingeringClose}), so the rest of the body cannot reset it before the client reads it.
 * An {@code Expect: 100-continue} request with a too-large Content-Length gets the JSON 413 instead of 100.
 */
final class TooLargeAggregator extends HttpObjectAggregator {
    TooLargeAggregator(int maxContentLength) {
        super(maxContentLength, true);
    }

    @Override
    protected Object newContinueResponse(HttpMessage start, int maxContentLength, ChannelPipeline pipeline) {
        Object response = super.newContinueResponse(start, maxContentLength, pipeline);
        if (response instanceof FullHttpResponse r && r.status().equals(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE)) {
            ReferenceCountUtil.release(r);
            return tooLarge(maxContentLength);
        }
        return response;
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) throws Exception {
        if (!(oversized instanceof HttpRequest)) {
            super.handleOversizedMessage(ctx, oversized);
            return;
        }
        FullHttpResponse response = tooLarge(maxContentLength());
        if (oversized instanceof FullHttpMessage
                || !HttpUtil.is100ContinueExpected(oversized) && !HttpUtil.isKeepAlive(oversized)) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(response).addListener(f -> LingeringClose.close(ctx));
        } else {
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
        }
    }

    private static FullHttpResponse tooLarge(int max) {
        return ApiHandler.toHttp(ApiResponse.error(ApiException.tooLarge(
                "request body is larger than " + max + " bytes")));
    }
}
