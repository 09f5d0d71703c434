package dev.outrider.proxy.config;

/** Which Netty transport runs the event loops. */
public enum TransportKind {
    /** epoll when it loads, else io_uring, else NIO (bench/RESULTS.md: epoll costs less CPU per request). */
    AUTO,
    IO_URING,
    EPOLL,
    NIO
}
