package dev.outrider.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.outrider.core.client.Backoff;
import dev.outrider.core.client.ControlPlaneClient;
import dev.outrider.core.model.ResourceKind;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Reconnect after a control-plane restart, as an operator sees it: a real control plane and a real sidecar as
 * processes. The control plane is stopped (kill -9, then SIGTERM, alternately) and stays away long enough for the
 * sidecar's watch to fail again and again ({@link #DOWN}: the poll back-off of other failures would have grown to
 * a ceiling of 8–16 s by then); a new control plane starts on the same port and data directory, a policy is
 * written through the API at once, and the sidecar must have applied it (its admin {@code /config}) within the
 * documented refusal bound ({@link #DOCUMENTED_BOUND}, {@link Backoff#REFUSED_MAX}) plus a margin for a loaded
 * machine.
 *
 * <p>The back-off is jittered from zero, so a single restart could be caught early by luck even with the long
 * back-off; {@link #ROUNDS} restarts in a row make that unlikely (the in-process {@code WatchReconnectTest} pins
 * the jitter to its ceiling for the worst case).
 */
class ControlPlaneRestartEndToEndTest {
    private static final int ROUNDS = 3;
    /** How long the control plane stays away: many refused polls in a row. */
    private static final Duration DOWN = Duration.ofSeconds(8);
    /**
     * The longest wait after a refused connection as docs/control-plane.md states it ("Sidecars and restarts"), kept
     * here rather than read from {@link Backoff#REFUSED_MAX} so that the test holds the code to the documented value.
     */
    private static final Duration DOCUMENTED_BOUND = Duration.ofSeconds(2);
    /** The wait for the change after it was written: the documented bound plus a margin for a loaded machine. */
    private static final Duration BOUND = DOCUMENTED_BOUND.plus(Duration.ofSeconds(6));
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    private final Started started = new Started();

    @AfterEach
    void stop() throws Exception {
        started.closeAndCheckLeaks();
    }

    @Test
    void aChangeWrittenRightAfterARestartReachesTheSidecarWithinTheRefusalBound() throws Exception {
        TestCa ca = TestCa.create(dir.resolve("ca"));
        int cpPort = MeshProcess.freePort();
        ControlPlaneProcess cp = started.keep(ControlPlaneProcess.start(dir.resolve("cp"), cpPort, ca));
        String token;
        try (ControlPlaneClient admin = cp.admin()) {
            admin.putResource(ResourceKind.SERVICE, "shop", "orders", """
                    apiVersion: outrider.dev/v1
                    kind: Service
                    metadata: {name: orders, namespace: shop}
                    """.getBytes(StandardCharsets.UTF_8), "application/yaml");
            token = admin.createJoinToken("shop", "orders", Duration.ofMinutes(10)).token();
        }
        // No application behind it: what it applied is read from its admin /config.
        SidecarProcess b = started.keep(SidecarProcess.start(dir.resolve("b"), "orders", 1,
                SidecarProcess.Ports.free(), null, cp, token)).awaitReady(200);

        double firstVersion = b.metric("outrider_snapshot_version");
        assertThat(firstVersion).as("the snapshot in force, on /metrics").isPositive();
        assertThat(b.metric("outrider_snapshot_from_control_plane")).isEqualTo(1);
        for (int round = 1; round <= ROUNDS; round++) {
            if (round % 2 == 1) {
                cp.kill();
            } else {
                cp.close(); // SIGTERM
            }
            awaitWatchFailing(b);
            Thread.sleep(DOWN.toMillis()); // the control plane stays away; the sidecar keeps being refused
            assertThat(b.metric("outrider_control_plane_last_contact_age_seconds")).as("what an alert reads")
                    .isGreaterThanOrEqualTo(DOWN.toSeconds());

            cp = started.keep(ControlPlaneProcess.start(dir.resolve("cp"), cpPort, ca));
            try (ControlPlaneClient admin = cp.admin()) {
                admin.putResource(ResourceKind.AUTHORIZATION_POLICY, "shop", "after-restart-" + round,
                        policy("after-restart-" + round).getBytes(StandardCharsets.UTF_8), "application/yaml");
            }
            awaitPolicy(b, "shop/after-restart-" + round, BOUND);
        }
        assertThat(b.isAlive()).isTrue();
        assertThat(b.metric("outrider_snapshot_version")).isGreaterThan(firstVersion);
        assertThat(b.metric("outrider_control_plane_last_contact_age_seconds")).isBetween(0.0, 30.0);
    }

    /** Waits until the sidecar's control-plane link reports the control plane unreachable (its watch noticed). */
    private static void awaitWatchFailing(SidecarProcess b) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (link(b).path("lastError").asText("").contains("unreachable")) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the sidecar did not notice the control plane was gone within 30 s: "
                + b.config() + "\n" + b.logText());
    }

    /**
     * Waits up to {@code bound} until the snapshot in force in the sidecar came from the control plane and holds
     * the AuthorizationPolicy {@code policy} ({@code namespace/name}).
     */
    private static void awaitPolicy(SidecarProcess b, String policy, Duration bound) throws Exception {
        long deadline = System.nanoTime() + bound.toNanos();
        JsonNode last = null;
        while (System.nanoTime() < deadline) {
            if (!b.isAlive()) {
                throw new IllegalStateException("sidecar exited:\n" + b.logText());
            }
            String config = b.config();
            last = config.isEmpty() ? null : JSON.readTree(config);
            String policies = last == null ? "" : last.path("policySnapshot").path("authorizationPolicies").toString();
            if (last != null && "CONTROL_PLANE".equals(last.path("controlPlaneLink").path("source").asText())
                    && policies.contains("\"" + policy + "\"")) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the sidecar did not apply " + policy + " within " + bound + " ("
                + DOCUMENTED_BOUND + " after a refused connection, as documented, plus a margin); last seen: "
                + (last == null ? "no /config" : last.path("policySnapshot") + " " + last.path("controlPlaneLink"))
                + "\n" + b.logText());
    }

    /** {@code controlPlaneLink} of the sidecar's admin {@code /config} (empty when it does not answer). */
    private static JsonNode link(SidecarProcess b) throws Exception {
        String config = b.config();
        return config.isEmpty() ? JSON.createObjectNode() : JSON.readTree(config).path("controlPlaneLink");
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
