package dev.outrider.proxy.upstream;

import dev.outrider.proxy.config.UpstreamConfig;
import dev.outrider.proxy.transport.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * Upstream connections of one event loop. Requests handled on that loop lease connections from it, so an
 * upstream connection never changes threads and the pool needs no locks.
 * <ul>
 *   <li>HTTP/1.1: idle keep-alive connections per endpoint, newest first (warm connections are reused,
 *       cold ones age out through the idle timeout). While idle a connection reads (auto-read on), so a
 *       close by the upstream is noticed at once and the connection leaves the pool.</li>
 *   <li>HTTP/2 (h2c prior knowledge): few connections per endpoint, each carrying up to the peer's
 *       SETTINGS_MAX_CONCURRENT_STREAMS streams; a request opens a stream.</li>
 * </ul>
 *
 * <p>Threading: every method runs on {@link #loop}; fields need no synchronization.
 */
public final class UpstreamPool {
    private final EventLoop loop;
    private final Transport transport;
    private final UpstreamConfig config;
    private final Map<Endpoint, ArrayDeque<Channel>> idleHttp1 = new HashMap<>();
    private final Map<Endpoint, List<Http2Connection>> http2 = new HashMap<>();
    private boolean closed;

    UpstreamPool(EventLoop loop, Transport transport, UpstreamConfig config) {
        this.loop = requireNonNull(loop, "loop");
        this.transport = requireNonNull(transport, "transport");
        this.config = requireNonNull(config, "config");
    }

    /**
     * Leases a stream to {@code endpoint}: a pooled or new HTTP/1.1 connection, or a stream on an HTTP/2
     * connection with room. The future fails with the connect error when no connection can be made.
     */
    public Future<UpstreamStream> acquire(Endpoint endpoint, boolean useHttp2) {
        assert loop.inEventLoop();
        Promise<UpstreamStream> promise = loop.newPromise();
        if (closed) {
            return promise.setFailure(new IllegalStateException("upstream pool is closed"));
        }
        endpoint.requestStarted();
        promise.addListener(f -> {
            if (!f.isSuccess()) {
                endpoint.requestFinished();
            }
        });
        if (useHttp2) {
            acquireHttp2(endpoint, promise);
        } else {
            acquireHttp1(endpoint, promise);
        }
        return promise;
    }

    private void acquireHttp1(Endpoint endpoint, Promise<UpstreamStream> promise) {
        ArrayDeque<Channel> idle = idleHttp1.get(endpoint);
        if (idle != null) {
            Channel ch;
            while ((ch = idle.pollFirst()) != null) {
                if (ch.isActive()) {
                    ch.config().setAutoRead(false);
                    promise.setSuccess(new UpstreamStream(ch, ch.pipeline().get(UpstreamHandler.class),
                            endpoint, this, false));
                    return;
                }
            }
        }
        UpstreamHandler handler = new UpstreamHandler();
        ChannelFuture connect = bootstrap().handler(new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast("idle", idleHandler());
                ch.pipeline().addLast("codec", new HttpClientCodec(new HttpDecoderConfig()
                        .setMaxInitialLineLength(8192)
                        .setMaxHeaderSize(65536)
                        .setMaxChunkSize(65536)
                        .setStrictLineParsing(true), false, false));
                ch.pipeline().addLast("upstream", handler);
            }
        }).connect(endpoint.address());
        connect.addListener((ChannelFuture f) -> {
            if (f.isSuccess()) {
                Channel ch = f.channel();
                ch.closeFuture().addListener(c -> { // once per connection: a closed one leaves the pool
                    ArrayDeque<Channel> pooled = idleHttp1.get(endpoint);
                    if (pooled != null) {
                        pooled.remove(ch);
                    }
                });
                promise.setSuccess(new UpstreamStream(ch, handler, endpoint, this, false));
            } else {
                promise.setFailure(f.cause());
            }
        });
    }

    void releaseHttp1(Endpoint endpoint, Channel ch, boolean reusable) {
        if (!reusable || closed || !ch.isActive()) {
            ch.close();
            return;
        }
        idleHttp1.computeIfAbsent(endpoint, e -> new ArrayDeque<>()).addFirst(ch);
        ch.config().setAutoRead(true); // notice an upstream close while idle
    }

    private void acquireHttp2(Endpoint endpoint, Promise<UpstreamStream> promise) {
        List<Http2Connection> conns = http2.computeIfAbsent(endpoint, e -> new ArrayList<>(2));
        for (Http2Connection c : conns) {
            if (c.hasRoom()) {
                c.openStream(endpoint, promise);
                return;
            }
        }
        Http2Connection conn = new Http2Connection(this, idleHandlerNanos());
        conns.add(conn);
        ChannelFuture connect = bootstrap().option(ChannelOption.AUTO_READ, true).handler(conn.initializer())
                .connect(endpoint.address());
        conn.connecting(connect);
        connect.addListener((ChannelFuture f) -> {
            if (!f.isSuccess()) {
                conns.remove(conn);
            } else {
                f.channel().closeFuture().addListener(c -> conns.remove(conn));
            }
        });
        conn.openStream(endpoint, promise);
    }

    UpstreamStream newHttp2Stream(Channel stream, UpstreamHandler handler, Endpoint endpoint) {
        return new UpstreamStream(stream, handler, endpoint, this, true);
    }

    private Bootstrap bootstrap() {
        return new Bootstrap()
                .group(loop)
                .channel(transport.channel())
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE,
                        config.connectTimeout().toMillis()));
    }

    IdleStateHandler idleHandler() {
        return new IdleStateHandler(0, 0, idleHandlerNanos(), TimeUnit.NANOSECONDS);
    }

    private long idleHandlerNanos() {
        return config.idleTimeout().toNanos();
    }

    /** Closes every pooled connection; leases in progress end with their requests. */
    public void close() {
        assert loop.inEventLoop();
        closed = true;
        for (ArrayDeque<Channel> idle : idleHttp1.values()) {
            for (Channel ch : List.copyOf(idle)) {
                ch.close();
            }
        }
        idleHttp1.clear();
        for (List<Http2Connection> conns : http2.values()) {
            for (Http2Connection c : List.copyOf(conns)) {
                c.close();
            }
        }
        http2.clear();
    }
}
