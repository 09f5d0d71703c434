package dev.outrider.proxy.inbound;

import dev.outrider.proxy.accesslog.SecurityEvent;
import dev.outrider.proxy.authz.AuthorizationEngine;
import dev.outrider.proxy.authz.Decision;
import dev.outrider.proxy.http.HeaderHygiene;
import dev.outrider.proxy.http.LocalRejection;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * Pipeline position: per inbound request channel, after {@link AuthnHandler} (same snapshot, same request
 * state), before rate limiting and forwarding.
 *
 * <p>A thin adapter around the pure {@link AuthorizationEngine#authorize}: counts the decision (and the
 * dry-run one) per deciding policy, records the decision for the access log in the request state, and either
 * passes the request on or answers 403 with a short body that names no policy. A request let through that the
 * dry-run policies would deny is recorded in the security event stream ({@code authz_denied_dry_run}). Which policy and rule decided is in the access
 * log ({@code authz}, {@code audit}, {@code authz_dry_run}) and the metrics, never in the response.
 *
 * <p>Threading: one instance per request channel; its event loop only.
 */
final class AuthzHandler extends InboundCheckHandler {
    static final String DENIED = "forbidden: the request is not allowed by the workload's authorization policies";
    private static final LocalRejection REFUSAL = new LocalRejection(HttpResponseStatus.FORBIDDEN, DENIED);

    AuthzHandler(InboundPolicy policy, InboundRequest state) {
        super(policy, state);
    }

    @Override
    void onRequest(ChannelHandlerContext ctx, HttpRequest request) {
        Decision d = AuthorizationEngine.authorize(state.snapshot().authorization(), state);
        state.snapshot().meters().count(d);
        state.recordDecision(d);
        if (d.allowed()) {
            Decision shadow = d.shadow();
            if (shadow != null && !shadow.allowed() && policy.securityEvents().admit()) {
                policy.securityEvents().emit(state.securityEvent(SecurityEvent.Type.AUTHZ_DENIED_DRY_RUN,
                        request.headers().get(HeaderHygiene.X_REQUEST_ID)));
            }
            ctx.fireChannelRead(request);
            return;
        }
        LocalReply.send(ctx, policy, state, REFUSAL, null);
    }
}
