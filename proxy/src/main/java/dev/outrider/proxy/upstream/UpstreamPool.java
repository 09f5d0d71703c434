package dev.outrider.proxy.upstream;

import dev.outrider.proxy.config.UpstreamConfig;
import dev.outrider.proxy.http.IdleTimeoutHandler;
import dev.outrider.proxy.transport.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

import io.netty.resolver.AddressResolverGroup;

import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static java.util.Objects.requireNonNull;

/**
 * Upstream connections of one event loop. Requests handled on that loop lease connections from it, so an
 * upstream connection never changes threads and the pool needs no locks.
 * <ul>
 *   <li>HTTP/1.1: idle keep-alive connections per endpoint, newest first (warm connections are reused,
 *       cold ones age out through the idle timeout), at most {@code upstream.maxIdlePerEndpoint} of them:
 *       beyond that the least recently used is closed. While idle a connection reads (auto-read on), so a
 *       close by the upstream is noticed at once and the connection leaves the pool.</li>
 *   <li>HTTP/2 (h2c prior knowledge): few connections per endpoint, each carrying up to the peer's
 *       SETTINGS_MAX_CONCURRENT_STREAMS streams; a request opens a stream.</li>
 *   <li>TLS originated to external servers ({@link #acquireOriginated}): HTTP/1.1 only, the server's chain and
 *       name verified by the SSL engine ({@link OriginatedTlsHandler}).</li>
 *   <li>mTLS (to other sidecars): the handshake, the upstream's identity check and ALPN come first
 *       ({@link UpstreamTlsHandler}); the connection then joins the HTTP/2 or HTTP/1.1 side. The request's
 *       protocol decides what ALPN offers: h2 for a request forwarded over HTTP/2, only http/1.1 for one
 *       forwarded over HTTP/1.1, so the two kinds are pooled apart.</li>
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
    /**
     * mTLS connections being made for HTTP/2, per endpoint, with the HTTP/2 requests that arrived meanwhile:
     * they wait for it rather than each starting a handshake, since one HTTP/2 connection carries them all.
     */
    private final Map<Endpoint, List<Promise<UpstreamStream>>> connectingTls = new HashMap<>();
    /** Resolves unresolved endpoint addresses (external services with DNS resolution) off the event loops. */
    private final AddressResolverGroup<InetSocketAddress> resolver;
    private boolean closed;

    UpstreamPool(EventLoop loop, Transport transport, UpstreamConfig config,
                 AddressResolverGroup<InetSocketAddress> resolver) {
        this.loop = requireNonNull(loop, "loop");
        this.transport = requireNonNull(transport, "transport");
        this.config = requireNonNull(config, "config");
        this.resolver = requireNonNull(resolver, "resolver");
    }

    /**
     * Leases a stream to {@code endpoint}: a pooled or new HTTP/1.1 connection, or a stream on an HTTP/2
     * connection with room. The future fails with the connect error when no connection can be made.
     */
    public Future<UpstreamStream> acquire(Endpoint endpoint, boolean useHttp2, UpstreamTls tls) {
        assert loop.inEventLoop();
        Promise<UpstreamStream> promise = newLease(endpoint);
        if (promise.isDone()) {
            return promise; // the pool is closed
        }
        if (tls != null && useHttp2) {
            acquireTlsHttp2(endpoint, tls, promise);
        } else if (tls != null) {
            acquireTlsHttp1(endpoint, tls, promise);
        } else if (useHttp2) {
            acquireHttp2(endpoint, promise);
        } else {
            acquireHttp1(endpoint, promise);
        }
        return promise;
    }

    /**
     * The promise of a lease on {@code endpoint}, counted on the endpoint (least-request balancing) from now until it
     * fails, or until the lease it brings is released; failed at once when the pool is closed.
     */
    private Promise<UpstreamStream> newLease(Endpoint endpoint) {
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
        return promise;
    }

    /**
     * Leases an HTTP/1.1 connection to an external server over TLS the sidecar originates: an idle pooled one, else
     * a new one whose handshake (chain and name verified, {@link OriginatedTlsHandler}) must succeed before the
     * request is written. External endpoints are not shared with mesh clusters, so pooled connections never mix.
     */
    public Future<UpstreamStream> acquireOriginated(Endpoint endpoint, OriginatedTls tls) {
        assert loop.inEventLoop();
        requireNonNull(tls, "tls");
        Promise<UpstreamStream> promise = newLease(endpoint);
        if (promise.isDone()) {
            return promise; // the pool is closed
        }
        if (takeIdleHttp1(endpoint, promise)) {
            return promise;
        }
        OriginatedTlsHandler verify = new OriginatedTlsHandler(this, endpoint, tls, promise);
        ChannelFuture connect = bootstrap(endpoint).handler(new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                SslHandler ssl = tls.context().newHandler(ch.alloc(), tls.sni(), endpoint.address().getPort());
                ssl.setHandshakeTimeoutMillis(config.connectTimeout().toMillis());
                ch.pipeline().addLast("tls", ssl);
                ch.pipeline().addLast("tls-verify", verify);
            }
        }).connect(endpoint.address());
        connect.addListener((ChannelFuture f) -> {
            if (!f.isSuccess()) {
                promise.tryFailure(f.cause());
            }
        });
        return promise;
    }

    /**
     * mTLS for a request forwarded over HTTP/2: a connection with room is reused, and while one is being made
     * requests wait for it. When its handshake ends the waiting requests try again (streams on the new
     * connection, or, if the peer chose HTTP/1.1 by ALPN, connections of their own; idle connections made for
     * HTTP/1.1 requests are not taken, so an HTTP/2 caller's request is not downgraded while the peer speaks
     * HTTP/2) or, if it failed, fail with the same cause: the same endpoint would fail them the same way, and
     * the failure is counted once.
     */
    private void acquireTlsHttp2(Endpoint endpoint, UpstreamTls tls, Promise<UpstreamStream> promise) {
        List<Http2Connection> conns = http2.get(endpoint);
        if (conns != null) {
            for (Http2Connection c : conns) {
                if (c.hasRoom()) {
                    c.openStream(endpoint, promise);
                    return;
                }
            }
        }
        List<Promise<UpstreamStream>> waiting = connectingTls.get(endpoint);
        if (waiting != null) {
            waiting.add(promise);
            return;
        }
        List<Promise<UpstreamStream>> waiters = new ArrayList<>();
        connectingTls.put(endpoint, waiters);
        promise.addListener(f -> {
            connectingTls.remove(endpoint, waiters);
            for (Promise<UpstreamStream> w : waiters) {
                if (w.isDone()) {
                    continue;
                }
                if (closed) {
                    w.tryFailure(new IllegalStateException("upstream pool is closed"));
                } else if (f.isSuccess() || f.isCancelled()) {
                    acquireTlsHttp2(endpoint, tls, w);
                } else {
                    w.tryFailure(f.cause());
                }
            }
        });
        connectTls(endpoint, tls, true, promise);
    }

    /**
     * mTLS for a request forwarded over HTTP/1.1: an idle pooled connection, else a new one of its own (one
     * request at a time per connection, as between the caller and this sidecar).
     */
    private void acquireTlsHttp1(Endpoint endpoint, UpstreamTls tls, Promise<UpstreamStream> promise) {
        if (!takeIdleHttp1(endpoint, promise)) {
            connectTls(endpoint, tls, false, promise);
        }
    }

    private void connectTls(Endpoint endpoint, UpstreamTls tls, boolean offerHttp2, Promise<UpstreamStream> promise) {
        connectTls(endpoint, tls, offerHttp2, promise, (ch, http2) -> {
            if (http2) {
                adoptHttp2(endpoint, ch, promise);
            } else {
                adoptHttp1(endpoint, ch, promise);
            }
        });
    }

    /**
     * A new connection of its own for a TCP tunnel to {@code endpoint} (never pooled: it carries one TCP
     * connection, then closes): with {@code tls}, the same handshake and identity check as for requests,
     * ALPN http/1.1; the promise gets the connection once it is verified, auto-read off, with nothing in its
     * pipeline after TLS, and counts on the endpoint (least-request balancing) until it closes.
     *
     * @param tls mTLS to the service's sidecars, or null for plaintext (tls.mode: disabled)
     */
    public Future<Channel> connectTunnel(Endpoint endpoint, UpstreamTls tls) {
        assert loop.inEventLoop();
        Promise<Channel> promise = loop.newPromise();
        if (closed) {
            return promise.setFailure(new IllegalStateException("upstream pool is closed"));
        }
        endpoint.requestStarted();
        promise.addListener(f -> {
            if (f.isSuccess()) {
                ((Channel) f.getNow()).closeFuture().addListener(c -> endpoint.requestFinished());
            } else {
                endpoint.requestFinished();
            }
        });
        if (tls != null) {
            connectTls(endpoint, tls, false, promise, (ch, http2) -> promise.trySuccess(ch));
        } else {
            connectPlain(endpoint.address()).addListener((ChannelFuture f) -> {
                if (f.isSuccess()) {
                    promise.trySuccess(f.channel());
                } else {
                    promise.tryFailure(f.cause());
                }
            });
        }
        return promise;
    }

    /**
     * A plaintext connection of its own to {@code address} with the upstream settings (connect timeout, auto-read
     * off) and an empty pipeline: a TCP tunnel's connection to the local application.
     */
    public ChannelFuture connectPlain(InetSocketAddress address) {
        assert loop.inEventLoop();
        return bootstrap().handler(new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                // nothing until the tunnel is joined
            }
        }).connect(address);
    }

    private void connectTls(Endpoint endpoint, UpstreamTls tls, boolean offerHttp2, Promise<?> promise,
                            UpstreamTlsHandler.Adopter adopter) {
        UpstreamTlsHandler verify = new UpstreamTlsHandler(endpoint, tls, promise, adopter);
        ChannelFuture connect = bootstrap(endpoint).handler(new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                SslHandler ssl = tls.state().current().client(offerHttp2).newHandler(ch.alloc(),
                        endpoint.address().getHostString(), endpoint.address().getPort());
                ssl.setHandshakeTimeoutMillis(tls.state().config().handshakeTimeout().toMillis());
                ch.pipeline().addLast("tls", ssl);
                ch.pipeline().addLast("tls-verify", verify);
            }
        }).connect(endpoint.address());
        connect.addListener((ChannelFuture f) -> {
            if (!f.isSuccess()) {
                promise.tryFailure(f.cause());
            }
        });
    }

    /** After a verified handshake that chose HTTP/2: the connection joins the pool and opens a stream. */
    void adoptHttp2(Endpoint endpoint, Channel ch, Promise<UpstreamStream> promise) {
        Http2Connection conn = new Http2Connection(idleHandlerNanos());
        conn.install(ch.pipeline());
        conn.connecting(ch.newSucceededFuture());
        List<Http2Connection> conns = http2.computeIfAbsent(endpoint, e -> new ArrayList<>(2));
        conns.add(conn);
        ch.closeFuture().addListener(c -> conns.remove(conn));
        ch.config().setAutoRead(true);
        conn.openStream(endpoint, promise);
    }

    /** After a verified handshake that chose HTTP/1.1: the connection carries this request. */
    void adoptHttp1(Endpoint endpoint, Channel ch, Promise<UpstreamStream> promise) {
        UpstreamHandler handler = new UpstreamHandler();
        installHttp1(ch.pipeline(), handler);
        watchClose(endpoint, ch);
        promise.trySuccess(new Http1UpstreamStream(ch, handler, endpoint, this));
    }

    private void acquireHttp1(Endpoint endpoint, Promise<UpstreamStream> promise) {
        if (takeIdleHttp1(endpoint, promise)) {
            return;
        }
        UpstreamHandler handler = new UpstreamHandler();
        ChannelFuture connect = bootstrap(endpoint).handler(new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                installHttp1(ch.pipeline(), handler);
            }
        }).connect(endpoint.address());
        connect.addListener((ChannelFuture f) -> {
            if (f.isSuccess()) {
                watchClose(endpoint, f.channel());
                promise.setSuccess(new Http1UpstreamStream(f.channel(), handler, endpoint, this));
            } else {
                promise.setFailure(f.cause());
            }
        });
    }

    private boolean takeIdleHttp1(Endpoint endpoint, Promise<UpstreamStream> promise) {
        ArrayDeque<Channel> idle = idleHttp1.get(endpoint);
        if (idle != null) {
            Channel ch;
            while ((ch = idle.pollFirst()) != null) {
                if (ch.isActive()) {
                    ch.config().setAutoRead(false);
                    promise.setSuccess(new Http1UpstreamStream(ch, ch.pipeline().get(UpstreamHandler.class),
                            endpoint, this));
                    return true;
                }
            }
        }
        return false;
    }

    private void installHttp1(ChannelPipeline p, UpstreamHandler handler) {
        p.addLast("idle", idleHandler());
        p.addLast(UpstreamStream.CODEC, new HttpClientCodec(new HttpDecoderConfig()
                .setMaxInitialLineLength(8192)
                .setMaxHeaderSize(65536)
                .setMaxChunkSize(65536)
                .setStrictLineParsing(true), false, false));
        p.addLast("upstream", handler);
    }

    /** Once per connection: a closed connection leaves the idle pool. */
    private void watchClose(Endpoint endpoint, Channel ch) {
        ch.closeFuture().addListener(c -> {
            ArrayDeque<Channel> pooled = idleHttp1.get(endpoint);
            if (pooled != null) {
                pooled.remove(ch);
            }
        });
    }

    void releaseHttp1(Endpoint endpoint, Channel ch, boolean reusable) {
        if (!reusable || closed || !ch.isActive()) {
            ch.close();
            return;
        }
        ArrayDeque<Channel> idle = idleHttp1.computeIfAbsent(endpoint, e -> new ArrayDeque<>());
        idle.addFirst(ch);
        ch.config().setAutoRead(true); // notice an upstream close while idle
        while (idle.size() > config.maxIdlePerEndpoint()) {
            idle.pollLast().close(); // the least recently used (upstream.maxIdlePerEndpoint)
        }
    }

    private void acquireHttp2(Endpoint endpoint, Promise<UpstreamStream> promise) {
        List<Http2Connection> conns = http2.computeIfAbsent(endpoint, e -> new ArrayList<>(2));
        for (Http2Connection c : conns) {
            if (c.hasRoom()) {
                c.openStream(endpoint, promise);
                return;
            }
        }
        Http2Connection conn = new Http2Connection(idleHandlerNanos());
        conns.add(conn);
        ChannelFuture connect = bootstrap(endpoint).option(ChannelOption.AUTO_READ, true).handler(conn.initializer())
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

    /** An unresolved address (an external host with DNS resolution) is resolved by {@link #resolver}, off the loop. */
    private Bootstrap bootstrap(Endpoint endpoint) {
        Bootstrap b = bootstrap();
        return endpoint.address().isUnresolved() ? b.resolver(resolver) : b;
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

    IdleTimeoutHandler idleHandler() {
        return new IdleTimeoutHandler(idleHandlerNanos());
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
