package dev.outrider.proxy.inbound;

import dev.outrider.proxy.authn.JwtVerifier.Result;
import dev.outrider.proxy.authn.RequestAuthenticator;
import dev.outrider.proxy.http.LocalRejection;
import dev.outrider.proxy.policy.PolicySnapshot;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * Pipeline position: per inbound request channel (HTTP/1.1 connection or HTTP/2 stream), after path
 * normalization and the client-certificate header, before {@link AuthzHandler}.
 *
 * <p>Reads the current policy snapshot once for the request (authorization uses the same one), then runs its
 * {@link RequestAuthenticator}: no token passes with no request principal; a verified token becomes the
 * request principal and claims, and is stripped (unless {@code forwardOriginalToken}); any other token gets
 * 401 with {@code WWW-Authenticate: Bearer} and an RFC 6750 {@code invalid_token} error whose description
 * is a fixed text (never token content). Verification never blocks ({@link dev.outrider.proxy.authn.JwtVerifier}).
 *
 * <p>Threading: one instance per request channel; its event loop only.
 */
final class AuthnHandler extends InboundCheckHandler {
    AuthnHandler(InboundPolicy policy, InboundRequest state) {
        super(policy, state);
    }

    /** Trailers cannot carry a claim header past authentication: the names it owns are removed there too. */
    @Override
    void onContent(Object msg) {
        if (msg instanceof LastHttpContent last && !last.trailingHeaders().isEmpty() && state.snapshot() != null) {
            state.snapshot().authentication().removeClaimHeaders(last.trailingHeaders());
        }
    }

    @Override
    void onRequest(ChannelHandlerContext ctx, HttpRequest request) {
        PolicySnapshot snapshot = policy.store().current();
        state.begin(InboundPeer.of(ctx.channel()), request, snapshot);
        if (snapshot.refusal() != null) {
            state.recordRefusal("refused: " + snapshot.refusal());
            LocalReply.send(ctx, policy, state, new LocalRejection(HttpResponseStatus.SERVICE_UNAVAILABLE,
                    "unavailable: " + snapshot.refusal()),
                    new DefaultHttpHeaders().set(HttpHeaderNames.RETRY_AFTER, "1"));
            return;
        }
        RequestAuthenticator authenticator = snapshot.authentication();
        if (authenticator.isEmpty()) {
            ctx.fireChannelRead(request);
            return;
        }
        Result result = authenticator.authenticate(request, System.currentTimeMillis() / 1000);
        if (result == null) {
            policy.policyMetrics().authnNone();
            ctx.fireChannelRead(request);
        } else if (result instanceof Result.Valid valid) {
            policy.policyMetrics().authnValid();
            state.authenticated(valid);
            ctx.fireChannelRead(request);
        } else {
            String reason = result instanceof Result.Invalid invalid ? invalid.reason()
                    : ((Result.KeysUnavailable) result).reason();
            if (result instanceof Result.KeysUnavailable) {
                policy.policyMetrics().authnKeysUnavailable();
            } else {
                policy.policyMetrics().authnInvalid();
            }
            state.recordAuthnRefusal(reason);
            LocalReply.send(ctx, policy, state,
                    new LocalRejection(HttpResponseStatus.UNAUTHORIZED, "unauthorized: " + reason),
                    new DefaultHttpHeaders().set(HttpHeaderNames.WWW_AUTHENTICATE,
                            "Bearer error=\"invalid_token\", error_description=\"" + reason + "\""));
        }
    }
}
