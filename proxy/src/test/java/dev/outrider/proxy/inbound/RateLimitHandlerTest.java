package dev.outrider.proxy.inbound;

import dev.outrider.core.policy.ObjectMeta;
import dev.outrider.core.policy.PolicyDocument;
import dev.outrider.core.policy.PolicyDocuments;
import dev.outrider.core.policy.RateLimitPolicy;
import dev.outrider.core.policy.RateLimitPolicy.Key;
import dev.outrider.core.policy.RateLimitPolicy.Limit;
import dev.outrider.core.policy.RateLimitPolicy.Match;
import dev.outrider.core.policy.RateLimitPolicy.Rule;
import dev.outrider.core.policy.WorkloadSelector;
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
import dev.outrider.proxy.http.LocalResponses;
import dev.outrider.proxy.metrics.Direction;
import dev.outrider.proxy.config.EscapedSlashes;
import dev.outrider.proxy.config.PathParameters;
import dev.outrider.proxy.metrics.ProxyMetrics;
import dev.outrider.proxy.policy.PolicyMetrics;
import dev.outrider.proxy.policy.PolicyStore;
import dev.outrider.proxy.policy.WorkloadPolicyCompiler;
import dev.outrider.proxy.ratelimit.RateLimiter;
import dev.outrider.proxy.runtime.DrainState;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link RateLimitHandler} behind the real HTTP/1.1 codec and the authn/authz handlers on EmbeddedChannels
 * that share one policy snapshot (as the connections of a listener do): 429 and 503 with their fields, gRPC,
 * slots held until the response's end, and refusals by authorization costing no budget.
 */
class RateLimitHandlerTest {
    private static final HttpConfig HTTP = new HttpConfig(1024, 8192, 50, 100, Duration.ofMinutes(1),
            Duration.ofSeconds(10));
    private static final NodeConfig NODE = new NodeConfig("orders", "shop", "orders", "cluster.local",
            Map.of("app", "orders"));
    private static final String AUTHZ = """
            apiVersion: outrider.dev/v1
            kind: AuthorizationPolicy
            metadata: {name: allow-api, namespace: shop}
            spec:
              rules: [{to: [{operation: {paths: ["/api/*"]}}]}]
            """;
    private static final Key BY_CLIENT = new Key(Key.Kind.HEADER, "x-client", null);

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final PolicyMetrics policyMetrics = new PolicyMetrics(registry);
    private final JwksCache jwks = new JwksCache(JwksCache.Config.defaults());
    private final RateLimiter limiter = new RateLimiter(1000, Duration.ZERO, System::nanoTime, registry);
    private final WorkloadPolicyCompiler compiler = new WorkloadPolicyCompiler(NODE,
            new PolicyConfig(null, DefaultAction.DENY, "outrider-system", EscapedSlashes.REJECT, PathParameters.REJECT, Duration.ofSeconds(2)),
            new JwtConfig(List.of("ES256"), Duration.ofSeconds(60), 16 * 1024, 100, Duration.ofMinutes(5)),
            jwks, policyMetrics, limiter);
    private final List<AccessLogEntry> logged = new ArrayList<>();
    private final AccessLog accessLog = new AccessLog() {
        @Override
        public void log(AccessLogEntry e) {
            logged.add(e);
        }

        @Override
        public void close() {
        }
    };
    private final List<EmbeddedChannel> channels = new ArrayList<>();
    private PolicyStore store;
    private InboundPolicy policy;

    @AfterEach
    void finish() {
        channels.forEach(EmbeddedChannel::finishAndReleaseAll);
        jwks.close();
        limiter.close();
    }

    private void limits(boolean dryRun, boolean legacy, Rule... rules) {
        limits(dryRun, legacy, false, rules);
    }

