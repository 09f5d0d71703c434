package dev.outrider.proxy.admin;

import dev.outrider.proxy.config.HostPort;
import dev.outrider.proxy.transport.Transport;
import io.netty.channel.Channel;
import io.netty.util.concurrent.Future;

import java.net.InetSocketAddress;
import java.util.function.BooleanSupplier;

import static java.util.Objects.requireNonNull;

/**
 * The health port (default 0.0.0.0:15021): {@code GET|HEAD /ready} and {@code /live} for the orchestrator's
 * probes. Runs on the sidecar's event loops ({@link HealthHandler}).
 */
public final class HealthServer {
    private final Channel channel;

    private HealthServer(Channel channel) {
        this.channel = channel;
    }

    /**
     * Binds {@code listen} (port 0: an ephemeral port, see {@link #address()}).
     *
     * @param ready read on an event loop for every {@code /ready}; must be cheap and non-blocking
     */
    public static HealthServer start(Transport t, HostPort listen, BooleanSupplier ready)
            throws InterruptedException {
        requireNonNull(ready, "ready");
        return start(t, listen, () -> ready.getAsBoolean() ? null : "not ready");
    }

    /**
     * Binds {@code listen}; {@code /ready} answers 503 with {@link Readiness#notReadyReason()} when it is not null.
     */
    public static HealthServer start(Transport t, HostPort listen, Readiness readiness) throws InterruptedException {
        requireNonNull(t, "t");
        requireNonNull(listen, "listen");
        HealthHandler handler = new HealthHandler(readiness);
        return new HealthServer(SmallHttpServer.bind(t, listen, () -> handler));
    }

    /** The bound address. */
    public InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    /** Stops accepting connections; open connections end with the event loops. */
    public Future<?> close() {
        return channel.close();
    }
}
