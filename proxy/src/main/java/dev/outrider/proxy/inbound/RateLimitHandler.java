package dev.outrider.proxy.inbound;

import dev.outrider.proxy.http.LocalRejection;
import dev.outrider.proxy.http.LocalResponses;
import dev.outrider.proxy.ratelimit.Admission;
import dev.outrider.proxy.ratelimit.RateLimits;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;

/**
 * Pipeline position: per inbound request channel, after {@link AuthzHandler} (same snapshot, same request
 * state), before forwarding. Throttling comes last of the checks so that a request refused by
 * authentication or authorization never spends the caller's budget.
 *
 * <p>Asks the snapshot's {@link RateLimits} whether the request may go on. Refused: 429 with
 * {@code Retry-After} and the {@code RateLimit-Policy}/{@code RateLimit} fields (a rate limit), or 503 with
 * {@code Retry-After} (a concurrency limit); gRPC gets RESOURCE_EXHAUSTED ({@link LocalResponses}). Admitted:
 * the request holds its concurrency slots until its response's last part is written or the request channel
 * closes (an aborted exchange closes it), whichever comes first; its response's head gets the quota left under
 * the rules whose policy asks for it ({@code admittedHeaders}).
 *
 * <p>Threading: one instance per request channel; its event loop only.
 */
final class RateLimitHandler extends InboundCheckHandler {
    static final String RATE_LIMITED = "too many requests: the caller's rate limit is reached";
    static final String CONCURRENCY_LIMITED = "too many requests in flight: the caller's concurrency limit is reached";
    private static final LocalRejection RATE_LIMITED_REFUSAL =
            new LocalRejection(HttpResponseStatus.TOO_MANY_REQUESTS, RATE_LIMITED);
    private static final LocalRejection CONCURRENCY_LIMITED_REFUSAL =
            new LocalRejection(HttpResponseStatus.SERVICE_UNAVAILABLE, CONCURRENCY_LIMITED);
    private static final AsciiString GRPC_RETRY_PUSHBACK = AsciiString.cached("grpc-retry-pushback-ms");

    /** Created for the first request that meets a rate limit (a workload without any allocates none). */
    private Admission admission;

    RateLimitHandler(InboundPolicy policy, InboundRequest state) {
        super(policy, state);
    }

    @Override
    void onRequest(ChannelHandlerContext ctx, HttpRequest request) {
        RateLimits limits = state.snapshot().rateLimits();
        if (limits.isEmpty()) {
            release();
            if (admission != null) {
                admission.clearQuota(); // a previous request's, whose response head never came
            }
            ctx.fireChannelRead(request);
            return;
        }
        if (admission == null) {
            admission = new Admission();
        } else {
            admission.release(); // a previous request on this connection whose response end was never written
        }
        if (limits.admit(state, admission)) {
            if (admission.dryRunRefused()) {
                state.recordRateLimit(admission.logText());
            }
            ctx.fireChannelRead(request);
            return;
        }
        HttpHeaders headers = new DefaultHttpHeaders();
        RateLimits.addRefusalHeaders(admission, headers);
        if (LocalResponses.isGrpc(request)) {
            headers.set(GRPC_RETRY_PUSHBACK, admission.retryAfterSeconds() * 1000);
        }
        state.recordRateLimit(admission.logText());
        boolean rate = admission.rateLimited();
        LocalReply.send(ctx, policy, state, rate ? RATE_LIMITED_REFUSAL : CONCURRENCY_LIMITED_REFUSAL, headers);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (admission != null && msg instanceof HttpResponse response && admission.hasQuota() && !informational(msg)) {
            RateLimits.addQuotaHeaders(admission, response.headers());
        }
        if (msg instanceof LastHttpContent && admission != null && admission.holdsSlots() && !informational(msg)) {
            admission.release();
        }
        ctx.write(msg, promise);
    }

    private static boolean informational(Object msg) {
        return msg instanceof HttpResponse r && r.status().codeClass() == HttpStatusClass.INFORMATIONAL;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        release();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        release();
    }

    private void release() {
        if (admission != null) {
            admission.release();
        }
    }
}
