package dev.outrider.proxy.inbound;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.handler.codec.http.HttpRequest;

/**
 * The shape of an inbound per-request check ({@link AuthnHandler}, {@link AuthzHandler},
 * {@link RateLimitHandler}): messages of a
 * request already answered locally are dropped, body parts pass through, and each request head goes to
 * {@link #onRequest}, which either passes it on or answers it with {@link LocalReply} (its refusal a
 * {@link dev.outrider.proxy.http.LocalRejection} value).
 *
 * <p>Threading: one instance per request channel; its event loop only.
 */
abstract class InboundCheckHandler extends ChannelDuplexHandler {
    final InboundPolicy policy;
    final InboundRequest state;

    InboundCheckHandler(InboundPolicy policy, InboundRequest state) {
        this.policy = policy;
        this.state = state;
    }

    @Override
    public final void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (LocalReply.dropIfAnswered(state, msg)) {
            return;
        }
        if (msg instanceof HttpRequest request) {
            onRequest(ctx, request);
        } else if (!held(msg)) {
            onContent(msg);
            ctx.fireChannelRead(msg);
        }
    }

    /** Whether the check keeps {@code msg} (a body part) while it has not decided its request yet; no by default. */
    boolean held(Object msg) {
        return false;
    }

    /** A body part or the request's end (with its trailers) on its way past; nothing by default. */
    void onContent(Object msg) {
    }

    /** Passes {@code request} on ({@code ctx.fireChannelRead}) or answers it ({@link LocalReply#send}). */
    abstract void onRequest(ChannelHandlerContext ctx, HttpRequest request);
}
