package dev.outrider.proxy.http;

import dev.outrider.proxy.http.RequestPathPolicy.Ok;
import dev.outrider.proxy.http.RequestPathPolicy.Rejected;
import dev.outrider.proxy.http.RequestPathPolicy.Result;
import dev.outrider.proxy.http.RequestPathPolicy.Rules;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.ReferenceCountUtil;

import static java.util.Objects.requireNonNull;

/**
 * Pipeline position: a per-request handler (HTTP/1.1 connection or HTTP/2 stream channel), after the request
 * guard and before authentication, authorization and forwarding.
 *
 * <p>Makes the request target canonical with {@link RequestPathPolicy#normalizeForAuthorization} and writes it
 * back with {@link HttpRequest#setUri}: {@code path}, then {@code ?query} with the query as received. From
 * here on {@code request.uri()} is the one form that authorization matches, the access log records and the
 * application receives, so no handler after this one needs to normalize again and a policy cannot be
 * bypassed by a spelling that the application resolves differently. An absolute-form target becomes
 * origin-form and its authority replaces {@code Host} (RFC 9112 §3.2.2). A refused target gets a local 400
 * that names the rule (never the target), and the stream or connection ends ({@link LocalResponses#respondAndClose}).
 *
 * <p>Fast path: a target that is already canonical origin-form (the common case) passes with one scan and
 * no allocation. Stateless, so one instance serves a listener: after a refusal the messages that still
 * follow (request body, pipelined requests) are dropped by a {@link Discard} put in front of this handler on
 * that one channel.
 */
@Sharable
public final class PathNormalizationHandler extends ChannelInboundHandlerAdapter {
    private final Rules rules;

    public PathNormalizationHandler(Rules rules) {
        this.rules = requireNonNull(rules, "rules");
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest request && !RequestPathPolicy.isCanonicalOriginForm(request.uri())) {
            normalizeSlowPath(ctx, request);
            return;
        }
        ctx.fireChannelRead(msg);
    }

    private void normalizeSlowPath(ChannelHandlerContext ctx, HttpRequest request) {
        String uri = request.uri();
        Result result = RequestPathPolicy.normalizeForAuthorization(uri, rules);
        if (result instanceof Rejected rejected) {
            ReferenceCountUtil.release(request);
            ctx.pipeline().addBefore(ctx.name(), null, Discard.INSTANCE);
            LocalResponses.respondAndClose(ctx, new LocalRejection(HttpResponseStatus.BAD_REQUEST, rejected.reason()));
            return;
        }
        String authority = RequestPathPolicy.authorityOf(uri);
        if (authority != null) {
            request.headers().set(HttpHeaderNames.HOST, authority);
        }
        request.setUri(((Ok) result).target());
        ctx.fireChannelRead(request);
    }

    /** Drops everything read on a channel whose request was refused, until the channel closes. */
    @Sharable
    static final class Discard extends ChannelInboundHandlerAdapter {
        static final Discard INSTANCE = new Discard();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
        }
    }
}
