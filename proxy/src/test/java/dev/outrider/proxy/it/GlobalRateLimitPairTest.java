package dev.outrider.proxy.it;

import dev.outrider.core.testing.RedisServer;
import dev.outrider.proxy.Sidecar;
import dev.outrider.proxy.tls.TestPki;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code scope: global}: two sidecars in front of the same workload share one budget per caller in a real Redis
 * (Debian's redis-server on loopback), whichever of them a request reaches; with Redis killed each runs the rule's
 * fallback ({@code local} with {@code replicas: 2}: half the limit each), and no request fails for lack of Redis;
 * with Redis back the budget is shared again.
 *
 * <pre>
 *   client ─▶ frontend (outbound, round-robin) ─▶ mTLS ─▶ orders-a (inbound) ─▶ backend
 *                                              └─▶ mTLS ─▶ orders-b (inbound) ─┘   both: rateLimits.redis
 * </pre>
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GlobalRateLimitPairTest {
    private static final String POLICY = """
            apiVersion: outrider.dev/v1
            kind: RateLimitPolicy
            metadata: {name: shared-limits, namespace: shop}
            spec:
              admittedHeaders: true
              global: {fallback: local, replicas: 2}
              rules:
              - name: per-caller
                key: source.principal
                scope: global
                limit: {requests: 10, per: 1h}
            """;

    private static Path dir;
    private static RedisServer redis;
    private static TestBackend backend;
    private static Sidecar ordersA;
    private static Sidecar ordersB;
    private static Sidecar frontend;
    private static HttpClient client;

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("outrider-global-limits");
        redis = RedisServer.start(dir.resolve("redis"));
        Path policies = Files.createDirectory(dir.resolve("policies"));
        Files.writeString(policies.resolve("allow.yaml"), """
                apiVersion: outrider.dev/v1
                kind: AuthorizationPolicy
                metadata: {name: allow-frontend, namespace: shop}
                spec:
                  action: ALLOW
                  rules: [{from: [{source: {principals: ["cluster.local/ns/shop/sa/frontend"]}}]}]
                """);
        Files.writeString(policies.resolve("limits.yaml"), POLICY);
        TestPki.Ca ca = TestPki.root("global rate-limit mesh root");
        ca.writeBundle(dir.resolve("bundle.pem"));
        backend = TestBackend.start();
        String extra = """
                policies: {directory: '%s'}
                rateLimits: {redis: {uri: '%s', timeout: 200ms}}""".formatted(policies, redis.uri());
        String ordersTls = SidecarPair.tls(ca, dir, "orders"); // two instances of one workload: one identity
        ordersA = MeshSidecars.inbound("orders", backend.port(), ordersTls, extra);
        ordersB = MeshSidecars.inbound("orders", backend.port(), ordersTls, extra);
        String services = "- {name: orders, namespace: shop, endpoints: [\"127.0.0.1:%d\", \"127.0.0.1:%d\"]}"
                .formatted(ordersA.inboundAddress().getPort(), ordersB.inboundAddress().getPort());
        frontend = MeshSidecars.outbound("frontend", services, SidecarPair.tls(ca, dir, "frontend"));
        client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        await().atMost(Duration.ofSeconds(10)).until(() -> available(ordersA) == 1 && available(ordersB) == 1);
    }

    @AfterAll
    static void stop() throws Exception {
        if (client != null) {
            client.close();
        }
        for (Sidecar s : new Sidecar[] {frontend, ordersB, ordersA}) {
            if (s != null) {
                s.close();
            }
        }
        if (backend != null) {
            backend.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    private static double available(Sidecar s) {
        return Metrics.sum(s, "outrider_ratelimit_redis_available");
    }

    private static double admitted(Sidecar s) {
        return Metrics.sum(s, "outrider_ratelimit_requests_total", "policy", "shop/shared-limits", "result", "admitted");
    }

    private static HttpResponse<String> get(String path) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + frontend.outboundAddress().getPort()
                + path)).header("Host", "orders").timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** Sends {@code n} requests; returns how many were answered 200 (the others must be 429). */
    private static int send(int n) throws Exception {
        int ok = 0;
        for (int i = 0; i < n; i++) {
            HttpResponse<String> r = get("/work/" + i);
            assertThat(r.statusCode()).as("request %d: %s", i, r.body()).isIn(200, 429);
            ok += r.statusCode() == 200 ? 1 : 0;
        }
        return ok;
    }

    @Test
    @Order(1)
    void twoSidecarsShareOneBudgetAndFallBackToHalfEachWithoutRedis() throws Exception {
        double aBefore = admitted(ordersA);
        double bBefore = admitted(ordersB);
        assertThat(send(30)).as("one budget of 10 for the caller, whichever sidecar answers").isEqualTo(10);
        assertThat(admitted(ordersA) - aBefore).as("both sidecars admitted some").isPositive();
        assertThat(admitted(ordersB) - bBefore).isPositive();
        HttpResponse<String> refused = get("/work/over");
        assertThat(refused.statusCode()).isEqualTo(429);
        assertThat(refused.headers().firstValue("ratelimit").orElseThrow())
                .startsWith("\"shared-limits/per-caller\";r=0;t=");

        redis.kill();
        assertThat(send(30)).as("Redis down: each sidecar half the limit on its own (replicas: 2), no failure")
                .isEqualTo(10);
        await().atMost(Duration.ofSeconds(5)).until(() -> available(ordersA) == 0 && available(ordersB) == 0);
        assertThat(Metrics.sum(ordersA, "outrider_ratelimit_fallback_total") + Metrics.sum(ordersB,
                "outrider_ratelimit_fallback_total")).as("counted as fallback").isGreaterThanOrEqualTo(30);

        redis.restart(); // empty: a fresh budget of 10
        int[] probes = {0}; // admitted probes: from Redis (the local fallback budgets are spent)
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> {
            probes[0] += get("/work/probe").statusCode() == 200 ? 1 : 0; // a call shows Redis answers again
            return available(ordersA) == 1 && available(ordersB) == 1;
        });
        assertThat(send(30) + probes[0]).as("one shared budget again").isEqualTo(10);
    }

    /**
     * A Redis that does not answer within the timeout (200 ms here; every client paused for 3 s with CLIENT PAUSE)
     * is unavailable for the requests that waited: each is answered after about the timeout, by the fallback.
     */
    @Test
    @Order(2) // after the budget test: the pause ends on its own, 3 s later
    void aSlowRedisIsTheFallbackAfterTheTimeout() throws Exception {
        try (RedisClient admin = RedisClient.create(redis.uri());
             StatefulRedisConnection<String, String> c = admin.connect()) {
            double fallbackBefore = Metrics.sum(ordersA, "outrider_ratelimit_fallback_total")
                    + Metrics.sum(ordersB, "outrider_ratelimit_fallback_total");
            c.sync().clientPause(3000);
            long start = System.nanoTime();
            HttpResponse<String> r = get("/slow/1");
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertThat(r.statusCode()).as("answered by the fallback, not failed").isIn(200, 429);
            assertThat(millis).as("about the 200 ms timeout, not the 3 s pause").isBetween(150L, 2500L);
            assertThat(Metrics.sum(ordersA, "outrider_ratelimit_fallback_total")
                    + Metrics.sum(ordersB, "outrider_ratelimit_fallback_total")).isGreaterThan(fallbackBefore);
        }
    }
}
