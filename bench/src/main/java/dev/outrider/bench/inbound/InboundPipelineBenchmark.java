package dev.outrider.bench.inbound;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.outrider.core.model.SpiffeId;
import dev.outrider.core.policy.PolicyDocuments;
import dev.outrider.proxy.accesslog.AccessLog;
import dev.outrider.proxy.accesslog.AsyncSecurityEvents;
import dev.outrider.proxy.authn.JwksCache;
import dev.outrider.proxy.config.DefaultAction;
import dev.outrider.proxy.config.HttpConfig;
import dev.outrider.proxy.config.JwtConfig;
import dev.outrider.proxy.config.NodeConfig;
import dev.outrider.proxy.config.PolicyConfig;
import dev.outrider.proxy.config.SecurityEventsConfig;
import dev.outrider.proxy.config.TransportKind;
import dev.outrider.proxy.config.UpstreamConfig;
import dev.outrider.proxy.forward.ForwardingContext;
import dev.outrider.proxy.forward.ForwardingHandler;
import dev.outrider.proxy.forward.NoRoute;
import dev.outrider.proxy.http.DownstreamConnections;
import dev.outrider.proxy.http.RequestPathPolicy;
import dev.outrider.proxy.config.EscapedSlashes;
import dev.outrider.proxy.config.PathParameters;
import dev.outrider.proxy.inbound.InboundInitializer;
import dev.outrider.proxy.inbound.InboundPolicy;
import dev.outrider.proxy.metrics.Direction;
import dev.outrider.proxy.metrics.ProxyMetrics;
import dev.outrider.proxy.metrics.Registries;
import dev.outrider.proxy.policy.PolicyMetrics;
import dev.outrider.proxy.policy.PolicyStore;
import dev.outrider.proxy.policy.WorkloadPolicyCompiler;
import dev.outrider.proxy.ratelimit.RateLimiter;
import dev.outrider.proxy.runtime.DrainState;
import dev.outrider.proxy.tls.PeerIdentity;
import dev.outrider.proxy.transport.Transport;
import dev.outrider.proxy.upstream.UpstreamPools;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.DefaultChannelId;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.internal.PlatformDependent;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One whole inbound HTTP/1.1 request through the proxy's real inbound pipeline, TLS aside: the pipeline is
 * built by {@link InboundInitializer} itself (plaintext listener: connection tracker, protocol detection,
 * idle handler, strict HTTP/1.1 codec, pipelining, request guard, expect-continue, path normalization,
 * client-certificate header, authn, authz, rate limit), on an {@link EmbeddedChannel} whose remote address is
 * an IP socket address and which carries the caller's {@link PeerIdentity} as {@code InboundTlsHandler} sets
 * it after the handshake. The policies are YAML documents compiled by the real {@link WorkloadPolicyCompiler}
 * (RequestAuthentication with an inline ES256 JWKS and a token cache, an ALLOW AuthorizationPolicy, a
 * per-caller RateLimitPolicy that no request reaches) and the meters live in the proxy's Prometheus registry.
 * The access log is off ({@link AccessLog#disabled()}), the proxy's other defaults as in its bootstrap.
 *
 * <p>Where it stops: at the forwarding handoff. The real {@link ForwardingHandler} would lease an upstream
 * connection from the pools (a socket on a real event loop), which an EmbeddedChannel cannot host; a stub
 * route would either need a fake upstream stack or answer locally (a different path). So the benchmark lets
 * {@link InboundInitializer} build the pipeline, then replaces its {@code forward} handler with
 * {@link Application} before any request reached it (the connection's first byte alone makes the protocol
 * detector install HTTP/1.1 and the request handlers; the rest of the set-up request follows the swap), so
 * the proxy needs no test seam. {@link Application} releases the request head and its end and writes back a
 * prebuilt {@code 200} (no body). The response write is kept because the pipeline needs it: the
 * pipelining handler lets the next request of a keep-alive connection through only once a response ended,
 * and the rate-limit handler releases the request's slots on that write. Not measured, then: the forwarding
 * headers ({@code HeaderHygiene}, measured by {@code HeaderHygieneBenchmark}), the route and load balancer
 * ({@code LoadBalancerBenchmark}), the upstream write and the access-log entry of a forwarded request; and,
 * since there is no TLS here, the {@code X-Forwarded-Client-Cert} value (the header is only stripped) and the
 * record decryption ({@code HandshakeBenchmark} covers the handshake).
 *
 * <p>One op: the request's bytes (one {@link ByteBuf} as a socket read brings them) go in, the encoded
 * response comes out and is released. Variants, all on one keep-alive connection per variant:
 * <ul>
 *   <li>{@link #allowedWithCachedJwt}: {@code GET /api/orders/12345} with {@code Authorization: Bearer} an ES256
 *       token already in the token cache (verified once at set-up); allowed by the rule that needs a request
 *       principal; admitted; handed off.
 *   <li>{@link #allowedWithoutJwt}: {@code GET /api/catalog/12345}, no token: authn finds none, authz allows
 *       by the caller's principal alone (second rule); admitted; handed off.
 *   <li>{@link #deniedLocalReply}: {@code GET /api/orders/12345} without the token that path needs: authz
 *       answers 403 itself (the local-reply path; the connection stays open for the next request).
 * </ul>
 * Set-up checks each variant once (what reached the application, with which headers, and the status), and
 * every op checks the status of the response it reads back, so a change of outcome fails the run.
 *
 * <p>The benchmark thread stands for the connection's event loop: it is one of Netty's own threads
 * ({@link dev.outrider.bench.EventLoopLikeThreads}; on a plain thread Netty pools nothing through its
 * {@code Recycler}, and each response write would allocate an outbound-buffer entry that an event loop
 * reuses), and a request's bytes enter the pipeline as a socket read hands them over (one
 * {@code channelRead}, then {@code channelReadComplete}). The fork runs with the sidecar's flags that change
 * what a request allocates (config/jvm/sidecar.options: compact object headers, Netty with Unsafe).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(jvmArgsPrepend = {"-Djmh.executor=CUSTOM", "-Djmh.executor.class=dev.outrider.bench.EventLoopLikeThreads",
        "-XX:+UseCompactObjectHeaders", "--sun-misc-unsafe-memory-access=allow"})
public class InboundPipelineBenchmark {
    private static final String ISSUER = "https://issuer.bench";
    /** The first digit of the status each variant's response must carry. */
    private static final byte OK = '2';
    private static final byte FORBIDDEN = '4';
    private static final SpiffeId CALLER = SpiffeId.parse("spiffe://cluster.local/ns/shop/sa/frontend");
    private static final InetSocketAddress CALLER_ADDRESS = new InetSocketAddress("10.1.2.3", 41234);
    /** The proxy's defaults (BootstrapLoader.DEFAULT_HTTP, DEFAULT_JWT, DEFAULT_POLICIES, DEFAULT_UPSTREAM). */
    private static final HttpConfig HTTP = new HttpConfig(8192, 16384, 100, 256, Duration.ofMinutes(5),
            Duration.ofSeconds(10));
    private static final JwtConfig JWT = new JwtConfig(List.of("RS256", "ES256", "EdDSA"), Duration.ofSeconds(60),
            16 * 1024, 10_000, Duration.ofMinutes(5));
    private static final PolicyConfig POLICIES = new PolicyConfig(null, DefaultAction.DENY, "outrider-system",
            EscapedSlashes.REJECT, PathParameters.REJECT, Duration.ofSeconds(2));
    private static final UpstreamConfig UPSTREAM = new UpstreamConfig(Duration.ofSeconds(1), Duration.ofSeconds(15),
            Duration.ofSeconds(60), 2, 20, 3, 128);
    private static final NodeConfig NODE = new NodeConfig("orders", "shop", "orders", "cluster.local",
            Map.of("app", "orders"));

    private static final String DOCUMENTS = """
            apiVersion: security.istio.io/v1
            kind: RequestAuthentication
            metadata: {name: jwt, namespace: shop}
            spec:
              jwtRules:
                - issuer: %s
                  audiences: [orders]
                  jwks: '%s'
            ---
            apiVersion: outrider.dev/v1
            kind: AuthorizationPolicy
            metadata: {name: orders-allow, namespace: shop}
            spec:
              selector: {matchLabels: {app: orders}}
              action: ALLOW
              rules:
                - from: [{source: {principals: [cluster.local/ns/shop/sa/frontend], requestPrincipals: ["%s/*"]}}]
                  to: [{operation: {methods: [GET], paths: ["/api/orders/*"]}}]
                - from: [{source: {principals: [cluster.local/ns/shop/sa/frontend]}}]
                  to: [{operation: {methods: [GET], paths: ["/api/catalog/*"]}}]
            ---
            apiVersion: outrider.dev/v1
            kind: RateLimitPolicy
            metadata: {name: orders-limits, namespace: shop}
            spec:
              selector: {matchLabels: {app: orders}}
              rules:
                - name: per-caller
                  key: source.principal
                  limit: {requests: 1000000, per: 1s, burst: 1000000}  # the most a document may say; never reached here
            """;

    private PrometheusMeterRegistry registry;
    private JwksCache jwks;
    private RateLimiter rateLimiter;
    private Transport transport;
    private UpstreamPools pools;
    private AsyncSecurityEvents securityEvents;

    private Connection withJwt;
    private Connection withoutJwt;
    private Connection denied;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        ECKey key = new ECKeyGenerator(Curve.P_256).keyID("k1").generate();
        String token = token(key);
        registry = Registries.prometheus();
        PolicyMetrics policyMetrics = new PolicyMetrics(registry);
        ProxyMetrics metrics = new ProxyMetrics(registry);
        jwks = new JwksCache(JwksCache.Config.defaults());
        rateLimiter = new RateLimiter(10_000, Duration.ofSeconds(1), System::nanoTime, registry);
        WorkloadPolicyCompiler compiler = new WorkloadPolicyCompiler(NODE, POLICIES, JWT, jwks, policyMetrics,
                rateLimiter);
        PolicyStore store = new PolicyStore(compiler.compile("v1", "bench", PolicyDocuments.parse(
                DOCUMENTS.formatted(ISSUER, new JWKSet(key.toPublicJWK()), ISSUER), "bench.yaml")));
        DrainState drain = new DrainState();
        // Security events on (discarded): an admitted request must build none, a denied one none over the limit.
        securityEvents = AsyncSecurityEvents.start(new SecurityEventsConfig(true, "/dev/null", 20, 100,
                Duration.ofSeconds(10)), registry);
        InboundPolicy policy = new InboundPolicy(store, policyMetrics, metrics, AccessLog.disabled(), securityEvents,
                drain, 8080);

        // ForwardingContext needs pools; they are never used (the forward handler is replaced, see the Javadoc).
        transport = Transport.create(TransportKind.NIO, 1, "bench-unused");
        pools = new UpstreamPools(transport, UPSTREAM);
        ForwardingContext forwarding = new ForwardingContext(Direction.INBOUND,
                (request, connection) -> new NoRoute(HttpResponseStatus.BAD_GATEWAY, "not used"), pools, UPSTREAM,
                metrics, AccessLog.disabled(), drain, "https");
        InboundInitializer initializer = new InboundInitializer(HTTP, 1000,
                new DownstreamConnections(Direction.INBOUND, metrics, Integer.MAX_VALUE, Integer.MAX_VALUE),
                forwarding, null, policy, RequestPathPolicy.Rules.DEFAULT);

        withJwt = new Connection(initializer, request("/api/orders/12345", token));
        withoutJwt = new Connection(initializer, request("/api/catalog/12345", null));
        denied = new Connection(initializer, request("/api/orders/12345", null));

        // Each variant once, checked: the first request also puts the token in the cache.
        withJwt.checkForwarded("/api/orders/12345");
        withoutJwt.checkForwarded("/api/catalog/12345");
        denied.checkDenied();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (Connection c : List.of(withJwt, withoutJwt, denied)) {
            c.finish();
        }
        pools.close(1, TimeUnit.SECONDS);
        transport.group().shutdownGracefully(0, 1, TimeUnit.SECONDS);
        rateLimiter.close();
        jwks.close();
        securityEvents.close();
        registry.close();
    }

    @Benchmark
    public int allowedWithCachedJwt() {
        return withJwt.exchange(OK);
    }

    @Benchmark
    public int allowedWithoutJwt() {
        return withoutJwt.exchange(OK);
    }

    @Benchmark
    public int deniedLocalReply() {
        return denied.exchange(FORBIDDEN);
    }

    private static String token(ECKey key) throws Exception {
        long now = System.currentTimeMillis() / 1000;
        JWTClaimsSet claims = new JWTClaimsSet.Builder().issuer(ISSUER).subject("user-42").audience("orders")
                .issueTime(new Date((now - 60) * 1000)).expirationTime(new Date((now + 24 * 3600) * 1000))
                .claim("groups", List.of("staff", "orders-readers")).build();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(key.getKeyID()).build(), claims);
        jwt.sign(new ECDSASigner(key));
        return jwt.serialize();
    }

    private static byte[] request(String path, String token) {
        return ("GET " + path + " HTTP/1.1\r\n"
                + "Host: orders.shop.svc.cluster.local:8080\r\n"
                + "User-Agent: bench/1.0\r\n"
                + "Accept: application/json\r\n"
                + (token == null ? "" : "Authorization: Bearer " + token + "\r\n")
                + "X-Request-Id: 4bf92f3577b34da6a3ce929d0e0e4736\r\n"
                + "\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * One downstream keep-alive connection: an EmbeddedChannel with the caller's address and verified
     * identity, its pipeline built by the real initializer, the forward handler swapped for {@link Application}.
     */
    private static final class Connection {
        private final EmbeddedChannel ch = new EmbeddedChannel(DefaultChannelId.newInstance(), false, false) {
            @Override
            protected SocketAddress remoteAddress0() {
                return CALLER_ADDRESS;
            }
        };
        private final Application app = new Application();
        /** The request's bytes, copied into a fresh buffer from the channel's allocator per op. */
        private final ByteBuf bytes;

        Connection(InboundInitializer initializer, byte[] request) throws Exception {
            bytes = Unpooled.unreleasableBuffer(Unpooled.directBuffer(request.length).writeBytes(request));
            ch.attr(PeerIdentity.KEY).set(new PeerIdentity(CALLER, "00".repeat(32))); // as after the handshake
            ch.pipeline().addLast(initializer);
            ch.register();
            // The first byte makes the protocol detector install HTTP/1.1 and the request handlers; the
            // request is not complete yet, so nothing reached "forward" when it is replaced.
            ch.writeInbound(Unpooled.wrappedBuffer(request, 0, 1));
            if (!(ch.pipeline().get("forward") instanceof ForwardingHandler)) {
                throw new IllegalStateException("pipeline has no forward handler: " + ch.pipeline().names());
            }
            ch.pipeline().replace("forward", "application", app);
            ch.writeInbound(Unpooled.wrappedBuffer(request, 1, request.length - 1));
        }

        /** The set-up request (written by the constructor) reached the application; its 200 came back. */
        void checkForwarded(String path) {
            HttpRequest r = app.last;
            if (app.requests != 1 || r == null || !r.uri().equals(path)) {
                throw new IllegalStateException("not forwarded as expected: " + app.requests + " " + r);
            }
            if (r.headers().contains(HttpHeaderNames.AUTHORIZATION)) {
                throw new IllegalStateException("the verified token was not stripped");
            }
            expectStatus(OK);
        }

        void checkDenied() {
            if (app.requests != 0) {
                throw new IllegalStateException("a denied request reached the application");
            }
            expectStatus(FORBIDDEN);
        }

        /**
         * One request in, its response out; returns the response's size in bytes. The request arrives as a socket
         * read brings it: in a direct buffer from the channel's allocator (the codec releases it), one
         * {@code channelRead} then {@code channelReadComplete} (not {@code writeInbound}'s varargs array).
         */
        int exchange(byte expectedStatusClass) {
            int n = bytes.readableBytes();
            ByteBuf read = ch.alloc().directBuffer(n);
            if (read.hasMemoryAddress() && bytes.hasMemoryAddress()) {
                // memory to memory, as the kernel fills a socket read's buffer: ByteBuf.writeBytes would copy
                // through ByteBuffer views of the two buffers, objects a socket read does not make
                PlatformDependent.copyMemory(bytes.memoryAddress() + bytes.readerIndex(),
                        read.memoryAddress() + read.writerIndex(), n);
                read.writerIndex(read.writerIndex() + n);
            } else {
                read.writeBytes(bytes, bytes.readerIndex(), n);
            }
            ch.writeOneInbound(read, ch.voidPromise());
            ch.flushInbound();
            return expectStatus(expectedStatusClass);
        }

        private int expectStatus(byte statusClass) {
            ch.runPendingTasks();
            ByteBuf first = ch.readOutbound();
            if (first == null || first.getByte(first.readerIndex() + 9) != statusClass || !ch.isOpen()) {
                String got = first == null ? "nothing" : first.toString(StandardCharsets.US_ASCII);
                ReferenceCountUtil.release(first);
                throw new IllegalStateException("unexpected response: " + got + ", open " + ch.isOpen());
            }
            int n = first.readableBytes();
            first.release();
            ByteBuf more;
            while ((more = ch.readOutbound()) != null) { // a local reply's body may come as a second buffer
                n += more.readableBytes();
                more.release();
            }
            return n;
        }

        void finish() {
            bytes.unwrap().release();
            if (ch.finishAndReleaseAll()) {
                throw new IllegalStateException("messages left on the connection");
            }
        }
    }

    /**
     * Stands for the application behind the forwarding handoff: releases what reaches it and, at the request's
     * end, writes the same prebuilt {@code 200} with no body (keep-alive by default in HTTP/1.1). The encoder
     * reads it and does not change it, so one instance serves every op and the application side allocates
     * nothing the measurement would have to subtract.
     */
    private static final class Application extends ChannelInboundHandlerAdapter {
        private static final FullHttpResponse OK_RESPONSE = ok();
        int requests;
        HttpRequest last;

        private static FullHttpResponse ok() {
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                    Unpooled.EMPTY_BUFFER);
            r.headers().set(HttpHeaderNames.CONTENT_LENGTH, 0);
            return r;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof HttpRequest r && requests == 0) {
                requests = 1;
                last = r; // the set-up request, kept for the check (its head holds no buffer)
            }
            if (msg instanceof LastHttpContent) {
                ReferenceCountUtil.release(msg);
                ctx.writeAndFlush(OK_RESPONSE); // its content is the unreleasable empty buffer: reusable
                return;
            }
            ReferenceCountUtil.release(msg);
        }

    }
}
