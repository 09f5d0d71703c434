package dev.outrider.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.outrider.core.testing.RedisServer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The Redis of global rate limits configured once, on the control plane ({@code --redis}), every part its own
 * process on loopback: the sidecars (whose bootstrap files name no Redis) get it in their snapshots, connect, and
 * a {@code scope: global} rule applied with ctl keeps its budget in that Redis (Debian's redis-server).
 */
class GlobalRateLimitsEndToEndTest {
    private static final String POLICIES = """
            apiVersion: outrider.dev/v1
            kind: AuthorizationPolicy
            metadata: {name: orders-allow-frontend, namespace: shop}
            spec:
              selector: {matchLabels: {app: orders}}
              action: ALLOW
              rules:
                - from: [{source: {principals: ["cluster.local/ns/shop/sa/frontend"]}}]
                  to: [{operation: {methods: ["GET"], paths: ["/ping", "/limited/*"]}}]
            ---
            apiVersion: outrider.dev/v1
            kind: RateLimitPolicy
            metadata: {name: orders-shared, namespace: shop}
            spec:
              selector: {matchLabels: {app: orders}}
              global: {fallback: refuse}
              rules:
                - name: per-caller
                  match: {paths: ["/limited/*"]}
                  key: source.principal
                  scope: global
                  limit: {requests: 3, per: 1h}
            """;

    @TempDir
    Path dir;
    private final Started started = new Started();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private RedisServer redis;

    @AfterEach
    void stop() throws Exception {
        started.closeAndCheckLeaks();
        http.close();
        if (redis != null) {
            redis.close();
        }
    }

    @Test
    void theControlPlanePassesItsRedisOnAndAGlobalRuleKeepsItsBudgetThere() throws Exception {
        redis = RedisServer.start(dir.resolve("redis"));
        TestCa ca = TestCa.create(dir.resolve("ca"));
        ControlPlaneProcess cp = started.keep(ControlPlaneProcess.start(dir.resolve("cp"), MeshProcess.freePort(), ca,
                List.of("--redis", redis.uri(), "--redis-timeout", "500ms")));
        Files.writeString(dir.resolve("services.yaml"), MeshEndToEndTest.SERVICES);
        Ctl applied = Ctl.run(dir, cp, "apply", "-f", dir.resolve("services.yaml").toString());
        assertThat(applied.exitCode()).as(applied.output()).isZero();

        Backend backend = started.keep(Backend.start());
        SidecarProcess.Ports portsB = SidecarProcess.Ports.free();
        SidecarProcess b = started.keep(SidecarProcess.start(dir.resolve("b"), "orders", backend.port(), portsB, null,
                cp, cp.joinToken("orders"))).awaitReady(200);
        SidecarProcess a = started.keep(SidecarProcess.start(dir.resolve("a"), "frontend", 1,
                SidecarProcess.Ports.free(), "orders", cp, cp.joinToken("frontend"))).awaitReady(200);

        Files.writeString(dir.resolve("policies.yaml"), POLICIES);
        Ctl policies = Ctl.run(dir, cp, "apply", "-f", dir.resolve("policies.yaml").toString());
        assertThat(policies.exitCode()).as(policies.output()).isZero();
        a.awaitUpstreamStatus(http, "/ping", 200);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            JsonNode snapshot = new ObjectMapper().readTree(b.config()).path("policySnapshot");
            assertThat(snapshot.path("rateLimitRules").asInt()).isEqualTo(1);
            JsonNode inUse = snapshot.path("rateLimitRedis");
            assertThat(inUse.path("uri").asText()).isEqualTo(redis.uri());
            assertThat(inUse.path("source").asText()).isEqualTo("control plane");
            assertThat(inUse.path("timeout").asText()).isEqualTo("500ms");
            assertThat(inUse.path("available").asBoolean()).isTrue();
        });

        List<Integer> statuses = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            statuses.add(a.upstreamStatus(http, "/limited/" + i));
        }
        assertThat(statuses).as("3 an hour for the caller, kept in Redis (without it: fallback refuse, all 429)")
                .containsExactly(200, 200, 200, 429, 429);
        try (RedisClient client = RedisClient.create(redis.uri());
             StatefulRedisConnection<String, String> c = client.connect()) {
            assertThat(c.sync().keys("outrider:ratelimit:shop/orders-shared:per-caller:*"))
                    .as("the caller's bucket").hasSize(1);
        }
        assertThat(b.logText()).contains("global rules keep their budgets in Redis " + redis.uri()
                + ", from the control plane");
    }
}
