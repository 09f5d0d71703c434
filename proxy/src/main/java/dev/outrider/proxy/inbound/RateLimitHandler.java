package dev.outrider.proxy.inbound;

import dev.outrider.proxy.accesslog.SecurityEvent;
import dev.outrider.proxy.http.HeaderHygiene;
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
import io.netty.util.ReferenceCountUtil;

import java.util.ArrayList;
import java.util.List;

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
 * <p>A request whose global rules found their lease of the shared budget empty ({@link RateLimits#PENDING}) waits
 * for the refill without blocking: the end of the read is held back (so nothing after this handler asks for more
 * bytes), body parts that already arrived are kept, and once Redis answered (or the rules' fallback decided) the
 * request goes on with them, or is refused and they are dropped.
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
    /** The request waiting for Redis, and the body parts that arrived meanwhile; null when none waits. */
    private HttpRequest pending;
    private List<Object> pendingContent;

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
        int decision = limits.decide(state, admission);
        if (decision == RateLimits.PENDING) {
            pending = request;
            limits.resolve(admission, ctx.executor(), resolved -> resume(ctx, resolved));
            return;
        }
        decided(ctx, request, decision == RateLimits.ADMITTED);
    }

    /**
     * The request's leases were refilled, or its rules' fallback decided (on this channel's event loop): the waiting
     * request goes on with the body parts that arrived meanwhile, or is refused; then the end of the read that was
     * held back, so that the handlers after this one start the exchange and ask for more bytes as after any read.
     */
    private void resume(ChannelHandlerContext ctx, int decision) {
        HttpRequest request = pending;
        List<Object> content = pendingContent;
        pending = null;
        pendingContent = null;
        if (request == null || !ctx.channel().isActive()) {
            ReferenceCountUtil.release(request);
            releaseAll(content);
            release();
            return;
        }
        boolean admitted = decision == RateLimits.ADMITTED;
        decided(ctx, request, admitted);
        if (content != null) {
            for (Object part : content) {
                if (admitted) {
                    onContent(part);
                    ctx.fireChannelRead(part);
                } else if (!LocalReply.dropIfAnswered(state, part)) { // its end ends the discarding, as if read now
                    ReferenceCountUtil.release(part);
                }
            }
        }
        ctx.fireChannelReadComplete();
    }

    /**
     * Held back while a request waits: the handlers after this one would otherwise ask for more bytes (downstream
     * auto-read is off), and a body would pile up here. Reading goes on after the decision ({@link #resume}).
     */
    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (pending == null) {
            ctx.fireChannelReadComplete();
        }
    }

    @Override
    boolean held(Object msg) {
        if (pending == null) {
            return false;
        }
        if (pendingContent == null) {
            pendingContent = new ArrayList<>(2);
        }
        pendingContent.add(msg);
        return true;
    }

    private static void releaseAll(List<Object> parts) {
        if (parts != null) {
            parts.forEach(ReferenceCountUtil::release);
        }
    }

    private void decided(ChannelHandlerContext ctx, HttpRequest request, boolean admitted) {
        if (admitted) {
            if (admission.dryRunRefused()) {
                state.recordRateLimit(admission.logText(), admission.refusingPolicy(), admission.refusingRule());
                if (policy.securityEvents().admit()) {
                    policy.securityEvents().emit(state.securityEvent(SecurityEvent.Type.RATE_LIMITED_DRY_RUN,
                            request.headers().get(HeaderHygiene.X_REQUEST_ID)));
                }
            }
            ctx.fireChannelRead(request);
            return;
        }
        HttpHeaders headers = new DefaultHttpHeaders();
        RateLimits.addRefusalHeaders(admission, headers);
        if (LocalResponses.isGrpc(request)) {
            headers.set(GRPC_RETRY_PUSHBACK, admission.retryAfterSeconds() * 1000);
        }
        state.recordRateLimit(admission.logText(), admission.refusingPolicy(), admission.refusingRule());
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
        dropPending();
        release();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        dropPending();
        release();
    }

    /** The channel ends while a request waits for Redis: nothing goes on (the answer finds nothing to resume). */
    private void dropPending() {
        ReferenceCountUtil.release(pending);
        releaseAll(pendingContent);
        pending = null;
        pendingContent = null;
    }

    private void release() {
        if (admission != null) {
            admission.release();
        }
    }
}
