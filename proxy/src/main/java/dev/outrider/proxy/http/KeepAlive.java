package dev.outrider.proxy.http;

import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;

/**
 * The one place that decides whether an HTTP/1.1 downstream connection carries another request after the
 * current response (RFC 9112 §9.3, §9.6), and that reads and writes the decision on a message
 * ({@code Connection: close}, or {@code keep-alive} for HTTP/1.0). Pure functions. An HTTP/2 stream ends with
 * its response and never asks.
 *
 * <p>The rules, in the order the pipeline meets them:
 * <ol>
 *   <li><b>The caller's wish</b> ({@link #requested}): HTTP/1.1 persists unless {@code Connection: close};
 *       HTTP/1.0 only with {@code keep-alive}. Header hygiene keeps the wish as the one {@code Connection} value
 *       it needs ({@link HeaderHygiene#cleanRequestHead}); the forwarding hop reads it before it rewrites the
 *       version.</li>
 *   <li><b>The connection's state</b> ({@link #connectionReusable}): never while the sidecar drains, nor once the
 *       connection was told to close after its response (a drain event, the client's half-close).</li>
 *   <li><b>A forwarded response</b> ({@link #forwardedResponse}) promises keep-alive when its head goes out if the
 *       caller asked and the connection is reusable; the connection then carries the next request only if the
 *       request was also read to its end ({@link #afterExchange}).</li>
 *   <li><b>A response the exchange makes itself</b> (no route, upstream failure; {@link #localResponse}) promises
 *       it only for a request already read to its end: the rest of an unread body cannot be told apart from the
 *       next request.</li>
 *   <li><b>A refused inbound request</b> ({@link #afterRefusal}, 401/403/429/503 of the inbound checks) keeps the
 *       connection when its body is absent or small enough to read and drop ({@value #MAX_SKIPPED_BODY} bytes, by
 *       Content-Length, and not an {@code Expect: 100-continue} whose body has not come: the caller may or may not
 *       send it now); otherwise the refusal ends the connection with a lingering close
 *       ({@link LocalResponses#respondAndClose}), as every refusal of a malformed request does.</li>
 *   <li><b>The response says what was decided</b> ({@link #closesConnection}): the connection handlers
 *       ({@link Http1PipeliningHandler}, {@link Http1HeaderTimeoutHandler}) read it from the response head.</li>
 *   <li><b>Upstream</b> ({@link #upstreamReusable}): an HTTP/1.1 upstream connection goes back to the pool when
 *       the exchange ended normally, the whole request was written and the upstream's response kept it.</li>
 * </ol>
 */
public final class KeepAlive {
    /** The largest request body a refused keep-alive request may still have to be read and dropped. */
    public static final long MAX_SKIPPED_BODY = 64 * 1024;

    private KeepAlive() {
    }

    /** What the message asks for (a request: the caller's wish; a response: what it promises). */
    public static boolean requested(HttpMessage message) {
        return HttpUtil.isKeepAlive(message);
    }

    /** Writes the decision on {@code message} ({@code Connection: close}, or {@code keep-alive} on HTTP/1.0). */
    public static void mark(HttpMessage message, boolean keepAlive) {
        HttpUtil.setKeepAlive(message, keepAlive);
    }

    /** Whether the connection ends after {@code response}, as its head says. */
    public static boolean closesConnection(HttpResponse response) {
        return !HttpUtil.isKeepAlive(response);
    }

    /** Whether the connection may carry another request: not draining, not told to close after its response. */
    public static boolean connectionReusable(boolean closeAfterResponse, boolean draining) {
        return !closeAfterResponse && !draining;
    }

    /** What a forwarded response's head promises. */
    public static boolean forwardedResponse(boolean callerKeepAlive, boolean connectionReusable) {
        return connectionReusable && callerKeepAlive;
    }

    /** What a response the exchange makes itself promises. */
    public static boolean localResponse(boolean callerKeepAlive, boolean connectionReusable,
                                        boolean requestComplete) {
        return connectionReusable && requestComplete && callerKeepAlive;
    }

    /** Whether the connection carries the next request once an exchange is done. */
    public static boolean afterExchange(boolean aborted, boolean requestComplete, boolean promised) {
        return !aborted && requestComplete && promised;
    }

    /**
     * Whether a refused inbound HTTP/1.1 request's connection carries the next request (its remaining body, if
     * any, is read and dropped).
     *
     * @param requestComplete the request's end was read with its head
     */
    public static boolean afterRefusal(HttpRequest request, boolean requestComplete, boolean draining) {
        long length = HttpUtil.getContentLength(request, -1L);
        boolean skippable = !HttpUtil.isTransferEncodingChunked(request) && length <= MAX_SKIPPED_BODY
                && (requestComplete || !HttpUtil.is100ContinueExpected(request));
        return skippable && HttpUtil.isKeepAlive(request) && !draining;
    }

    /** Whether an upstream connection goes back to the pool after the exchange. */
    public static boolean upstreamReusable(boolean aborted, boolean http2, boolean requestWritten,
                                           boolean upstreamKeepAlive) {
        return !aborted && !http2 && requestWritten && upstreamKeepAlive;
    }
}
