package dev.outrider.proxy.config;

import dev.outrider.core.model.ServiceProtocol;

/** The HTTP protocol spoken to an upstream (the local application, or another sidecar). */
public enum Protocol {
    /** HTTP/1.1 with keep-alive (pooled connections; to another sidecar over mTLS with ALPN http/1.1). */
    HTTP1,
    /**
     * HTTP/2: over cleartext with prior knowledge to the application (gRPC servers, h2c applications); to
     * another sidecar over mTLS with ALPN h2, one connection per event loop carrying every request as a stream.
     */
    H2C,
    /**
     * The protocol the caller used: HTTP/2 callers are forwarded over HTTP/2, HTTP/1.1 callers over pooled
     * HTTP/1.1 (between sidecars too: it costs a sidecar less CPU per request than HTTP/2, see bench/RESULTS.md).
     */
    AUTO;

    /**
     * How to speak to the sidecars of a service the control plane announced with {@code protocol} (its Service's
     * {@code spec.protocol}): {@code http1} is {@link #HTTP1}, {@code http2} {@link #H2C}, {@code auto}
     * {@link #AUTO}.
     */
    public static Protocol of(ServiceProtocol protocol) {
        return switch (protocol) {
            case HTTP1 -> HTTP1;
            case HTTP2 -> H2C;
            case AUTO -> AUTO;
        };
    }
}
