package dev.outrider.proxy.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.ReferenceCountUtil;

import java.util.Iterator;
import java.util.List;

/**
 * Pipeline position: right after the HTTP codec (HTTP/1.1 connection, or HTTP/2 stream after the frame to
 * HttpObject codec), before anything that looks at the request.
 *
 * <p>Turns what the codec could not parse, and what it parsed but we refuse, into a local error response:
 * <ul>
 *   <li>request line too long → 414; header block too large or more than {@code maxHeaderCount} fields → 431;</li>
 *   <li>anything else the strict decoder rejected → 400: Content-Length together with Transfer-Encoding,
 *       differing Content-Length values, invalid characters in names or values, obs-fold, bare LF,
 *       a Transfer-Encoding other than chunked last (RFC 9112 §6.1, §6.3, §5.2, §2.2);</li>
 *   <li>{@code Host} → 400 when an HTTP/1.1 request has none or more than one (RFC 9112 §3.2), or its value is
 *       not one valid authority ({@link Authority#isValid}: {@code Host: a, b} is a list).
 *       On HTTP/2 Netty's conversion has already refused a {@code host} field that differs from
 *       {@code :authority} (a stream error, RFC 9113 §8.3.1) and folded an identical one. Authorization,
 *       routing and the application all read the one value that is left.</li>
 *   <li>an HTTP/1.1 upgrade ({@link Upgrades}) to a protocol not in {@code http.upgrades} → 403, before any check
 *       or byte reaches the application.</li>
 * </ul>
 * On HTTP/1.1 the connection is closed after the error ({@link LocalResponses#respondAndClose}): once framing is
 * in doubt nothing else on the connection can be trusted (request smuggling). On HTTP/2 only the stream ends.
 */
public final class RequestGuardHandler extends ChannelInboundHandlerAdapter {
    private final int maxHeaderCount;
    /** The upgrade protocols requests may ask for; empty on HTTP/2 streams, where no request can ask. */
    private final List<String> upgrades;
    /** After a rejection everything that follows on this connection/stream is dropped. Event loop only. */
    private boolean rejected;

    /** For an HTTP/2 stream, which carries no upgrade. */
    public RequestGuardHandler(int maxHeaderCount) {
        this(maxHeaderCount, List.of());
    }

    /** @param upgrades the protocols an HTTP/1.1 request may ask to upgrade to ({@code http.upgrades}) */
    public RequestGuardHandler(int maxHeaderCount, List<String> upgrades) {
        this.maxHeaderCount = maxHeaderCount;
        this.upgrades = List.copyOf(upgrades);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (rejected) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpObject http) {
            DecoderResult result = http.decoderResult();
            if (result.isFailure() && !(msg instanceof HttpRequest)) {
                // Broken framing inside a body already being forwarded: no response can be sent cleanly.
                ReferenceCountUtil.release(msg);
                rejected = true;
                ctx.close();
                return;
            }
            if (result.isFailure()) {
                ReferenceCountUtil.release(msg);
                reject(ctx, statusFor(result.cause()), messageFor(result.cause()));
                return;
            }
            if (msg instanceof HttpRequest request && request.headers().size() > maxHeaderCount) {
                ReferenceCountUtil.release(msg);
                reject(ctx, HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
                        "too many header fields (limit " + maxHeaderCount + ")");
                return;
            }
            if (msg instanceof HttpRequest request && !(ctx.channel() instanceof Http2StreamChannel)
                    && !request.headers().contains(HttpHeaderNames.HOST)
                    && request.protocolVersion().equals(HttpVersion.HTTP_1_1)) {
                // RFC 9112 §3.2: a server MUST respond 400 to an HTTP/1.1 request without Host.
                ReferenceCountUtil.release(msg);
                reject(ctx, HttpResponseStatus.BAD_REQUEST, "missing Host header");
                return;
            }
            if (msg instanceof HttpRequest request) {
                String problem = hostProblem(request.headers());
                if (problem != null) {
                    ReferenceCountUtil.release(msg);
                    reject(ctx, HttpResponseStatus.BAD_REQUEST, problem);
                    return;
                }
                String upgrade = Upgrades.requested(request);
                String refused = upgrade == null ? null : Upgrades.refused(upgrade, upgrades);
                if (refused != null) {
                    ReferenceCountUtil.release(msg);
                    reject(ctx, HttpResponseStatus.FORBIDDEN, "upgrade to '" + refused + "' is not allowed"
                            + (upgrades.isEmpty() ? " (no upgrade is)" : " (allowed: " + String.join(", ", upgrades) + ")"));
                    return;
                }
            }
        }
        ctx.fireChannelRead(msg);
    }

    private void reject(ChannelHandlerContext ctx, HttpResponseStatus status, String message) {
        rejected = true;
        LocalResponses.respondAndClose(ctx, new LocalRejection(status, message));
    }

    /** Why the request's Host is refused, or null (a missing Host is judged by the caller). */
    static String hostProblem(HttpHeaders headers) {
        if (headers instanceof CompactHttpHeaders compact) { // HTTP/1.1: counted in place, no iterator
            int n = compact.count(HttpHeaderNames.HOST);
            if (n == 0) {
                return null;
            }
            return n > 1 ? "more than one Host header"
                    : Authority.isValid(compact.get(HttpHeaderNames.HOST)) ? null : "invalid Host header";
        }
        Iterator<? extends CharSequence> values = headers.valueCharSequenceIterator(HttpHeaderNames.HOST);
        if (!values.hasNext()) {
            return null;
        }
        CharSequence host = values.next();
        if (values.hasNext()) {
            return "more than one Host header";
        }
        return Authority.isValid(host) ? null : "invalid Host header";
    }

    static HttpResponseStatus statusFor(Throwable cause) {
        if (cause instanceof TooLongHttpLineException) {
            return HttpResponseStatus.REQUEST_URI_TOO_LONG;
        }
        if (cause instanceof TooLongHttpHeaderException) {
            return HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE;
        }
        return HttpResponseStatus.BAD_REQUEST;
    }

    static String messageFor(Throwable cause) {
        if (cause instanceof TooLongHttpLineException) {
            return "request line too long";
        }
        if (cause instanceof TooLongHttpHeaderException) {
            return "request header block too large";
        }
        return "malformed request";
    }
}
