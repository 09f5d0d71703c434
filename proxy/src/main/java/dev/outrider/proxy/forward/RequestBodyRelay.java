package dev.outrider.proxy.forward;

import dev.outrider.proxy.upstream.UpstreamStream;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * The request side of an {@link Exchange}: its head and body, downstream → upstream.
 *
 * <pre>
 *  downstream (auto-read off)            RequestBodyRelay                upstream stream (auto-read off)
 *  ─────────────────────────             ────────────────                ───────────────────────────────
 *  request, body ──channelRead──▶ write to upstream ────────────────────▶ h1 connection / h2 stream
 *     ▲ read() only while upstream.isWritable()  ◀── writability changed ──┘
 * </pre>
 * Until the upstream is leased the contents read wait in a {@link PendingRequestBody} (a retriable request's
 * empty end is dropped, {@link BodylessRequests} re-creates it on each attempt); once it is, the head goes first,
 * then what waited in order, then each content as it is read. The downstream reads more only while the upstream
 * can take it ({@link #wantsBytes}), so a body never piles up in memory.
 *
 * <p>State: the exchange's fields ({@code pending}, {@code requestComplete}, {@code requestWritten},
 * {@code requestTrailers}, {@code requestBytes}); these are functions on them, so a request costs the one
 * {@link Exchange} object it always cost.
 *
 * <p>Threading: the exchange's event loop only.
 */
final class RequestBodyRelay {
    private RequestBodyRelay() {
    }

    /** A request content from downstream: counted, then written upstream, held until there is one, or released. */
    static void onContent(Exchange e, HttpContent content) {
        e.requestBytes += content.content().readableBytes();
        if (content instanceof LastHttpContent last) {
            e.requestComplete = true;
            e.requestTrailers = !last.trailingHeaders().isEmpty();
        }
        if (e.done) {
            content.release();
            return;
        }
        if (e.upstream == null || PendingRequestBody.holdsAny(e.pending)) {
            if (e.retriable && content.content().readableBytes() == 0 && content instanceof LastHttpContent) {
                content.release(); // bodyless: re-created on each attempt, nothing to buffer
                return;
            }
            if (e.pending == null) {
                e.pending = new PendingRequestBody();
            }
            e.pending.add(content);
            return;
        }
        write(e, content);
    }

    /**
     * Writes the head to a just-leased upstream (as one bodyless message when the request is complete and
     * carries nothing), then the contents that waited, and flushes. A failed head write on the stream still
     * leased closes the attempt ({@link Exchange#onUpstreamClosed}).
     */
    static void writeRequest(Exchange e, UpstreamStream leased) {
        boolean bodyless = e.requestComplete && PendingRequestBody.carriesNothing(e.pending);
        if (bodyless) {
            PendingRequestBody.release(e.pending);
            e.requestWritten = true;
        }
        leased.writeHead(bodyless ? BodylessRequests.of(e.request) : e.request).addListener(w -> {
            if (!w.isSuccess() && e.upstream == leased) { // not a later attempt's stream
                e.onUpstreamClosed(w.cause());
            }
        });
        if (!bodyless && e.pending != null) {
            HttpContent c;
            while (e.upstream == leased && (c = e.pending.poll()) != null) { // a failed head ended this attempt
                write(e, c);
            }
        }
        leased.flush();
    }

    private static void write(Exchange e, HttpContent content) {
        if (content instanceof LastHttpContent) {
            e.requestWritten = true;
        }
        e.upstream.write(content);
    }

    /** Flushes what this read wrote upstream (at the end of a downstream read). */
    static void flush(Exchange e) {
        if (e.upstream != null) {
            e.upstream.flush();
        }
    }

    /** Whether the downstream should read: more request body is expected and the upstream can take it. */
    static boolean wantsBytes(Exchange e) {
        return !e.requestComplete && !e.done && e.upstream != null && e.upstream.isWritable();
    }

    /** Whether the request carried nothing (no body bytes, no trailers), so it can be sent again as bodyless. */
    static boolean carriedNothing(Exchange e) {
        return e.requestBytes == 0 && !e.requestTrailers;
    }
}
