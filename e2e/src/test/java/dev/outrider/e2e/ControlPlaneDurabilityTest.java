package dev.outrider.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import dev.outrider.core.client.ControlPlaneClient;
import dev.outrider.core.client.ControlPlaneException;
import dev.outrider.core.model.ResourceKind;
import dev.outrider.core.client.WrittenResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * kill -9 of the control plane while four clients write as fast as they can: every write it answered 2xx is
 * there after the restart, at the version it answered with, and later writes get larger versions.
 */
class ControlPlaneDurabilityTest {
    @TempDir
    Path dir;

    @Test
    void everyAcknowledgedWriteSurvivesKillMinus9DuringWrites() throws Exception {
        TestCa ca = TestCa.create(dir.resolve("ca"));
        int port = MeshProcess.freePort();
        ControlPlaneProcess cp = ControlPlaneProcess.start(dir.resolve("cp"), port, ca);
        String joinToken;
        try (ControlPlaneClient admin = cp.admin()) {
            joinToken = admin.createJoinToken("shop", "orders", java.time.Duration.ofMinutes(10)).token();
        }
        Map<String, String> acknowledged = new ConcurrentHashMap<>();
        AtomicBoolean writing = new AtomicBoolean(true);
        CountDownLatch enough = new CountDownLatch(60);
        List<Thread> writers = new ArrayList<>();
        try {
            for (int w = 0; w < 4; w++) {
                int writer = w;
                writers.add(Thread.ofPlatform().start(() -> {
                    try (ControlPlaneClient admin = cp.admin()) {
                        for (int i = 0; writing.get(); i++) {
                            String name = "w" + writer + "-" + i;
                            try {
                                WrittenResource r = admin.putResource(ResourceKind.AUTHORIZATION_POLICY, "shop", name,
                                        policy(name).getBytes(StandardCharsets.UTF_8), "application/yaml");
                                acknowledged.put(name, r.resourceVersion());
                                enough.countDown();
                            } catch (ControlPlaneException e) {
                                if (!e.retryable()) {
                                    throw e;
                                }
                                return; // the control plane is gone: this write was not acknowledged
                            }
                        }
                    }
                }));
            }
            assertThat(enough.await(60, TimeUnit.SECONDS)).as("writes acknowledged before the kill").isTrue();
            cp.kill(); // SIGKILL in the middle of the writes
        } finally {
            writing.set(false);
            for (Thread t : writers) {
                t.join(30_000);
            }
            cp.close();
        }
        assertThat(acknowledged).hasSizeGreaterThanOrEqualTo(60);

        ControlPlaneProcess restarted = ControlPlaneProcess.start(dir.resolve("cp"), port, ca);
        try {
            verifyAfterRestart(restarted, acknowledged, joinToken, ca);
        } finally {
            restarted.close();
        }
        restarted.assertNoLeaks();
    }

    private static void verifyAfterRestart(ControlPlaneProcess restarted, Map<String, String> acknowledged,
                                           String joinToken, TestCa ca) throws Exception {
        try (ControlPlaneClient admin = restarted.admin()) {
            long highest = 0;
            for (Map.Entry<String, String> e : acknowledged.entrySet()) {
                JsonNode stored = admin.getResource(ResourceKind.AUTHORIZATION_POLICY, "shop", e.getKey());
                assertThat(stored.path("metadata").path("resourceVersion").asText()).as(e.getKey())
                        .isEqualTo(e.getValue());
                highest = Math.max(highest, Long.parseLong(e.getValue()));
            }
            WrittenResource after = admin.putResource(ResourceKind.AUTHORIZATION_POLICY, "shop", "after-restart",
                    policy("after-restart").getBytes(StandardCharsets.UTF_8), "application/yaml");
            assertThat(Long.parseLong(after.resourceVersion())).isGreaterThan(highest);
        }
        // The join token handed out before the kill still works once, after it.
        try (ControlPlaneClient anonymous = ControlPlaneClient.open(new dev.outrider.core.client.ControlPlaneClientConfig(
                java.net.URI.create(restarted.url()),
                dev.outrider.core.client.ControlPlaneClientConfig.defaultServerIdentity("cluster.local"),
                ca.certificate(), null, null, null, java.time.Duration.ofSeconds(2), java.time.Duration.ofSeconds(10)))) {
            String csr = CertificatesEndToEndTest.csr("spiffe://cluster.local/ns/shop/sa/orders");
            assertThat(anonymous.requestCertificate(csr, joinToken).identity().toString())
                    .isEqualTo("spiffe://cluster.local/ns/shop/sa/orders");
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> anonymous.requestCertificate(csr, joinToken))
                    .isInstanceOfSatisfying(ControlPlaneException.class, e -> assertThat(e.status()).isEqualTo(401));
        }
    }

    private static String policy(String name) {
        return """
                apiVersion: outrider.dev/v1
                kind: AuthorizationPolicy
                metadata: {name: %s, namespace: shop}
                spec:
                  selector: {matchLabels: {app: orders}}
                  action: DENY
                  rules: [{to: [{operation: {paths: ["/%s"]}}]}]
                """.formatted(name, name);
    }
}
