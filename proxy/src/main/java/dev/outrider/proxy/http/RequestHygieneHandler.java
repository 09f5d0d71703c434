package dev.outrider.proxy.http;

import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * Pipeline position: per request (HTTP/1.1 connection or HTTP/2 stream), right after the request guard and
 * before anything that reads or adds a header (path normalization, the client-certificate header,
 * authentication, forwarding).
 *
 * <p>Cleans what the caller sent before the sidecar adds anything of its own ({@link HeaderHygiene}): the
 * request head loses its hop-by-hop fields (including those its {@code Connection} names) and every
 * sidecar-owned field; trailers (HTTP/1.1 chunked trailers, an HTTP/2 trailing HEADERS frame) lose those and
 * the fields RFC 9110 §6.5.1 keeps out of trailers. Because this runs first, a caller's
 * {@code Connection: X-Forwarded-Client-Cert} can no longer delete the value the sidecar sets later, and a
 * trailer cannot carry one past it.
 *
 * <p>Stateless and {@link Sharable}: one instance serves every connection.
 */
@Sharable
public final class RequestHygieneHandler extends ChannelInboundHandlerAdapter {
    public static final RequestHygieneHandler INSTANCE = new RequestHygieneHandler();

    private RequestHygieneHandler() {
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest request) {
            HeaderHygiene.cleanRequestHead(request);
        }
        if (msg instanceof LastHttpContent last) {
            HeaderHygiene.cleanTrailers(last.trailingHeaders());
        }
        ctx.fireChannelRead(msg);
    }
}
