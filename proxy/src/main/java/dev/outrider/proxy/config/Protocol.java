package dev.outrider.proxy.config;

/** The HTTP protocol spoken to an upstream (the local application, or another sidecar). */
public enum Protocol {
    /** HTTP/1.1 with keep-alive. */
    HTTP1,
    /** HTTP/2 over cleartext with prior knowledge (gRPC servers, h2c applications). */
    H2C,
    /** The protocol the caller used: HTTP/2 callers are forwarded over h2c, HTTP/1.1 callers over HTTP/1.1. */
    AUTO
}
