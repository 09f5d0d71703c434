package dev.outrider.proxy.forward;

import dev.outrider.proxy.upstream.Cluster;
import dev.outrider.proxy.upstream.UpstreamRefusedException;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;

/**
 * Whether a failed attempt of one {@link Exchange} is made again, and what that costs. The exchange makes the
 * attempts (and picks the endpoint); this decides:
 * <ul>
 *   <li><b>Connect failure</b> (nothing was sent): another endpoint, when there is one.</li>
 *   <li><b>Upstream closed before the response headers</b>: only a {@linkplain #retriable retriable} request
 *       (idempotent, no body) that was read whole; another endpoint first (this one may be going away: drain,
 *       exit), else the same one again (a stale keep-alive connection is the usual cause).</li>
 *   <li>Both draw on the configured retry count ({@code upstream.maxRetries}) and the cluster's retry budget
 *       ({@code upstream.retryBudgetPercent}, at least {@code upstream.minRetryConcurrency}): the exchange takes
 *       one budget token at its first retry and gives it back when it ends ({@link #finished}).</li>
 *   <li><b>Refused unprocessed</b> (its HTTP/2 stream above the last stream id of a GOAWAY, or refused: RFC 9113
 *       §8.7): sent again on another connection whatever its method, when it can be sent again whole (no body
 *       bytes, no trailers), at most {@value #MAX_REFUSED_ATTEMPTS} times, outside the retry count and budget
 *       (nothing was processed).</li>
 * </ul>
 * Created at an exchange's first failure: an exchange that succeeds at once allocates none.
 *
 * <p>Threading: the exchange's event loop only.
 */
final class RetryPolicy {
    /** Re-sends of a request refused unprocessed (a drained upstream, a full one): bounded against a loop. */
    static final int MAX_REFUSED_ATTEMPTS = 3;

    private final ForwardingContext fc;
    private final Cluster cluster;
    private int retries;
    private int refusedAttempts;
    private boolean holdsRetryToken;

    RetryPolicy(ForwardingContext fc, Cluster cluster) {
        this.fc = fc;
        this.cluster = cluster;
    }

    /** Whether {@code request} may be sent again after an upstream closed on it: idempotent, and no body. */
    static boolean retriable(HttpRequest request) {
        return isIdempotent(request.method()) && !HttpUtil.isTransferEncodingChunked(request)
                && HttpUtil.getContentLength(request, 0L) == 0L;
    }

    /**
     * A connect failed.
     *
     * @param anotherEndpoint the cluster has an endpoint not tried yet
     * @return whether to connect to another endpoint
     */
    boolean afterConnectFailure(boolean anotherEndpoint) {
        return anotherEndpoint && spendRetry();
    }

    /**
     * The upstream closed (or refused the stream) before the response headers.
     *
     * @param retriable       {@link #retriable} of the request
     * @param requestComplete the whole request was read from the caller
     * @param sendableWhole   the request had no body bytes and no trailers: it can be sent again as it was
     * @return whether to send the request again
     */
    boolean afterUpstreamClosed(Throwable cause, boolean retriable, boolean requestComplete,
                                boolean sendableWhole) {
        if (UpstreamRefusedException.neverProcessed(cause) && requestComplete && sendableWhole
                && refusedAttempts < MAX_REFUSED_ATTEMPTS) {
            refusedAttempts++;
            fc.metrics().upstreamRetry(fc.direction());
            return true;
        }
        return retriable && requestComplete && spendRetry();
    }

    /** The exchange ended: its retry-budget token, if it took one, goes back to the cluster. */
    void finished() {
        if (holdsRetryToken) {
            cluster.retryFinished();
        }
    }

    private boolean spendRetry() {
        if (retries >= fc.upstream().maxRetries()) {
            return false;
        }
        if (!holdsRetryToken) {
            if (!cluster.tryStartRetry(fc.upstream().retryBudgetPercent(), fc.upstream().minRetryConcurrency())) {
                return false;
            }
            holdsRetryToken = true;
        }
        retries++;
        fc.metrics().upstreamRetry(fc.direction());
        return true;
    }

    private static boolean isIdempotent(HttpMethod m) {
        return m.equals(HttpMethod.GET) || m.equals(HttpMethod.HEAD) || m.equals(HttpMethod.OPTIONS)
                || m.equals(HttpMethod.PUT) || m.equals(HttpMethod.DELETE) || m.equals(HttpMethod.TRACE);
    }
}