    private void limits(boolean dryRun, boolean legacy, boolean admittedHeaders, Rule... rules) {
        List<PolicyDocument> docs = new ArrayList<>(PolicyDocuments.parse(AUTHZ, "authz.yaml"));
        docs.add(new RateLimitPolicy(new ObjectMeta("limits", "shop", dryRun ? Map.of(ObjectMeta.DRY_RUN, "true")
                : Map.of()), WorkloadSelector.ALL, legacy, admittedHeaders, List.of(rules)));
        var snapshot = compiler.compile("v1", "test", docs);
        if (store == null) {
            store = new PolicyStore(snapshot);
            policy = new InboundPolicy(store, policyMetrics, new ProxyMetrics(registry), accessLog, SecurityEvents.disabled(), new DrainState(), 8080);
        } else {
            store.apply(snapshot);
        }
        policyMetrics.retain(snapshot);
    }

    private static Rule rate(long burst) {
        return new Rule("per-client", Match.ANY, BY_CLIENT, new Limit(burst, Duration.ofHours(1), burst), 0, List.of());
    }

    private EmbeddedChannel connection() {
        EmbeddedChannel channel = new EmbeddedChannel();
        new DownstreamHttp(HTTP, 1000, new Http2ConnectionErrorHandler(Direction.INBOUND, policy.metrics()), p -> {
            InboundRequest state = new InboundRequest(8080);
            p.addLast("authn", new AuthnHandler(policy, state));
            p.addLast("authz", new AuthzHandler(policy, state));
            p.addLast("ratelimit", new RateLimitHandler(policy, state));
        }).addHttp1(channel.pipeline());
        channels.add(channel);
        return channel;
    }

    private static String send(EmbeddedChannel ch, String raw) {
        ch.writeInbound(Unpooled.copiedBuffer(raw, StandardCharsets.ISO_8859_1));
        return written(ch);
    }

    private static String get(EmbeddedChannel ch, String path, String client, String extra) {
        return send(ch, "GET " + path + " HTTP/1.1\r\nHost: orders\r\nx-client: " + client + "\r\n" + extra + "\r\n");
    }

    private static String written(EmbeddedChannel ch) {
        StringBuilder out = new StringBuilder();
        ByteBuf b;
        while ((b = ch.readOutbound()) != null) {
            out.append(b.toString(StandardCharsets.ISO_8859_1));
            b.release();
        }
        return out.toString();
    }

    /** Takes the request that reached the application side, without answering it; null if none. */
    private static HttpRequest arrived(EmbeddedChannel ch) {
        Object first = ch.readInbound();
        if (first == null) {
            return null;
        }
        Object m;
        do {
            m = ch.readInbound();
            ((HttpContent) m).release();
        } while (!(m instanceof LastHttpContent));
        return (HttpRequest) first;
    }

    /** The application's 200 for the request that arrived, as the caller receives it. */
    private static String respond(EmbeddedChannel ch) {
        FullHttpResponse ok = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        ok.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
        ch.writeOutbound(ok);
        String response = written(ch);
        assertThat(response).startsWith("HTTP/1.1 200 ");
        return response;
    }

