package dev.outrider.proxy.http;

import dev.outrider.core.net.LingeringClose;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.AsciiString;

import java.nio.charset.StandardCharsets;

/**
 * The one place that turns a {@link LocalRejection} (no route, upstream down, timeout, a refused or malformed
 * request) into the response the sidecar sends itself, and ends what must end after it.
 *
 * <p>The response: a short {@code text/plain} body, {@code outrider: <message>}, that says what happened in words
 * an operator can search for and never anything from the request beyond what the caller already sent (no policy
 * internals, no upstream addresses); with the caller's {@code x-request-id} when it has one. gRPC requests
 * ({@code content-type: application/grpc...}) get what gRPC clients understand: HTTP 200 with no body and
 * {@code grpc-status} / {@code grpc-message} (a trailers-only response on HTTP/2): 401 → UNAUTHENTICATED (16),
 * 403 → PERMISSION_DENIED (7), 429 and 503 → RESOURCE_EXHAUSTED (8, which gRPC clients do not retry
 * transparently, unlike UNAVAILABLE).
 *
 * <p>{@link #respondAndClose}: for the handlers that refuse before anything is forwarded. On HTTP/2 the stream
 * ends after the response. On HTTP/1.1 the connection ends after it, with a lingering close
 * ({@link LingeringClose}): the request body and anything pipelined behind it are never read as a request,
 * since nothing says where the refused request ends once we stop parsing it the usual way. The caller must drop every message that reaches it afterwards:
 * the lingering close turns auto-read on, and what is read then still travels the pipeline. Whether a refused
 * request's connection may instead carry the next request is {@link KeepAlive}'s decision.
 */
public final class LocalResponses {
    private static final String PREFIX = "outrider: ";
    /** Room in a text response's header map: Content-Type, Content-Length, x-request-id and one more (Connection). */
    private static final int LOCAL_FIELDS = 4;
    private static final String GRPC_CONTENT_TYPE = "application/grpc";
    private static final AsciiString GRPC_STATUS = AsciiString.cached("grpc-status");
    private static final AsciiString GRPC_MESSAGE = AsciiString.cached("grpc-message");
    private static final AsciiString TEXT_PLAIN_UTF8 = AsciiString.cached(HttpHeaderValues.TEXT_PLAIN + "; charset=utf-8");
    /**
     * Content-Length values of local bodies, made on first use: a refusal's body length repeats, so its text is
     * not built again per response. Racy publication is safe: an AsciiString's content fields are final.
     */
    private static final AsciiString[] LENGTHS = new AsciiString[512];

    private LocalResponses() {
    }

    /** The text response for {@code rejection}, or the gRPC one when {@code grpc}. */
    public static FullHttpResponse of(ByteBufAllocator alloc, LocalRejection rejection, String requestId,
                                      boolean grpc) {
        return grpc ? grpc(rejection.status(), rejection.message(), requestId)
                : of(alloc, rejection.status(), rejection.message(), requestId);
    }

    /**
     * The text response: {@code status} and {@code outrider: <message>}. Built without intermediate strings; its
     * header map ({@link CompactHttpHeaders}) is sized for the few fields a local response has, and it has no
     * trailers (never sent with a Content-Length, and nothing adds any).
     */
    public static FullHttpResponse of(ByteBufAllocator alloc, HttpResponseStatus status, String message,
                                      String requestId) {
        ByteBuf body = alloc.buffer(PREFIX.length() + ByteBufUtil.utf8MaxBytes(message) + 1);
        ByteBufUtil.writeAscii(body, PREFIX);
        writeText(body, message);
        body.writeByte('\n');
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body,
                new CompactHttpHeaders(LOCAL_FIELDS), EmptyHttpHeaders.INSTANCE);
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, TEXT_PLAIN_UTF8)
                .set(HttpHeaderNames.CONTENT_LENGTH, length(body.readableBytes()));
        if (requestId != null) {
            response.headers().set(HeaderHygiene.X_REQUEST_ID, requestId);
        }
        return response;
    }

    /**
     * {@code text} in UTF-8; an ASCII text (every fixed message) is written byte by byte, which for a direct
     * buffer needs no NIO view of it, unlike the UTF-8 writer.
     */
    private static void writeText(ByteBuf body, String text) {
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) >= 0x80) {
                ByteBufUtil.writeUtf8(body, text);
                return;
            }
        }
        ByteBufUtil.writeAscii(body, text);
    }

    private static CharSequence length(int n) {
        if (n >= LENGTHS.length) {
            return Integer.toString(n);
        }
        AsciiString s = LENGTHS[n];
        if (s == null) {
            s = new AsciiString(Integer.toString(n));
            LENGTHS[n] = s;
        }
        return s;
    }

    /** Whether {@code request} is a gRPC call (its refusal is answered in gRPC's terms). */
    public static boolean isGrpc(HttpRequest request) {
        String type = request.headers().get(HttpHeaderNames.CONTENT_TYPE);
        return type != null && type.regionMatches(true, 0, GRPC_CONTENT_TYPE, 0, GRPC_CONTENT_TYPE.length());
    }

    private static FullHttpResponse grpc(HttpResponseStatus status, String message, String requestId) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                Unpooled.EMPTY_BUFFER);
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, GRPC_CONTENT_TYPE)
                .setInt(GRPC_STATUS, grpcStatus(status))
                .set(GRPC_MESSAGE, grpcMessage(PREFIX + message))
                .setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
        if (requestId != null) {
            response.headers().set(HeaderHygiene.X_REQUEST_ID, requestId);
        }
        return response;
    }

    static int grpcStatus(HttpResponseStatus status) {
        return switch (status.code()) {
            case 401 -> 16; // UNAUTHENTICATED
            case 403 -> 7; // PERMISSION_DENIED
            case 429, 503 -> 8; // RESOURCE_EXHAUSTED
            default -> 2; // UNKNOWN
        };
    }

    /** gRPC's percent-encoding of {@code grpc-message}: bytes outside printable ASCII, and '%'. */
    public static String grpcMessage(String message) {
        StringBuilder b = new StringBuilder(message.length());
        for (byte c : message.getBytes(StandardCharsets.UTF_8)) {
            if (c >= 0x20 && c <= 0x7e && c != '%') {
                b.append((char) c);
            } else {
                b.append('%').append(Character.toUpperCase(Character.forDigit((c >> 4) & 0xf, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return b.toString();
    }

    /** Sends {@code rejection} (no request id), then ends the HTTP/2 stream or the HTTP/1.1 connection. */
    public static void respondAndClose(ChannelHandlerContext ctx, LocalRejection rejection) {
        respondAndClose(ctx, of(ctx.alloc(), rejection.status(), rejection.message(), null));
    }

    /** Sends {@code response}, then ends the HTTP/2 stream, or the HTTP/1.1 connection with a lingering close. */
    public static void respondAndClose(ChannelHandlerContext ctx, FullHttpResponse response) {
        if (ctx.channel() instanceof Http2StreamChannel) {
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        KeepAlive.mark(response, false);
        ctx.writeAndFlush(response).addListener(f -> LingeringClose.close(ctx));
    }
}
