package dev.outrider.proxy.config;

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
    AUTO
}
