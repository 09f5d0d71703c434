package dev.outrider.proxy.admin;

import dev.outrider.proxy.config.HostPort;
import dev.outrider.proxy.transport.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;

import java.util.function.Supplier;

/**
 * Binds a small HTTP/1.1 server for the health and admin ports on the sidecar's event loops. Pipeline:
 * <pre>
 *   HttpServerCodec ─▶ HttpServerKeepAliveHandler ─▶ HttpObjectAggregator(4 KiB) ─▶ the server's handler
 * </pre>
 * The aggregator answers a body over {@link #MAX_BODY_BYTES} with 413 itself; the handler only ever sees
 * complete small requests.
 */
final class SmallHttpServer {
    /** Neither server takes a request body worth more than a few bytes. */
    static final int MAX_BODY_BYTES = 4 * 1024;

    private SmallHttpServer() {
    }

    /** Binds and returns the server channel; {@code handler} is asked once per accepted connection. */
    static Channel bind(Transport transport, HostPort listen, Supplier<ChannelHandler> handler)
            throws InterruptedException {
        return new ServerBootstrap()
                .group(transport.group())
                .channel(transport.serverChannel())
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ChannelPipeline p = ch.pipeline();
                        p.addLast("codec", new HttpServerCodec());
                        p.addLast("keepAlive", new HttpServerKeepAliveHandler());
                        p.addLast("aggregator", new HttpObjectAggregator(MAX_BODY_BYTES));
                        p.addLast("handler", handler.get());
                    }
                })
                .bind(listen.toAddress())
                .sync()
                .channel();
    }
}
