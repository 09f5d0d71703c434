package dev.outrider.controlplane.server;

import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.group.ChannelGroup;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.timeout.IdleStateHandler;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static java.util.Objects.requireNonNull;

/**
 * The pipeline of one API connection:
 * <pre>
 *   tls (TLS 1.3, client cert optional) ─▶ codec (HTTP/1.1; line 4 KiB, headers 8 KiB) ─▶ idle
 *     ─▶ aggregator (1 MiB, JSON 413) ─▶ api (an undecodable request: JSON 431, 414 or 400, then close)
 * </pre>
 * The TLS context is taken from {@code tls} per connection, so a renewed serving certificate applies to new
 * connections only. Keep-alive is {@link ApiHandler}'s (not Netty's HttpServerKeepAliveHandler, which closes
 * after a 304 without Content-Length, the long poll's timeout answer). Every accepted channel joins {@code channels}, which closing the server closes.
 */
final class ApiChannelInitializer extends ChannelInitializer<Channel> {
    /** Bodies are limited to 1 MiB (docs/control-plane.md "Errors"). */
    static final int MAX_BODY_BYTES = 1024 * 1024;
    /** The request line (method, target, version): longer is 414 (docs/control-plane.md "Errors"). */
    static final int MAX_INITIAL_LINE_BYTES = 4096;
    /** The whole header block: larger is 431. */
    static final int MAX_HEADER_BYTES = 8192;

    private final Supplier<SslContext> tls;
    private final Router router;
    private final Authenticator authenticator;
    private final Duration idleTimeout;
    private final ChannelGroup channels;

    ApiChannelInitializer(Supplier<SslContext> tls, Router router, Authenticator authenticator, Duration idleTimeout,
                          ChannelGroup channels) {
        this.tls = requireNonNull(tls, "tls");
        this.router = requireNonNull(router, "router");
        this.authenticator = requireNonNull(authenticator, "authenticator");
        this.idleTimeout = requireNonNull(idleTimeout, "idleTimeout");
        this.channels = requireNonNull(channels, "channels");
    }

    @Override
    protected void initChannel(Channel ch) {
        channels.add(ch);
        ChannelPipeline p = ch.pipeline();
        addTls(p, ch);
        addHttpCodec(p);
        addIdleTimeout(p);
        addAggregator(p);
        addApi(p);
    }

    private void addTls(ChannelPipeline p, Channel ch) {
        p.addLast("tls", tls.get().newHandler(ch.alloc()));
    }

    private static void addHttpCodec(ChannelPipeline p) {
        p.addLast("codec", new HttpServerCodec(new HttpDecoderConfig()
                .setMaxInitialLineLength(MAX_INITIAL_LINE_BYTES)
                .setMaxHeaderSize(MAX_HEADER_BYTES)));
    }

    /** Fires an event after {@code idleTimeout} without reads or writes; {@link ApiHandler} decides to close. */
    private void addIdleTimeout(ChannelPipeline p) {
        p.addLast("idle", new IdleStateHandler(0, 0, idleTimeout.toMillis(), TimeUnit.MILLISECONDS));
    }

    private static void addAggregator(ChannelPipeline p) {
        p.addLast("aggregator", new TooLargeAggregator(MAX_BODY_BYTES));
    }

    private void addApi(ChannelPipeline p) {
        p.addLast("api", new ApiHandler(router, authenticator));
    }
}
