package dev.outrider.proxy.config;

/** Which Netty transport runs the event loops. */
public enum TransportKind {
    /** io_uring when it loads, else epoll, else NIO (bench/RESULTS.md: io_uring measured faster). */
    AUTO,
    IO_URING,
    EPOLL,
    NIO
}
