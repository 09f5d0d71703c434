package dev.outrider.proxy.forward;

import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.LastHttpContent;

import java.util.ArrayDeque;

/**
 * The request contents an {@link Exchange} read before its upstream was ready, written in order when it is
 * (and released if it never is). Created at the first content that has to wait; a bodyless request whose empty
 * end is dropped creates none. A deque itself (not a holder of one), so waiting costs the one object it
 * always cost.
 *
 * <p>Threading: the exchange's event loop only.
 */
final class PendingRequestBody extends ArrayDeque<HttpContent> {
    PendingRequestBody() {
        super(4);
    }

    /**
     * Whether what is held carries nothing: no content bytes and no trailers (a bodyless request whose empty
     * last content is the only thing pending).
     */
    static boolean carriesNothing(PendingRequestBody pending) {
        if (pending == null) {
            return true;
        }
        for (HttpContent c : pending) {
            if (c.content().isReadable()
                    || (c instanceof LastHttpContent last && !last.trailingHeaders().isEmpty())) {
                return false;
            }
        }
        return true;
    }

    static boolean holdsAny(PendingRequestBody pending) {
        return pending != null && !pending.isEmpty();
    }

    /** Releases everything held. */
    static void release(PendingRequestBody pending) {
        if (pending != null) {
            HttpContent c;
            while ((c = pending.poll()) != null) {
                c.release();
            }
        }
    }
}
