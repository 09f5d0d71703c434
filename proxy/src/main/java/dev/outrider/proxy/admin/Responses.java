package dev.outrider.proxy.admin;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

import java.nio.charset.StandardCharsets;

/**
 * Complete responses for the health and admin servers. Every response carries Content-Length, so
 * {@link io.netty.handler.codec.http.HttpServerKeepAliveHandler} can keep the connection open; a HEAD
 * response carries the length of the GET body and no body (RFC 9110 §9.3.2). Call on the channel's event loop.
 */
final class Responses {
    static final String TEXT = "text/plain; charset=utf-8";

    private Responses() {
    }

    static boolean isGetOrHead(HttpRequest req) {
        return req.method().equals(HttpMethod.GET) || req.method().equals(HttpMethod.HEAD);
    }

    static void text(ChannelHandlerContext ctx, HttpRequest req, HttpResponseStatus status, String body) {
        send(ctx, req.protocolVersion(), req.method().equals(HttpMethod.HEAD), status, TEXT,
                body.getBytes(StandardCharsets.UTF_8));
    }

    /** 405 with the Allow header the status requires (RFC 9110 §15.5.6). */
    static void methodNotAllowed(ChannelHandlerContext ctx, HttpRequest req, String allow) {
        FullHttpResponse res = response(req.protocolVersion(), req.method().equals(HttpMethod.HEAD),
                HttpResponseStatus.METHOD_NOT_ALLOWED, TEXT,
                "method not allowed\n".getBytes(StandardCharsets.UTF_8));
        res.headers().set(HttpHeaderNames.ALLOW, allow);
        ctx.writeAndFlush(res);
    }

    /** 400 for a request the codec could not parse; the connection is closed after it. */
    static void badRequest(ChannelHandlerContext ctx, HttpRequest req) {
        FullHttpResponse res = response(HttpVersion.HTTP_1_1, false, HttpResponseStatus.BAD_REQUEST, TEXT,
                "bad request\n".getBytes(StandardCharsets.UTF_8));
        res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
    }

    static void send(ChannelHandlerContext ctx, HttpVersion version, boolean head, HttpResponseStatus status,
                     String contentType, byte[] body) {
        ctx.writeAndFlush(response(version, head, status, contentType, body));
    }

    private static FullHttpResponse response(HttpVersion version, boolean head, HttpResponseStatus status,
                                             String contentType, byte[] body) {
        FullHttpResponse res = new DefaultFullHttpResponse(version, status,
                head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(body));
        res.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, contentType)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length)
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
        return res;
    }
}