    /** Every field line named {@code name}, in order. */
    private static List<String> headers(String response, String name) {
        List<String> values = new ArrayList<>();
        for (String line : response.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).equalsIgnoreCase(name)) {
                values.add(line.substring(colon + 1).strip());
            }
        }
        return values;
    }

    private static String header(String response, String name) {
        for (String line : response.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).equalsIgnoreCase(name)) {
                return line.substring(colon + 1).strip();
            }
        }
        return null;
    }

    private double counted(String result, String mode) {
        return registry.get("outrider_ratelimit_requests").tag("result", result).tag("mode", mode).counter().count();
    }

    @Test
    void overTheLimitIs429WithRetryAfterAndTheRateLimitFields() {
        limits(false, true, rate(2));
        EmbeddedChannel ch = connection();
        for (int i = 0; i < 2; i++) {
            assertThat(get(ch, "/api/orders", "alice", "")).isEmpty();
            assertThat(arrived(ch)).isNotNull();
            assertThat(header(respond(ch), "ratelimit")).as("admittedHeaders is off").isNull();
        }
        String refused = get(ch, "/api/orders", "alice", "");
        assertThat(refused).startsWith("HTTP/1.1 429 Too Many Requests\r\n");
        assertThat(arrived(ch)).as("never reaches the application").isNull();
        assertThat(Long.parseLong(header(refused, "retry-after"))).isBetween(1795L, 1800L);
        assertThat(header(refused, "ratelimit-policy")).isEqualTo("\"limits/per-client\";q=2;w=3600");
        assertThat(header(refused, "ratelimit")).matches("\"limits/per-client\";r=0;t=(179[5-9]|1800)");
        assertThat(header(refused, "x-ratelimit-limit")).isEqualTo("2");
        assertThat(header(refused, "x-ratelimit-remaining")).isEqualTo("0");
        assertThat(refused).contains("too many requests");
        assertThat(ch.isOpen()).as("a throttled caller keeps its connection").isTrue();

        AccessLogEntry e = logged.getLast();
        assertThat(e.status()).isEqualTo(429);
        assertThat(e.auth().rateLimit()).isEqualTo("rate limited by shop/limits rule per-client");
        assertThat(e.auth().authz()).as("authorization's decision is kept").startsWith("allow policy shop/allow-api");
        assertThat(counted("rate_limited", "enforced")).isEqualTo(1);

        assertThat(get(ch, "/api/orders", "bob", "")).as("another client has its own budget").isEmpty();
        assertThat(arrived(ch)).isNotNull();
        respond(ch);
    }

    @Test
    void admittedResponsesCarryTheQuotaLeftUnderEachRateRuleWhenThePolicyAsks() {
        limits(false, false, true, rate(3), new Rule("everyone", Match.ANY, null,
                new Limit(100, Duration.ofHours(1), 100), 0, List.of()), new Rule("in-flight", Match.ANY, null, null,
                10, List.of()));
        EmbeddedChannel ch = connection();
        for (int left = 2; left >= 0; left--) {
            assertThat(get(ch, "/api/orders", "alice", "")).isEmpty();
            assertThat(arrived(ch)).isNotNull();
            String response = respond(ch);
            int spent = 3 - left;
            // r: admissible at once; t: seconds until the bucket is full again (1,200 s per token here, 36 s)
            assertThat(headers(response, "ratelimit-policy")).as("a concurrency-only rule has no quota fields")
                    .containsExactly("\"limits/per-client\";q=3;w=3600", "\"limits/everyone\";q=100;w=3600");
            assertThat(headers(response, "ratelimit")).containsExactly(
                    "\"limits/per-client\";r=" + left + ";t=" + 1200 * spent,
                    "\"limits/everyone\";r=" + (100 - spent) + ";t=" + 36 * spent);
        }
        String refused = get(ch, "/api/orders", "alice", "");
        assertThat(refused).startsWith("HTTP/1.1 429 ");
        assertThat(headers(refused, "ratelimit")).as("a refusal names the refusing rule only")
                .containsExactly("\"limits/per-client\";r=0;t=1200");
        assertThat(get(ch, "/api/orders", "bob", "")).isEmpty();
        assertThat(arrived(ch)).isNotNull();
        assertThat(headers(respond(ch), "ratelimit")).as("each caller its own budget; the workload's is shared")
                .containsExactly("\"limits/per-client\";r=2;t=1200", "\"limits/everyone\";r=96;t=144");

        limits(true, false, true, rate(3));
        assertThat(get(ch, "/api/orders", "carol", "")).isEmpty();
        assertThat(arrived(ch)).isNotNull();
        assertThat(header(respond(ch), "ratelimit")).as("a dry-run policy changes no response").isNull();
    }

    @Test
    void requestsRefusedByAuthorizationCostNoBudget() {
        limits(false, false, rate(2));
        EmbeddedChannel ch = connection();
        for (int i = 0; i < 10; i++) {
            assertThat(get(ch, "/admin", "alice", "")).startsWith("HTTP/1.1 403 ");
        }
        for (int i = 0; i < 2; i++) {
            assertThat(get(ch, "/api/orders", "alice", "")).isEmpty();
            assertThat(arrived(ch)).isNotNull();
            respond(ch);
        }
        assertThat(get(ch, "/api/orders", "alice", "")).startsWith("HTTP/1.1 429 ");
        assertThat(counted("admitted", "enforced")).isEqualTo(2);
    }

    @Test
    void grpcCallersGetResourceExhausted() {
        limits(false, false, rate(1));
        EmbeddedChannel ch = connection();
        String grpc = "content-type: application/grpc+proto\r\nte: trailers\r\n";
        assertThat(get(ch, "/api/orders.Orders/List", "alice", grpc)).isEmpty();
        assertThat(arrived(ch)).isNotNull();
        respond(ch);
        String refused = get(ch, "/api/orders.Orders/List", "alice", grpc);
        assertThat(refused).startsWith("HTTP/1.1 200 OK\r\n");
        assertThat(header(refused, "grpc-status")).isEqualTo("8");
        assertThat(header(refused, "grpc-message")).contains("too many requests");
        assertThat(Long.parseLong(header(refused, "grpc-retry-pushback-ms"))).isGreaterThanOrEqualTo(1795_000L);
        assertThat(header(refused, "content-type")).isEqualTo("application/grpc");
        assertThat(header(refused, "content-length")).isEqualTo("0");
    }

    @Test
    void grpcCallersRefusedByAuthorizationGetPermissionDenied() {
        limits(false, false, rate(1));
        EmbeddedChannel ch = connection();
        String refused = get(ch, "/admin.Admin/Drop", "alice", "content-type: application/grpc\r\n");
        assertThat(refused).startsWith("HTTP/1.1 200 OK\r\n");
        assertThat(header(refused, "grpc-status")).isEqualTo("7");
        assertThat(header(refused, "grpc-message")).isEqualTo(
                "outrider: forbidden: the request is not allowed by the workload's authorization policies");
        assertThat(logged.getLast().status()).as("the status sent").isEqualTo(200);
    }

    @Test
    void grpcMessagesArePercentEncoded() {
        assertThat(LocalResponses.grpcMessage("50% über")).isEqualTo("50%25 %C3%BCber");
    }

    @Test
    void concurrencySlotsAreHeldUntilTheResponseEnds() {
        limits(false, false, new Rule("slots", Match.ANY, BY_CLIENT, null, 1, List.of()));
        EmbeddedChannel first = connection();
        EmbeddedChannel second = connection();
        assertThat(get(first, "/api/slow", "alice", "")).isEmpty();
        assertThat(arrived(first)).as("in flight, no response yet").isNotNull();

        String refused = get(second, "/api/orders", "alice", "");
        assertThat(refused).startsWith("HTTP/1.1 503 Service Unavailable\r\n");
        assertThat(header(refused, "retry-after")).isEqualTo("1");
        assertThat(header(refused, "ratelimit")).as("no rate fields for a concurrency refusal").isNull();
        assertThat(logged.getLast().auth().rateLimit()).isEqualTo("concurrency limited by shop/limits rule slots");
        assertThat(get(second, "/api/orders", "bob", "")).as("another client").isEmpty();
        assertThat(arrived(second)).isNotNull();
        respond(second);

        respond(first);
        assertThat(get(second, "/api/orders", "alice", "")).as("the slot came back with the response").isEmpty();
        assertThat(arrived(second)).isNotNull();
        second.close(); // no response: the closed channel gives the slot back
        EmbeddedChannel third = connection();
        assertThat(get(third, "/api/orders", "alice", "")).isEmpty();
        assertThat(arrived(third)).isNotNull();
    }

    @Test
    void dryRunAdmitsAndLeavesTheOutcomeForTheAccessLog() {
        limits(true, false, rate(1));
        EmbeddedChannel ch = connection();
        for (int i = 0; i < 3; i++) {
            assertThat(get(ch, "/api/orders", "alice", "")).isEmpty();
            assertThat(arrived(ch)).isNotNull();
            if (i == 2) {
                assertThat(recordedAuth(ch).rateLimit())
                        .isEqualTo("dry run: rate limited by shop/limits rule per-client");
            }
            respond(ch);
        }
        assertThat(counted("admitted", "dry_run")).isEqualTo(1);
        assertThat(counted("rate_limited", "dry_run")).isEqualTo(2);
    }

    @Test
    void aReloadKeepsTheSpentBudget() {
        limits(false, false, rate(1));
        EmbeddedChannel ch = connection();
        assertThat(get(ch, "/api/orders", "alice", "")).isEmpty();
        assertThat(arrived(ch)).isNotNull();
        respond(ch);
        limits(false, false, rate(1), new Rule("other", Match.ANY, null, null, 100, List.of()));
        assertThat(get(ch, "/api/orders", "alice", "")).startsWith("HTTP/1.1 429 ");
        limits(false, false, rate(2));
        assertThat(get(ch, "/api/orders", "alice", "")).as("a changed rule starts afresh").isEmpty();
        assertThat(arrived(ch)).isNotNull();
        respond(ch);
    }

    /**
     * Global rules on a real Redis: a request whose lease is empty waits (nothing written, nothing passed on), then
     * is refused when Redis has no token left; the next request on the same connection, with a body, waits too and
     * then reaches the application whole (what arrived while the refused one waited does not leak into it).
     */
    @Test
    void aRequestRefusedAfterWaitingForRedisLeavesTheConnectionWhole(@org.junit.jupiter.api.io.TempDir
                                                                     java.nio.file.Path dir) throws Exception {
        try (dev.outrider.core.testing.RedisServer redis = dev.outrider.core.testing.RedisServer.start(dir);
             RateLimiter shared = new RateLimiter(1000, Duration.ZERO, System::nanoTime, registry,
                     dev.outrider.proxy.ratelimit.SharedBudgets.start(redis.uri(), null, Duration.ofSeconds(2),
                             new SimpleMeterRegistry()));
             RateLimiter other = new RateLimiter(1000, Duration.ZERO, System::nanoTime, new SimpleMeterRegistry(),
                     dev.outrider.proxy.ratelimit.SharedBudgets.start(redis.uri(), null, Duration.ofSeconds(2),
                             new SimpleMeterRegistry()));
             io.lettuce.core.RedisClient adminClient = io.lettuce.core.RedisClient.create(redis.uri());
             var admin = adminClient.connect()) {
            Rule once = new Rule("per-client", Match.ANY, BY_CLIENT, new Limit(1, Duration.ofHours(1), 1), 0,
                    List.of(), RateLimitPolicy.Scope.GLOBAL);
            List<PolicyDocument> docs = new ArrayList<>(PolicyDocuments.parse(AUTHZ, "authz.yaml"));
            docs.add(new RateLimitPolicy(new ObjectMeta("limits", "shop", Map.of()), WorkloadSelector.ALL, false,
                    false, List.of(once)));
            // another sidecar spends alice's one token
            EmbeddedChannel elsewhere = connectionOf(other, docs);
            org.awaitility.Awaitility.await().until(() -> redisAvailable(other) && redisAvailable(shared));
            elsewhere.writeInbound(Unpooled.copiedBuffer("GET /api/orders HTTP/1.1\r\nHost: orders\r\n"
                    + "x-client: alice\r\n\r\n", StandardCharsets.ISO_8859_1));
            assertThat(awaitDecision(elsewhere)).as("admitted there").isNull();
            assertThat(arrived(elsewhere)).isNotNull();

            EmbeddedChannel ch = connectionOf(shared, docs);
            admin.sync().clientPause(300); // Redis answers after the checks below, within the 2 s timeout
            ch.writeInbound(Unpooled.copiedBuffer("GET /api/orders HTTP/1.1\r\nHost: orders\r\nx-client: alice\r\n"
                    + "\r\n", StandardCharsets.ISO_8859_1));
            assertThat(written(ch)).as("waiting for Redis: nothing answered yet").isEmpty();
            assertThat((Object) ch.readInbound()).as("nor passed on").isNull();
            assertThat(awaitDecision(ch)).startsWith("HTTP/1.1 429 ");

            ch.writeInbound(Unpooled.copiedBuffer("POST /api/orders HTTP/1.1\r\nHost: orders\r\nx-client: bob\r\n"
                    + "content-length: 5\r\n\r\nhello", StandardCharsets.ISO_8859_1));
            assertThat(awaitDecision(ch)).as("bob's own budget: admitted").isNull();
            HttpRequest request = ch.readInbound();
            assertThat(request.method().name()).isEqualTo("POST");
            HttpContent body = ch.readInbound();
            StringBuilder content = new StringBuilder(body.content().toString(StandardCharsets.ISO_8859_1));
            while (!(body instanceof LastHttpContent)) {
                body.release();
                body = ch.readInbound();
                assertThat(body).as("the body's end reaches the application").isNotNull();
                content.append(body.content().toString(StandardCharsets.ISO_8859_1));
            }
            body.release();
            assertThat(content.toString()).isEqualTo("hello");
        }
    }

    private EmbeddedChannel connectionOf(RateLimiter limiter, List<PolicyDocument> docs) {
        WorkloadPolicyCompiler c = new WorkloadPolicyCompiler(NODE, new PolicyConfig(null, DefaultAction.DENY,
                "outrider-system", EscapedSlashes.REJECT, PathParameters.REJECT, Duration.ofSeconds(2)),
                new JwtConfig(List.of("ES256"), Duration.ofSeconds(60), 16 * 1024, 100, Duration.ofMinutes(5)),
                jwks, policyMetrics, limiter);
        InboundPolicy p = new InboundPolicy(new PolicyStore(c.compile("v1", "test", docs)), policyMetrics,
                new ProxyMetrics(registry), accessLog, SecurityEvents.disabled(), new DrainState(), 8080);
        EmbeddedChannel channel = new EmbeddedChannel();
        new DownstreamHttp(HTTP, 1000, new Http2ConnectionErrorHandler(Direction.INBOUND, p.metrics()), pl -> {
            InboundRequest state = new InboundRequest(8080);
            pl.addLast("authn", new AuthnHandler(p, state));
            pl.addLast("authz", new AuthzHandler(p, state));
            pl.addLast("ratelimit", new RateLimitHandler(p, state));
        }).addHttp1(channel.pipeline());
        channels.add(channel);
        return channel;
    }

    private static boolean redisAvailable(RateLimiter limiter) {
        RateLimiter.RedisInUse r = limiter.redisInUse();
        return r != null && r.available();
    }

    /**
     * Runs the channel's tasks until the waiting request was decided: the response written (a refusal), or null
     * when it went on to the application.
     */
    private static String awaitDecision(EmbeddedChannel ch) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (System.nanoTime() < deadline) {
            ch.runPendingTasks();
            String out = written(ch);
            if (!out.isEmpty()) {
                return out;
            }
            if (!ch.inboundMessages().isEmpty()) {
                return null;
            }
            Thread.sleep(5);
        }
        throw new AssertionError("no decision within 5 s");
    }

    /** What the checks recorded in the request state for the access log of the request that went on. */
    private static AccessLogEntry.Auth recordedAuth(EmbeddedChannel ch) {
        return ((InboundCheckHandler) ch.pipeline().get("authz")).state.auth();
    }
}
