package dev.outrider.proxy.forward;

import dev.outrider.proxy.upstream.UpstreamStream;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

/**
 * The 1xx interim responses an {@link Exchange}'s upstream sends before the final one (RFC 9110 §15.2).
 * {@code 100 Continue} goes to a caller that waits for it, once and before the final response: the caller sent
 * {@code Expect: 100-continue} and no handler before the forwarding handler answered it (the outbound listener
 * leaves it to the upstream sidecar, which answers after its checks). Every other interim response is dropped
 * (the caller did not ask for it and the final response follows); an HTTP/1.1 upstream's interim head comes
 * with an empty last content, which is dropped with it.
 *
 * <p>State: one {@code int} of flags the exchange holds, so a request costs no object for it.
 *
 * <p>Threading: the exchange's event loop only.
 */
final class InterimResponses {
    /** The caller waits for {@code 100 Continue}: the upstream's is relayed. */
    private static final int RELAY_CONTINUE = 1;
    /** A {@code 100 Continue} went to the caller. */
    private static final int CONTINUE_RELAYED = 2;
    /** An HTTP/1.1 upstream's interim head was dropped: the empty last content that closes it goes too. */
    private static final int SKIP_END = 4;

    private InterimResponses() {
    }

    /** The state at the start of an exchange for {@code request}. */
    static int initial(HttpRequest request) {
        return HttpUtil.is100ContinueExpected(request) ? RELAY_CONTINUE : 0;
    }

    /** Whether {@code msg} from upstream belongs to an interim response: {@link #consume} takes it. */
    static boolean isInterim(int state, HttpObject msg) {
        return (state & SKIP_END) != 0 && msg instanceof LastHttpContent
                || msg instanceof HttpResponse response
                && response.status().codeClass() == HttpStatusClass.INFORMATIONAL;
    }

    /**
     * Releases an interim response's {@code msg} and relays {@code 100 Continue} to a caller that waits for it;
     * returns the new state.
     *
     * @param responseStarted a final (or local) response has started: nothing is relayed any more
     */
    static int consume(int state, HttpObject msg, boolean responseStarted, UpstreamStream upstream,
                       ChannelHandlerContext ctx) {
        if ((state & SKIP_END) != 0 && msg instanceof LastHttpContent) {
            ReferenceCountUtil.release(msg);
            return state & ~SKIP_END;
        }
        HttpResponse response = (HttpResponse) msg;
        boolean relay = (state & (RELAY_CONTINUE | CONTINUE_RELAYED)) == RELAY_CONTINUE && !responseStarted
                && response.status().code() == HttpResponseStatus.CONTINUE.code();
        boolean skipEnd = !(response instanceof LastHttpContent) && upstream != null && !upstream.isHttp2();
        state = skipEnd ? state | SKIP_END : state & ~SKIP_END;
        ReferenceCountUtil.release(response);
        if (relay) {
            state |= CONTINUE_RELAYED;
            ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE),
                    ctx.voidPromise());
        }
        return state;
    }
}
