package dev.outrider.proxy.transport;

import dev.outrider.proxy.config.TransportKind;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static java.util.Objects.requireNonNull;

/**
 * The event loops of one sidecar and the channel classes that go with them. All listeners, upstream
 * connections and the health/admin servers share one group: an upstream connection is made on the event
 * loop of the downstream connection that needs it, so a request never hops threads.
 */
public record Transport(String name, EventLoopGroup group, Class<? extends ServerChannel> serverChannel,
                        Class<? extends Channel> channel) {
    private static final Logger log = LoggerFactory.getLogger(Transport.class);

    public Transport {
        requireNonNull(name, "name");
        requireNonNull(group, "group");
        requireNonNull(serverChannel, "serverChannel");
        requireNonNull(channel, "channel");
    }

    /**
     * Creates the event loops. {@link TransportKind#AUTO} prefers io_uring, then epoll, then NIO: measured side by
     * side (bench/RESULTS.md, compare.sh's transport variants) io_uring gave a sidecar pair more throughput and
     * less CPU per request at saturation in every case; at a steady 1,000 req/s two runs disagreed on which
     * costs less. An explicit native kind that cannot load fails with the reason rather than quietly falling back.
     */
    public static Transport create(TransportKind kind, int threads, String threadPrefix) {
        requireNonNull(kind, "kind");
        DefaultThreadFactory threadFactory = new DefaultThreadFactory(threadPrefix, true);
        return switch (kind) {
            case IO_URING -> {
                IoUring.ensureAvailability();
                yield ioUring(threads, threadFactory);
            }
            case EPOLL -> {
                Epoll.ensureAvailability();
                yield epoll(threads, threadFactory);
            }
            case NIO -> nio(threads, threadFactory);
            case AUTO -> {
                if (IoUring.isAvailable()) {
                    yield ioUring(threads, threadFactory);
                }
                if (Epoll.isAvailable()) {
                    log.debug("io_uring unavailable ({}); using epoll", IoUring.unavailabilityCause().toString());
                    yield epoll(threads, threadFactory);
                }
                log.info("native transports unavailable ({}); using NIO", Epoll.unavailabilityCause().toString());
                yield nio(threads, threadFactory);
            }
        };
    }

    private static Transport ioUring(int threads, DefaultThreadFactory tf) {
        return new Transport("io_uring", group(threads, tf, IoUringIoHandler.newFactory()),
                IoUringServerSocketChannel.class, IoUringSocketChannel.class);
    }

    private static Transport epoll(int threads, DefaultThreadFactory tf) {
        return new Transport("epoll", group(threads, tf, EpollIoHandler.newFactory()),
                EpollServerSocketChannel.class, EpollSocketChannel.class);
    }

    private static Transport nio(int threads, DefaultThreadFactory tf) {
        return new Transport("nio", group(threads, tf, NioIoHandler.newFactory()),
                NioServerSocketChannel.class, NioSocketChannel.class);
    }

    private static EventLoopGroup group(int threads, DefaultThreadFactory tf, IoHandlerFactory factory) {
        return new MultiThreadIoEventLoopGroup(threads, tf, factory);
    }
}
