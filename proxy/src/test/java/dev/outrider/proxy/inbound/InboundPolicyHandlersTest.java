package dev.outrider.proxy.inbound;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.outrider.core.policy.PolicyDocuments;
import dev.outrider.proxy.accesslog.AccessLog;
import dev.outrider.proxy.accesslog.SecurityEvents;
import dev.outrider.proxy.accesslog.AccessLogEntry;
import dev.outrider.proxy.authn.JwksCache;
import dev.outrider.proxy.config.DefaultAction;
import dev.outrider.proxy.config.HttpConfig;
import dev.outrider.proxy.config.JwtConfig;
import dev.outrider.proxy.config.NodeConfig;
import dev.outrider.proxy.config.PolicyConfig;
import dev.outrider.proxy.http.DownstreamHttp;
import dev.outrider.proxy.http.Http2ConnectionErrorHandler;
import dev.outrider.proxy.config.EscapedSlashes;
import dev.outrider.proxy.config.PathParameters;
import dev.outrider.proxy.metrics.Direction;
import dev.outrider.proxy.metrics.ProxyMetrics;
import dev.outrider.proxy.policy.PolicyMetrics;
import dev.outrider.proxy.policy.PolicySnapshot;
import dev.outrider.proxy.policy.PolicyStore;
import dev.outrider.proxy.policy.WorkloadPolicyCompiler;
import dev.outrider.proxy.ratelimit.RateLimiter;
import dev.outrider.proxy.runtime.DrainState;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link AuthnHandler}, {@link AuthzHandler} and {@link LocalReply} behind the real HTTP/1.1 codec on an
 * EmbeddedChannel, with a policy snapshot compiled from documents by the real compiler: what passes (and
 * what it carries), what is answered locally (401, 403), and what happens to the connection afterwards.
 *
 * <p>EmbeddedChannel is not a {@link io.netty.channel.socket.DuplexChannel}, so the lingering close of
 * {@link dev.outrider.proxy.http.LocalResponses#respondAndClose} (half-close, drain, then close) cannot run here: it falls
 * back to closing at once, and these tests check that the connection is closed after the response.
 */
class InboundPolicyHandlersTest {
    private static final String ISSUER = "https://issuer.test";
    private static final HttpConfig HTTP = new HttpConfig(1024, 8192, 50, 100, Duration.ofMinutes(1),
            Duration.ofSeconds(10));
    private static final NodeConfig NODE = new NodeConfig("orders", "shop", "orders", "cluster.local",
            Map.of("app", "orders"));
    private static final ECKey KEY = ecKey("k1");
    private static final ECKey OTHER_KEY = ecKey("k1"); // same kid, other key

    private static final String DOCUMENTS = """
            apiVersion: outrider.dev/v1
            kind: AuthorizationPolicy
            metadata: {name: orders-allow, namespace: shop}
            spec:
              selector: {matchLabels: {app: orders}}
              action: ALLOW
              rules:
                - to: [{operation: {paths: ["/public/*"]}}]
                - from: [{source: {requestPrincipals: ["https://issuer.test/*"]}}]
                  to: [{operation: {paths: ["/private/*"]}}]
            ---
            apiVersion: outrider.dev/v1
            kind: AuthorizationPolicy
            metadata: {name: orders-deny-admin, namespace: shop}
            spec:
              action: DENY
              rules: [{to: [{operation: {paths: ["/public/admin/*"]}}]}]
            ---
            apiVersion: security.istio.io/v1
            kind: RequestAuthentication
            metadata: {name: jwt, namespace: shop}
            spec:
              jwtRules:
                - issuer: https://issuer.test
                  jwks: '%s'
                  outputClaimToHeaders: [{header: x-jwt-sub, claim: sub}]
                - issuer: https://unfetched.test
                  jwksUri: http://127.0.0.1:9/jwks
            """.formatted(new JWKSet(KEY.toPublicJWK()));

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final PolicyMetrics policyMetrics = new PolicyMetrics(registry);
    private final JwksCache jwks = new JwksCache(JwksCache.Config.defaults());
    private final WorkloadPolicyCompiler compiler = new WorkloadPolicyCompiler(NODE,
            new PolicyConfig(null, DefaultAction.DENY, "outrider-system", EscapedSlashes.REJECT, PathParameters.REJECT, Duration.ofSeconds(2)),
            new JwtConfig(List.of("ES256"), Duration.ofSeconds(60), 16 * 1024, 100, Duration.ofMinutes(5)),
            jwks, policyMetrics, new RateLimiter(10_000, Duration.ZERO, System::nanoTime, registry));
    private final PolicyStore store = new PolicyStore(compiler.compile("v1", "test",
            PolicyDocuments.parse(DOCUMENTS, "policies.yaml")));
    private final RecordingAccessLog accessLog = new RecordingAccessLog();
    private final DrainState drain = new DrainState();
    private final InboundPolicy policy = new InboundPolicy(store, policyMetrics, new ProxyMetrics(registry), accessLog,
            SecurityEvents.disabled(), drain, 8080);
    private EmbeddedChannel ch = http1Channel();

    @AfterEach
    void finish() {
        ch.finishAndReleaseAll();
        jwks.close();
    }

    /** The real access log interface, keeping what it is given. */
    private static final class RecordingAccessLog implements AccessLog {
        final List<AccessLogEntry> entries = new ArrayList<>();

        @Override
        public void log(AccessLogEntry e) {
            entries.add(e);
        }

        @Override
        public void close() {
        }
    }

    private static ECKey ecKey(String kid) {
        try {
            return new ECKeyGenerator(Curve.P_256).keyID(kid).generate();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A token of {@link #ISSUER} for {@code sub}, valid from a minute ago for {@code expiresIn} seconds. */
    private static String token(ECKey key, String sub, long expiresIn) {
        long now = System.currentTimeMillis() / 1000;
        JWTClaimsSet claims = new JWTClaimsSet.Builder().issuer(ISSUER).subject(sub)
                .issueTime(new Date((now - 60) * 1000)).expirationTime(new Date((now + expiresIn) * 1000)).build();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(key.getKeyID()).build(), claims);
        try {
            jwt.sign(new ECDSASigner(key));
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
        return jwt.serialize();
    }

    /**
     * The HTTP/1.1 connection pipeline as the inbound listener builds it ({@link DownstreamHttp#addHttp1}:
     * codec, request guard, expect-continue), with the authentication and authorization handlers as its
     * request handlers; what they pass on is read from the channel's inbound queue (the application side).
     */
    private EmbeddedChannel http1Channel() {
        EmbeddedChannel channel = new EmbeddedChannel();
        new DownstreamHttp(HTTP, 1000, new Http2ConnectionErrorHandler(Direction.INBOUND, policy.metrics()), p -> {
            InboundRequest state = new InboundRequest(policy.applicationPort());
            p.addLast("authn", new AuthnHandler(policy, state));
            p.addLast("authz", new AuthzHandler(policy, state));
        }).addHttp1(channel.pipeline());
        return channel;
    }

    private String send(String raw) {
        ch.writeInbound(Unpooled.copiedBuffer(raw, StandardCharsets.ISO_8859_1));
        return written();
    }

    private String written() {
        StringBuilder out = new StringBuilder();
        ByteBuf b;
        while ((b = ch.readOutbound()) != null) {
            out.append(b.toString(StandardCharsets.ISO_8859_1));
            b.release();
        }
        return out.toString();
    }

    /**
     * The next request that reached the application side, its body read and released, and the application's
     * 200 written back (so the codec pairs responses with requests as in the real pipeline); null if none.
     */
    private HttpRequest forwarded() {
        Object first = ch.readInbound();
        if (first == null) {
            return null;
        }
        assertThat(first).isInstanceOf(HttpRequest.class);
        Object m;
        do {
            m = ch.readInbound();
            assertThat(m).as("the rest of the forwarded request").isInstanceOf(HttpContent.class);
            ((HttpContent) m).release();
        } while (!(m instanceof LastHttpContent));
        FullHttpResponse ok = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        ok.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
        ch.writeOutbound(ok);
        assertThat(written()).startsWith("HTTP/1.1 200 ");
        return (HttpRequest) first;
    }

    private double decisions(String decision, String policyId) {
        return registry.get("outrider_authz_decisions").tag("decision", decision).tag("policy", policyId)
                .tag("mode", "enforced").counter().count();
    }

    private double authn(String result) {
        return registry.get("outrider_authn_requests").tag("result", result).counter().count();
    }

    private double inboundRequests(String statusClass) {
        return registry.get("outrider.requests").tag("direction", Direction.INBOUND.tag())
                .tag("status_class", statusClass).counter().count();
    }

    private void assertKeptAliveAndNextRequestProcessed() {
        assertThat(ch.isOpen()).isTrue();
        assertThat(send("GET /public/next HTTP/1.1\r\nHost: orders\r\n\r\n")).isEmpty();
        HttpRequest next = forwarded();
        assertThat(next).as("the next request on the connection").isNotNull();
        assertThat(next.uri()).isEqualTo("/public/next");
        assertThat((Object) ch.readInbound()).isNull();
    }

    // --- allowed --------------------------------------------------------------------------------------

    @Test
    void allowedRequestPassesWithItsAuthorizationForTheAccessLog() {
        assertThat(send("GET /public/a HTTP/1.1\r\nHost: orders\r\n\r\n")).as("no local response").isEmpty();
        assertThat(recordedAuth(ch))
                .isEqualTo(new AccessLogEntry.Auth(null, null, "allow policy shop/orders-allow rule 0", null, null));
        assertThat(forwarded().uri()).isEqualTo("/public/a");
        assertThat(decisions("allow", "shop/orders-allow")).isEqualTo(1.0);
        assertThat(authn("none")).isEqualTo(1.0);
        assertThat(accessLog.entries).as("the forwarding handler logs an allowed request").isEmpty();
        assertThat(ch.isOpen()).isTrue();
    }

    @Test
    void verifiedTokenBecomesTheRequestPrincipalAndIsStripped() {
        String token = token(KEY, "alice", 600);
        assertThat(send("GET /private/x HTTP/1.1\r\nHost: orders\r\nAuthorization: Bearer " + token
                + "\r\nX-Jwt-Sub: mallory\r\n\r\n")).isEmpty();
        HttpRequest request = (HttpRequest) (Object) ch.readInbound();
        assertThat(request.headers().contains(HttpHeaderNames.AUTHORIZATION)).isFalse();
        assertThat(request.headers().getAll("x-jwt-sub")).containsExactly("alice");
        ((LastHttpContent) ch.readInbound()).release();
        assertThat(recordedAuth(ch).authz()).isEqualTo("allow policy shop/orders-allow rule 1");
        assertThat(authn("valid")).isEqualTo(1.0);
    }

    @Test
    void withoutATokenTheRequestPrincipalRuleDoesNotMatch() {
        String response = send("GET /private/x HTTP/1.1\r\nHost: orders\r\nX-Jwt-Sub: alice\r\n\r\n");
        assertThat(response).startsWith("HTTP/1.1 403 ");
        assertThat(authn("none")).isEqualTo(1.0);
        assertThat(accessLog.entries).singleElement()
                .extracting(e -> e.auth().authz()).isEqualTo("no allow policy matched");
    }

    @Test
    void aNewSnapshotDecidesTheNextRequestOnTheConnection() {
        assertThat(send("GET /other HTTP/1.1\r\nHost: orders\r\n\r\n")).startsWith("HTTP/1.1 403 ");
        PolicySnapshot allowAll = compiler.compile("v2", "test", PolicyDocuments.parse("""
                apiVersion: outrider.dev/v1
                kind: AuthorizationPolicy
                metadata: {name: allow-all, namespace: shop}
                spec: {action: ALLOW, rules: [{}]}
                """, "v2.yaml"));
        store.apply(allowAll);
        assertThat(send("GET /other HTTP/1.1\r\nHost: orders\r\n\r\n")).isEmpty();
        assertThat(forwarded().uri()).isEqualTo("/other");
        assertThat(recordedAuth(ch).authz()).isEqualTo("allow policy shop/allow-all rule 0");
    }

    @Test
    void auditAndDryRunOutcomesReachTheAccessLogOfForwardedAndRefusedRequests() {
        store.apply(compiler.compile("v2", "test", PolicyDocuments.parse("""
                apiVersion: outrider.dev/v1
                kind: AuthorizationPolicy
                metadata: {name: allow-api, namespace: shop}
                spec: {action: ALLOW, rules: [{to: [{operation: {paths: ["/api/*"]}}]}]}
                ---
                apiVersion: outrider.dev/v1
                kind: AuthorizationPolicy
                metadata: {name: audit-api, namespace: shop}
                spec: {action: AUDIT, rules: [{to: [{operation: {paths: ["/nothing"]}}]}, {to: [{operation: {paths: ["/api/*"]}}]}]}
                ---
                apiVersion: outrider.dev/v1
                kind: AuthorizationPolicy
                metadata: {name: no-admin, namespace: shop, annotations: {"outrider.dev/dry-run": "true"}}
                spec: {action: DENY, rules: [{to: [{operation: {paths: ["/api/admin"]}}]}]}
                """, "v2.yaml")));

        assertThat(send("GET /api/admin HTTP/1.1\r\nHost: orders\r\n\r\n")).as("forwarded").isEmpty();
        assertThat(forwarded().uri()).isEqualTo("/api/admin");
        assertThat(recordedAuth(ch)).isEqualTo(new AccessLogEntry.Auth(null, null, "allow policy shop/allow-api rule 0",
                "shop/audit-api rule 1", "dry-run deny policy shop/no-admin rule 0"));

        assertThat(send("GET /other HTTP/1.1\r\nHost: orders\r\n\r\n")).startsWith("HTTP/1.1 403 ");
        assertThat(accessLog.entries).singleElement().extracting(AccessLogEntry::auth).isEqualTo(
                new AccessLogEntry.Auth(null, null, "no allow policy matched", null, "no allow policy matched"));
    }

    // --- 403 ------------------------------------------------------------------------------------------

    @Test
    void deniedKeepAliveRequestWithoutBodyGets403AndTheConnectionCarriesTheNext() {
        String response = send("GET /other?q=1 HTTP/1.1\r\nHost: orders\r\nX-Request-Id: req-1\r\n\r\n");
        assertThat(response).startsWith("HTTP/1.1 403 Forbidden\r\n")
                .contains("outrider: " + AuthzHandler.DENIED)
                .containsIgnoringCase("x-request-id: req-1")
                .doesNotContainIgnoringCase("connection:");
        assertThat((Object) ch.readInbound()).as("nothing reaches the application").isNull();

        AccessLogEntry e = accessLog.entries.getFirst();
        assertThat(accessLog.entries).hasSize(1);
        assertThat(e.status()).isEqualTo(403);
        assertThat(e.direction()).isEqualTo(Direction.INBOUND);
        assertThat(e.protocol()).isEqualTo("HTTP/1.1");
        assertThat(e.method()).isEqualTo("GET");
        assertThat(e.uri()).isEqualTo("/other?q=1");
        assertThat(e.requestId()).isEqualTo("req-1");
        assertThat(e.auth()).isEqualTo(new AccessLogEntry.Auth(null, null, "no allow policy matched", null, null));
        assertThat(decisions("deny", "none")).isEqualTo(1.0);
        assertThat(inboundRequests("4xx")).isEqualTo(1.0);

        assertKeptAliveAndNextRequestProcessed();
    }

    @Test
    void theDenyResponseNamesNoPolicy() {
        String response = send("GET /public/admin/users HTTP/1.1\r\nHost: orders\r\n\r\n");
        assertThat(response).startsWith("HTTP/1.1 403 ").doesNotContain("orders-deny-admin").doesNotContain("shop/");
        assertThat(accessLog.entries.getFirst().auth().authz()).isEqualTo("deny policy shop/orders-deny-admin rule 0");
        assertThat(decisions("deny", "shop/orders-deny-admin")).isEqualTo(1.0);
    }

    @Test
    void deniedRequestWithASmallBodyHasItsBodyDroppedAndTheNextProcessed() {
        String response = send("POST /other HTTP/1.1\r\nHost: orders\r\nContent-Length: 11\r\n\r\n");
        assertThat(response).as("answered before the body").startsWith("HTTP/1.1 403 ")
                .doesNotContainIgnoringCase("connection:");
        assertThat(send("hello ")).isEmpty();
        assertThat(send("world")).isEmpty();
        assertThat((Object) ch.readInbound()).isNull();
        assertKeptAliveAndNextRequestProcessed();
    }

    @Test
    void deniedRequestPipelinedWithTheNextInOneRead() {
        String response = send("POST /other HTTP/1.1\r\nHost: orders\r\nContent-Length: 5\r\n\r\nhello"
                + "GET /public/next HTTP/1.1\r\nHost: orders\r\n\r\n");
        assertThat(response).startsWith("HTTP/1.1 403 ");
        assertThat(forwarded().uri()).isEqualTo("/public/next");
        assertThat(ch.isOpen()).isTrue();
    }

    @Test
    void aBodyOfExactly64KiBIsStillSkipped() {
        String response = send("POST /other HTTP/1.1\r\nHost: orders\r\nContent-Length: 65536\r\n\r\n");
        assertThat(response).startsWith("HTTP/1.1 403 ").doesNotContainIgnoringCase("connection:");
        for (int i = 0; i < 16; i++) {
            assertThat(send("x".repeat(4096))).isEmpty();
        }
        assertKeptAliveAndNextRequestProcessed();
    }

    /** The refused body's buffers are released by the handler that drops them, not forwarded or kept. */
    @Test
    void droppedBodyBuffersAreReleased() {
        ch.finishAndReleaseAll();
        InboundRequest state = new InboundRequest(policy.applicationPort());
        ch = new EmbeddedChannel(new AuthnHandler(policy, state), new AuthzHandler(policy, state));
        HttpRequest post = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/other");
        post.headers().set(HttpHeaderNames.HOST, "orders").setInt(HttpHeaderNames.CONTENT_LENGTH, 10);
        ByteBuf part1 = Unpooled.copiedBuffer("hello", StandardCharsets.US_ASCII);
        ByteBuf part2 = Unpooled.copiedBuffer("world", StandardCharsets.US_ASCII);
        ch.writeInbound(post);
        FullHttpResponse response = ch.readOutbound();
        assertThat(response.status()).isEqualTo(HttpResponseStatus.FORBIDDEN);
        response.release();
        ch.writeInbound(new DefaultHttpContent(part1), new DefaultLastHttpContent(part2));
        assertThat(part1.refCnt()).isZero();
        assertThat(part2.refCnt()).isZero();
        assertThat((Object) ch.readInbound()).isNull();

        HttpRequest get = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/public/x");
        ch.writeInbound(get, LastHttpContent.EMPTY_LAST_CONTENT);
        assertThat((Object) ch.readInbound()).isSameAs(get);
        assertThat((Object) ch.readInbound()).isSameAs(LastHttpContent.EMPTY_LAST_CONTENT);
    }

    @Test
    void deniedRequestWithAChunkedBodyClosesTheConnectionAfterTheResponse() {
        String response = send("POST /other HTTP/1.1\r\nHost: orders\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
        assertThat(response).startsWith("HTTP/1.1 403 ").containsIgnoringCase("connection: close");
        assertThat((Object) ch.readInbound()).isNull();
        assertThat(ch.isOpen()).isFalse();
    }

    @Test
    void deniedRequestWithALargeBodyClosesTheConnectionAfterTheResponse() {
        String response = send("POST /other HTTP/1.1\r\nHost: orders\r\nContent-Length: 65537\r\n\r\nhello");
        assertThat(response).startsWith("HTTP/1.1 403 ").containsIgnoringCase("connection: close");
        assertThat((Object) ch.readInbound()).isNull();
        assertThat(ch.isOpen()).isFalse();
    }

    @Test
    void deniedRequestThatAsksToCloseIsClosed() {
        String response = send("GET /other HTTP/1.1\r\nHost: orders\r\nConnection: close\r\n\r\n");
        assertThat(response).startsWith("HTTP/1.1 403 ").containsIgnoringCase("connection: close");
        assertThat(ch.isOpen()).isFalse();
    }

    @Test
    void deniedHttp10RequestIsClosed() {
        String response = send("GET /other HTTP/1.0\r\n\r\n");
        assertThat(response).contains(" 403 ").containsIgnoringCase("connection: close");
        assertThat(ch.isOpen()).isFalse();
    }

    @Test
    void whileDrainingADeniedRequestClosesTheConnection() {
        drain.start();
        String response = send("GET /other HTTP/1.1\r\nHost: orders\r\n\r\n");
        assertThat(response).startsWith("HTTP/1.1 403 ").containsIgnoringCase("connection: close");
        assertThat(ch.isOpen()).isFalse();
    }

    // --- 401 ------------------------------------------------------------------------------------------

    @Test
    void invalidTokenGets401WithWwwAuthenticateAndKeepsTheConnection() {
        String expired = token(KEY, "alice", -3600);
        String response = send("GET /public/a HTTP/1.1\r\nHost: orders\r\nAuthorization: Bearer " + expired
                + "\r\n\r\n");
        assertThat(response).startsWith("HTTP/1.1 401 Unauthorized\r\n")
                .contains("www-authenticate: Bearer error=\"invalid_token\", error_description=\"token expired\"\r\n")
                .contains("outrider: unauthorized: token expired")
                .doesNotContain(expired)
                .doesNotContainIgnoringCase("connection:");
        assertThat((Object) ch.readInbound()).isNull();
        assertThat(authn("invalid")).isEqualTo(1.0);
        assertThat(accessLog.entries).singleElement().satisfies(e -> {
            assertThat(e.status()).isEqualTo(401);
            assertThat(e.auth()).isEqualTo(new AccessLogEntry.Auth(null, "token expired", null, null, null));
        });
        assertThat(registry.find("outrider_authz_decisions").counters())
                .as("authorization did not run").allSatisfy(c -> assertThat(c.count()).isZero());
        assertKeptAliveAndNextRequestProcessed();
    }

    @Test
    void tokenSignedByAnotherKeyGets401() {
        String response = send("GET /public/a HTTP/1.1\r\nHost: orders\r\nAuthorization: Bearer "
                + token(OTHER_KEY, "alice", 600) + "\r\nContent-Length: 3\r\n\r\nabc");
        assertThat(response).startsWith("HTTP/1.1 401 ")
                .contains("error_description=\"signature verification failed\"");
        assertKeptAliveAndNextRequestProcessed();
    }

    @Test
    void issuerKeysNotFetchedYetGets401() {
        JWTClaimsSet claims = new JWTClaimsSet.Builder().issuer("https://unfetched.test").subject("bob")
                .expirationTime(new Date(System.currentTimeMillis() + 600_000)).build();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("k1").build(), claims);
        try {
            jwt.sign(new ECDSASigner(KEY));
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
        String response = send("GET /public/a HTTP/1.1\r\nHost: orders\r\nAuthorization: Bearer " + jwt.serialize()
                + "\r\n\r\n");
        assertThat(response).startsWith("HTTP/1.1 401 ").contains(
                "www-authenticate: Bearer error=\"invalid_token\", error_description=\"issuer keys not fetched yet"
                        + " (JWKS unavailable)\"");
        assertThat(authn("keys_unavailable")).isEqualTo(1.0);
    }

    @Test
    void unauthenticatedRequestWithAChunkedBodyClosesTheConnection() {
        String response = send("POST /public/a HTTP/1.1\r\nHost: orders\r\nAuthorization: Bearer not.a.token\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
        assertThat(response).startsWith("HTTP/1.1 401 ").containsIgnoringCase("connection: close");
        assertThat(ch.isOpen()).isFalse();
    }

    /** What the checks recorded in the request state for the access log of the request that went on. */
    private static AccessLogEntry.Auth recordedAuth(EmbeddedChannel ch) {
        return ((InboundCheckHandler) ch.pipeline().get("authz")).state.auth();
    }
}
