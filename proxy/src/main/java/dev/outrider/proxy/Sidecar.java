package dev.outrider.proxy;

import dev.outrider.proxy.config.BootstrapConfig;

import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;

/**
 * One running sidecar: inbound and outbound listeners, the health and admin servers, metrics and the
 * access log, started from a validated {@link BootstrapConfig}.
 */
public final class Sidecar implements AutoCloseable {

    /** Binds every listener and returns when the sidecar is ready (/ready answers 200). */
    public static Sidecar start(BootstrapConfig config) throws Exception {
        throw new IllegalStateException("the data plane is being assembled in this change");
    }

    /** Starts a graceful drain (idempotent, returns at once); {@link #terminated()} completes when done. */
    public void drain() {
    }

    /** Completes when the sidecar has drained and released everything. */
    public CompletableFuture<Void> terminated() {
        return new CompletableFuture<>();
    }

    /** The bound addresses (port 0 in the config means an ephemeral port). */
    public InetSocketAddress inboundAddress() { return null; }

    public InetSocketAddress outboundAddress() { return null; }

    public InetSocketAddress healthAddress() { return null; }

    public InetSocketAddress adminAddress() { return null; }

    @Override
    public void close() {
        drain();
        terminated().join();
    }
}
