package dev.outrider.proxy.it;

import dev.outrider.proxy.tls.TestPki;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;

import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.X509ExtendedKeyManager;
import java.lang.reflect.Method;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * A Netty HTTP/1.1-over-TLS client that talks straight to an inbound listener, with either provider: one new
 * connection per request, so every request is a handshake. It presents whatever certificate the test gives
 * it, whatever CAs the server asks for (the JDK's key manager would quietly send none for a foreign CA), and
 * accepts any server certificate: the server is the one under test; its certificate is returned for the
 * test to inspect.
 */
final class TlsTestClient implements AutoCloseable {
    /** A response, copied, with what the handshake showed. */
    record Response(int status, String body, X509Certificate serverCertificate, boolean resumed) {
    }

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());

    /** A client context presenting {@code leaf} (null: no certificate), offering {@code protocols}. */
    static SslContext context(SslProvider provider, TestPki.Leaf leaf, String... protocols) throws SSLException {
        SslContextBuilder b = SslContextBuilder.forClient()
                .sslProvider(provider)
                .trustManager(InsecureTrustManagerFactory.INSTANCE)
                .endpointIdentificationAlgorithm(null)
                .protocols(protocols.length == 0 ? new String[] {"TLSv1.3"} : protocols);
        if (leaf != null) {
            b.keyManager(new FixedKeyManager(leaf));
        }
        return b.build();
    }

    /** A client context presenting {@code leaf} that offers HTTP/2 only, by ALPN (RFC 7301). */
    static SslContext h2Context(SslProvider provider, TestPki.Leaf leaf) throws SSLException {
        return SslContextBuilder.forClient()
                .sslProvider(provider)
                .trustManager(InsecureTrustManagerFactory.INSTANCE)
                .endpointIdentificationAlgorithm(null)
                .protocols("TLSv1.3")
                .keyManager(new FixedKeyManager(leaf))
                .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                        ApplicationProtocolNames.HTTP_2))
                .build();
    }

    /**
     * A JDK {@link SSLContext} for blocking {@code SSLSocket}s (byte-level tests): TLS 1.3, presenting
     * {@code leaf}, accepting any server certificate.
     */
    static SSLContext jdkSocketContext(TestPki.Leaf leaf) throws GeneralSecurityException {
        SSLContext context = SSLContext.getInstance("TLSv1.3");
        context.init(new KeyManager[] {new FixedKeyManager(leaf)},
                InsecureTrustManagerFactory.INSTANCE.getTrustManagers(), null);
        return context;
    }

    /** GET {@code path} with {@code headers} over a new connection; fails when no HTTP response arrives. */
    Response get(InetSocketAddress to, SslContext ssl, String path, Map<String, String> headers) throws Exception {
        CompletableFuture<Response> result = new CompletableFuture<>();
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, path);
        request.headers().set(HttpHeaderNames.HOST, "orders");
        headers.forEach(request.headers()::add);
        Channel ch = new Bootstrap()
                .group(group)
                .channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        // Host and port name the client session cache entry, which is what resumption needs.
                        ch.pipeline().addLast(ssl.newHandler(ch.alloc(), to.getHostString(), to.getPort()),
                                new HttpClientCodec(), new HttpObjectAggregator(1 << 20),
                                new Exchange(request, result));
                    }
                })
                .connect(to).sync().channel();
        try {
            return result.get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        } finally {
            ch.close().syncUninterruptibly();
            if (request.refCnt() > 0) {
                request.release();
            }
        }
    }

    Response get(InetSocketAddress to, SslContext ssl) throws Exception {
        return get(to, ssl, "/", Map.of());
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private static final class Exchange extends SimpleChannelInboundHandler<FullHttpResponse> {
        private final FullHttpRequest request;
        private final CompletableFuture<Response> result;
        private X509Certificate server;
        private boolean resumed;

        Exchange(FullHttpRequest request, CompletableFuture<Response> result) {
            this.request = request;
            this.result = result;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            if (evt instanceof SslHandshakeCompletionEvent done) {
                if (!done.isSuccess()) {
                    result.completeExceptionally(done.cause());
                    ctx.close();
                    return;
                }
                SSLEngine engine = ctx.pipeline().get(SslHandler.class).engine();
                server = (X509Certificate) engine.getSession().getPeerCertificates()[0];
                resumed = isSessionReused(engine);
                ctx.writeAndFlush(request);
            }
            super.userEventTriggered(ctx, evt);
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse r) {
            result.complete(new Response(r.status().code(), r.content().toString(StandardCharsets.UTF_8), server,
                    resumed));
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            result.completeExceptionally(new SSLException("connection closed without a response"));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            result.completeExceptionally(cause);
            ctx.close();
        }
    }

    /**
     * Whether BoringSSL resumed the session ({@code SSL_session_reused}). Netty keeps the method package-private;
     * the test reads it reflectively. False for the JDK provider, which has no such flag.
     */
    static boolean isSessionReused(SSLEngine engine) {
        try {
            // Not initialized here: with the JDK provider BoringSSL was never loaded, and initializing the
            // engine class without it fails; an engine of that class exists only once it was.
            Class<?> openSsl = Class.forName("io.netty.handler.ssl.ReferenceCountedOpenSslEngine", false,
                    TlsTestClient.class.getClassLoader());
            if (!openSsl.isInstance(engine)) {
                return false;
            }
            Method m = openSsl.getDeclaredMethod("isSessionReused");
            m.setAccessible(true);
            return (Boolean) m.invoke(engine);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot read the session-reused flag", e);
        }
    }

    /** Always offers the one leaf, whatever the server asks for. */
    private static final class FixedKeyManager extends X509ExtendedKeyManager {
        private static final String ALIAS = "leaf";
        private final X509Certificate[] chain;
        private final PrivateKey key;

        FixedKeyManager(TestPki.Leaf leaf) {
            this.chain = leaf.chain().toArray(new X509Certificate[0]);
            this.key = leaf.key();
        }

        @Override
        public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
            return ALIAS;
        }

        @Override
        public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
            return ALIAS;
        }

        @Override
        public String[] getClientAliases(String keyType, Principal[] issuers) {
            return new String[] {ALIAS};
        }

        @Override
        public String[] getServerAliases(String keyType, Principal[] issuers) {
            return null;
        }

        @Override
        public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
            return null;
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias) {
            return chain.clone();
        }

        @Override
        public PrivateKey getPrivateKey(String alias) {
            return key;
        }
    }
}
