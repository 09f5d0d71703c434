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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

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
                match: {notPaths: ["/slow/*", "/many/*", "/upload/*", "/once/*"]}
                key: source.principal
                scope: global
                limit: {requests: 10, per: 1h}
              - name: many
                match: {paths: ["/many/*"]}
                scope: global
                limit: {requests: 100, per: 10s, burst: 100}
              - name: once
                match: {paths: ["/once/*"]}
                scope: global
                limit: {requests: 1, per: 1h}
              - name: upload
                match: {paths: ["/upload/*"]}
                scope: global
                limit: {requests: 1000, per: 1s}
              - name: slow-path
                match: {paths: ["/slow/*"]}
                scope: global
                limit: {requests: 1000, per: 1s}
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
        return send("/work/", n);
    }

    private static int send(String prefix, int n) throws Exception {
        int ok = 0;
        for (int i = 0; i < n; i++) {
            HttpResponse<String> r = get(prefix + i);
            assertThat(r.statusCode()).as("request %d: %s", i, r.body()).isIn(200, 429);
            ok += r.statusCode() == 200 ? 1 : 0;
        }
        return ok;
    }

    /**
     * Four clients at once, 100 requests each, spread over both sidecars: the workload's budget of 100 (and 10 a
     * second) is shared within the bound documented for leases: 1.5 leases per sidecar (a lease here is one token:
     * 20 ms at 10/s is less). Each sidecar on its own would admit the whole budget.
     */
    @Test
    @Order(0)
    void concurrentClientsOverBothSidecarsShareTheBudgetWithinTheLeaseBound() throws Exception {
        double aBefore = admitted(ordersA);
        double bBefore = admitted(ordersB);
        int clients = 4;
        long start = System.nanoTime();
        List<CompletableFuture<Integer>> runs = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(clients)) {
            for (int c = 0; c < clients; c++) {
                runs.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        return send("/many/", 100);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }, pool));
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        int ok = runs.stream().mapToInt(CompletableFuture::join).sum();
        int slack = 2 * 2; // 1.5 leases of 1 token on each of the 2 sidecars, rounded up
        assertThat(ok).as("admitted of 400 in %.2f s: the burst, plus 10/s, within %d", seconds, slack)
                .isBetween(100 - slack, (int) (100 + 10 * seconds) + slack);
        assertThat(admitted(ordersA) - aBefore).as("both sidecars admitted some").isPositive();
        assertThat(admitted(ordersB) - bBefore).isPositive();
    }

    /**
     * A request with a body whose lease is empty waits for the refill with its body held (reading stops), then goes
     * on whole: the backend gets every byte. Before, each sidecar's connection has seen a request refused after
     * waiting (the {@code once} budget spent by the other sidecar, the lease empty): the next request on it is read
     * whole too.
     */
    @Test
    @Order(0)
    void aBodyWaitsWithItsRequestAndArrivesWhole() throws Exception {
        assertThat(List.of(get("/once/1").statusCode(), get("/once/2").statusCode(), get("/once/3").statusCode(),
                get("/once/4").statusCode())).as("one for the workload, whichever sidecar").containsOnlyOnce(200)
                .containsOnly(200, 429);
        byte[] body = new byte[256 * 1024];
        new java.util.Random(7).nextBytes(body);
        String expected = body.length + " " + java.util.HexFormat.of().formatHex(
                java.security.MessageDigest.getInstance("SHA-256").digest(body));
        for (int i = 0; i < 3; i++) { // the first on each sidecar finds its lease empty
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                            + frontend.outboundAddress().getPort() + "/upload/" + i)).header("Host", "orders")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body)).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body().trim()).isEqualTo(expected);
        }
    }

    @Test
    @Order(1)
    void twoSidecarsShareOneBudgetAndFallBackToHalfEachWithoutRedis() throws Exception {
        double aBefore = admitted(ordersA);
        double bBefore = admitted(ordersB);
        HttpResponse<String> first = get("/work/first");
        assertThat(first.statusCode()).isEqualTo(200);
        assertThat(first.headers().allValues("ratelimit")).as("the shared quota left, on an admitted response")
                .anyMatch(v -> v.startsWith("\"shared-limits/per-caller\";r=9;t="));
        assertThat(send(30) + 1).as("one budget of 10 for the caller, whichever sidecar answers").isEqualTo(10);
        assertThat(admitted(ordersA) - aBefore).as("both sidecars admitted some").isPositive();
        assertThat(admitted(ordersB) - bBefore).isPositive();
        assertThat(Metrics.sum(ordersA, "outrider_ratelimit_redis_seconds_bucket", "le", "0.05")
                + Metrics.sum(ordersB, "outrider_ratelimit_redis_seconds_bucket", "le", "0.05"))
                .as("Redis calls in the latency histogram, under 50 ms").isPositive();
        HttpResponse<String> refused = get("/work/over");
        assertThat(refused.statusCode()).isEqualTo(429);
        assertThat(refused.headers().firstValue("ratelimit").orElseThrow())
                .startsWith("\"shared-limits/per-caller\";r=0;t=");

        redis.kill();
        assertThat(send(30)).as("Redis down: each sidecar half the limit on its own (replicas: 2), no failure")
                .isEqualTo(10);
        await().atMost(Duration.ofSeconds(5)).until(() -> available(ordersA) == 0 && available(ordersB) == 0);
        assertThat(Metrics.sum(ordersA, "outrider_ratelimit_fallback_total") + Metrics.sum(ordersB,
                "outrider_ratelimit_fallback_total")).as("counted as fallback (but for the first requests, refused"
                + " while the sidecar had not seen the connection end, by the refusal Redis gave before it)")
                .isGreaterThanOrEqualTo(25);

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
     * is unavailable for the requests that waited for it: the first request on each sidecar (its lease of the
     * {@code slow-path} budget is empty) is answered after about the timeout, by the fallback; later requests find
     * Redis unavailable and are answered by the fallback at once, without waiting for it.
     */
    @Test
    @Order(2) // after the budget test: the pause ends on its own, 3 s later
    void aSlowRedisIsTheFallbackAfterTheTimeout() throws Exception {
        try (RedisClient admin = RedisClient.create(redis.uri());
             StatefulRedisConnection<String, String> c = admin.connect()) {
            double fallbackBefore = fallbacks();
            c.sync().clientPause(3000);
            long[] millis = new long[8];
            for (int i = 0; i < millis.length; i++) {
                long start = System.nanoTime();
                HttpResponse<String> r = get("/slow/" + i);
                millis[i] = (System.nanoTime() - start) / 1_000_000;
                assertThat(r.statusCode()).as("answered by the fallback, not failed").isEqualTo(200);
            }
            long waited = Arrays.stream(millis).filter(m -> m >= 150).count();
            assertThat(waited).as("the first request on each sidecar waited about the 200 ms timeout, the later ones"
                    + " did not wait for Redis: %s", Arrays.toString(millis)).isBetween(1L, 2L);
            assertThat(Arrays.stream(millis).max().orElseThrow()).as("not the 3 s pause: %s", Arrays.toString(millis))
                    .isLessThan(2500L);
            assertThat(fallbacks() - fallbackBefore).isEqualTo(millis.length);
        }
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200)).until(() -> {
            get("/slow/probe"); // a fallback request starts a refill, whose answer shows Redis answers again
            return available(ordersA) == 1 && available(ordersB) == 1;
        });
    }

    private static double fallbacks() {
        return Metrics.sum(ordersA, "outrider_ratelimit_fallback_total")
                + Metrics.sum(ordersB, "outrider_ratelimit_fallback_total");
    }
}
