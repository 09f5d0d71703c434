package dev.outrider.controlplane.server;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.util.concurrent.GlobalEventExecutor;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static java.util.Objects.requireNonNull;

/**
 * The control plane's HTTPS listener on the given event loops (NIO: the control plane is not on any data
 * path, so the native transports would buy nothing worth their extra dependencies). {@link #close()} stops
 * accepting and closes every open connection, held requests included; the event loops belong to the caller.
 */
public final class ApiServer implements AutoCloseable {
    private final Channel serverChannel;
    private final ChannelGroup channels;

    private ApiServer(Channel serverChannel, ChannelGroup channels) {
        this.serverChannel = serverChannel;
        this.channels = channels;
    }

    /** Binds {@code listen}; throws (a bind failure names the address) when it cannot. */
    public static ApiServer bind(EventLoopGroup group, InetSocketAddress listen, Supplier<SslContext> tls,
                                 Router router, Authenticator authenticator, Duration idleTimeout)
            throws InterruptedException {
        requireNonNull(group, "group");
        requireNonNull(listen, "listen");
        ChannelGroup channels = new DefaultChannelGroup("control-plane-api", GlobalEventExecutor.INSTANCE);
        Channel channel;
        try {
            channel = new ServerBootstrap()
                    .group(group)
                    .channel(NioServerSocketChannel.class)
                    .childHandler(new ApiChannelInitializer(tls, router, authenticator, idleTimeout, channels))
                    .bind(listen)
                    .sync()
                    .channel();
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) { // Netty rethrows the bind failure (a checked BindException) as it is
            throw new IllegalStateException("cannot listen on " + listen + ": " + e.getMessage(), e);
        }
        return new ApiServer(channel, channels);
    }

    /** The bound address (the real port when 0 was asked for). */
    public InetSocketAddress address() {
        return (InetSocketAddress) serverChannel.localAddress();
    }

    @Override
    public void close() {
        serverChannel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        channels.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}
