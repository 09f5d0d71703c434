package dev.outrider.proxy.upstream;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;

import static java.util.Objects.requireNonNull;

/**
 * One request's lease on an upstream: an HTTP/1.1 connection taken from the pool ({@link Http1UpstreamStream}),
 * or a new HTTP/2 stream on a shared connection ({@link Http2UpstreamStream}, frames routed by stream id, no
 * channel of its own). The request goes out through {@link #writeHead}, {@link #write} and {@link #flush}; the
 * response arrives at the bound {@link UpstreamListener} as HttpObjects, each after a {@link #read}. Both kinds
 * speak HttpObjects, so forwarding code is protocol-agnostic.
 *
 * <p>Threading: used only on the event loop the lease was made on.
 */
public abstract sealed class UpstreamStream permits Http1UpstreamStream, Http2UpstreamStream {
    private final Endpoint endpoint;
    private boolean released;

    UpstreamStream(Endpoint endpoint) {
        this.endpoint = requireNonNull(endpoint, "endpoint");
    }

    public final Endpoint endpoint() {
        return endpoint;
    }

    public abstract boolean isHttp2();

    /** Routes this stream's response objects and events to {@code listener}. */
    public abstract void bind(UpstreamListener listener);

    /**
     * Writes the request head (a {@code FullHttpRequest} when the request is bodyless); the future fails when it
     * could not be sent, e.g. with an {@link UpstreamRefusedException}-like cause when the stream was refused.
     */
    public abstract ChannelFuture writeHead(HttpRequest head);

    /** Writes request body content (the last one ends the request); a failure ends the lease's stream. */
    public abstract void write(HttpContent content);

    public abstract void flush();

    /** Whether the upstream takes more request bytes now; {@link UpstreamListener#onUpstreamWritabilityChanged} tells when this changes. */
    public abstract boolean isWritable();

    /**
     * Asks for the next response objects (nothing is delivered unasked); on HTTP/2 this is also when the bytes
     * delivered since the last call are given back to the upstream's flow-control window.
     */
    public abstract void read();

    /**
     * Ends the lease. {@code reusable} is true only when the request was fully written and the response fully
     * read on a keep-alive HTTP/1.1 connection; anything else closes the connection (HTTP/1.1) or resets the
     * stream if it is still open (HTTP/2). Idempotent.
     */
    public final void release(boolean reusable) {
        if (released) {
            return;
        }
        released = true;
        endpoint.requestFinished();
        end(reusable);
    }

    /**
     * Ends the lease by taking its connection for good, after a {@code 101 Switching Protocols}: the connection
     * leaves the pool, its response handler is gone and its codec (named {@link #CODEC}) is still in place, for the
     * caller to remove once something reads the bytes that follow. Only HTTP/1.1 leases have a connection to give.
     */
    public final Channel takeOver() {
        if (released) {
            throw new IllegalStateException("the lease has ended");
        }
        released = true;
        endpoint.requestFinished();
        return detach();
    }

    /** The name of an HTTP/1.1 upstream connection's codec in its pipeline. */
    public static final String CODEC = "codec";

    /** The kind's part of {@link #takeOver}. */
    abstract Channel detach();

    /** Ends a lease nobody took (its promise had already settled the endpoint's count): no requestFinished. */
    final void abandon() {
        if (!released) {
            released = true;
            end(false);
        }
    }

    final boolean released() {
        return released;
    }

    /** The kind's part of {@link #release}: runs once. */
    abstract void end(boolean reusable);
}
