package dev.outrider.proxy.upstream;

import io.netty.handler.codec.http.HttpObject;

/**
 * What an upstream stream reports to the request that holds it. Called on the upstream channel's event
 * loop, which is the downstream channel's event loop too.
 */
public interface UpstreamListener {
    /** A response object (HttpResponse, HttpContent, LastHttpContent); the listener owns it. */
    void onUpstreamMessage(HttpObject msg);

    /** The upstream read pass ended: a good moment to decide whether to read more. */
    void onUpstreamReadComplete();

    /** The upstream can take more (or no more) request bytes. */
    void onUpstreamWritabilityChanged(boolean writable);

    /** The connection or stream closed, reset, or failed; {@code cause} may be null for a plain close. */
    void onUpstreamClosed(Throwable cause);

    /** Nothing moved on the stream for the upstream idle timeout. */
    void onUpstreamIdle();
}
