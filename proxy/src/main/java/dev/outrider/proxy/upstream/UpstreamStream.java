package dev.outrider.proxy.upstream;

import io.netty.channel.Channel;

import static java.util.Objects.requireNonNull;

/**
 * One request's lease on an upstream: an HTTP/1.1 connection taken from the pool, or a new HTTP/2 stream on
 * a shared connection. Request objects are written to {@link #channel()}; response objects arrive at the
 * bound {@link UpstreamListener}. Both kinds carry HttpObjects, so forwarding code is protocol-agnostic.
 *
 * <p>Threading: used only on the event loop the lease was made on.
 */
public final class UpstreamStream {
    private final Channel channel;
    private final UpstreamHandler handler;
    private final Endpoint endpoint;
    private final UpstreamPool pool;
    private final boolean http2;
    private boolean released;

    UpstreamStream(Channel channel, UpstreamHandler handler, Endpoint endpoint, UpstreamPool pool, boolean http2) {
        this.channel = requireNonNull(channel, "channel");
        this.handler = requireNonNull(handler, "handler");
        this.endpoint = requireNonNull(endpoint, "endpoint");
        this.pool = requireNonNull(pool, "pool");
        this.http2 = http2;
    }

    public Channel channel() {
        return channel;
    }

    public Endpoint endpoint() {
        return endpoint;
    }

    public boolean isHttp2() {
        return http2;
    }

    /** Routes this stream's response objects and events to {@code listener}. */
    public void bind(UpstreamListener listener) {
        handler.bind(requireNonNull(listener, "listener"));
    }

    /** Asks for the next response bytes (auto-read is off on upstream streams). */
    public void read() {
        channel.read();
    }

    /**
     * Ends the lease. {@code reusable} is true only when the request was fully written and the response fully
     * read on a keep-alive HTTP/1.1 connection; anything else closes the connection (HTTP/1.1) or resets the
     * stream if it is still open (HTTP/2). Idempotent.
     */
    public void release(boolean reusable) {
        if (released) {
            return;
        }
        released = true;
        handler.unbind();
        endpoint.requestFinished();
        if (http2) {
            channel.close(); // RST_STREAM(CANCEL) if the stream is not finished, no-op otherwise
        } else {
            pool.releaseHttp1(endpoint, channel, reusable);
        }
    }
}
