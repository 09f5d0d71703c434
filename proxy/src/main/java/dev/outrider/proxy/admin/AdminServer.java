package dev.outrider.proxy.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import dev.outrider.proxy.config.HostPort;
import dev.outrider.proxy.transport.Transport;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.channel.Channel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.Future;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static java.util.Objects.requireNonNull;

/**
 * The admin port (default 127.0.0.1:15000, loopback only): {@code GET /metrics}, {@code GET /config},
 * {@code POST /drain} with {@code X-Outrider-Drain: true} and a loopback Host ({@link AdminHandler},
 * {@link DrainRequestCheck}). Connections run on the sidecar's event loops; scrapes run on one daemon thread
 * owned by this server, with a short bounded queue (a flood of scrapes gets 503s instead of piling up).
 */
public final class AdminServer {
    private static final int SCRAPE_QUEUE = 8;

    private final Channel channel;
    private final ExecutorService scrapeExecutor;

    private AdminServer(Channel channel, ExecutorService scrapeExecutor) {
        this.channel = channel;
        this.scrapeExecutor = scrapeExecutor;
    }

    /**
     * Binds {@code listen} (port 0: an ephemeral port, see {@link #address()}).
     *
     * @param configView what {@code /config} shows, already redacted; read on an event loop per request
     * @param drain      starts a graceful drain; called on an event loop, must return at once
     */
    public static AdminServer start(Transport t, HostPort listen, PrometheusMeterRegistry registry,
                                    Supplier<?> configView, Runnable drain) throws InterruptedException {
        requireNonNull(t, "t");
        requireNonNull(listen, "listen");
        requireNonNull(registry, "registry");
        requireNonNull(configView, "configView");
        requireNonNull(drain, "drain");
        // Durations and instants as ISO-8601 text (their toString, as Jackson's java.time module writes them with
        // timestamps off), without that module: its ~75 classes would load at every start for two types.
        ObjectWriter configWriter = new ObjectMapper()
                .registerModule(new SimpleModule("java.time as ISO-8601 text")
                        .addSerializer(Duration.class, ToStringSerializer.instance)
                        .addSerializer(Instant.class, ToStringSerializer.instance))
                .writerWithDefaultPrettyPrinter();
        ExecutorService scrapes = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(SCRAPE_QUEUE), new DefaultThreadFactory("outrider-admin-scrape", true));
        try {
            Channel channel = SmallHttpServer.bind(t, listen,
                    () -> new AdminHandler(registry, scrapes, configView, configWriter, drain));
            return new AdminServer(channel, scrapes);
        } catch (Throwable e) {
            // Also a bind failure, which Netty rethrows unchecked-style.
            scrapes.shutdownNow();
            throw e;
        }
    }

    /** The bound address. */
    public InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    /** Stops accepting connections and stops the scrape thread; open connections end with the event loops. */
    public Future<?> close() {
        return channel.close().addListener(f -> scrapeExecutor.shutdown());
    }
}
