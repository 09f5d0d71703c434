package dev.outrider.core.watch;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.jwk.JWKSet;
import dev.outrider.controlplane.ControlPlaneFixture;
import dev.outrider.controlplane.testing.ApiClient;
import dev.outrider.core.client.ControlPlaneClient;
import dev.outrider.core.client.ControlPlaneException;
import dev.outrider.core.model.SpiffeId;
import dev.outrider.core.snapshot.LastKnownGood;
import dev.outrider.core.snapshot.SnapshotVerifier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import static dev.outrider.core.watch.WatchTestSupport.putPolicy;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * A sidecar's plaintext count from its snapshot watch (the real {@link ControlPlaneClient} and
 * {@link SnapshotWatcher}, with a one-second poll) to a real control plane on loopback, and back out to an operator:
 * {@code GET /v1/sidecars} shows the count and when it last grew, {@code ?plaintextSince=} lists only the workloads
 * that still have plaintext callers (what {@code outrider ctl status --plaintext-since} shows); bad parameters are
 * refused naming them.
 */
class PlaintextReportTest {
    @TempDir
    Path dir;
    private ControlPlaneFixture cp;
    private ControlPlaneClient orders;
    private ControlPlaneClient admin;
    private SnapshotWatcher watcher;

    @AfterEach
    void stop() {
        if (watcher != null) {
            watcher.close();
        }
        if (orders != null) {
            orders.close();
        }
        if (admin != null) {
            admin.close();
        }
        if (cp != null) {
            cp.close();
        }
    }

    @Test
    void theCountRidesOnThePollAndTheSidecarListShowsAndFiltersIt() throws Exception {
        cp = ControlPlaneFixture.start(dir);
        ApiClient adminApi = cp.adminByToken();
        putPolicy(adminApi, "allow");
        orders = WatchTestSupport.client(cp, dir, "shop", "orders");
        admin = WatchTestSupport.client(cp, dir, "outrider-system", "admin");
        SpiffeId identity = SpiffeId.ofServiceAccount("cluster.local", "shop", "orders");
        SnapshotVerifier verifier = new SnapshotVerifier(JWKSet.parse(adminApi.get("/v1/snapshot-keys").body()), identity);
        AtomicLong plaintext = new AtomicLong();
        watcher = SnapshotWatcher.start(orders, verifier, new LastKnownGood(dir.resolve("snapshot.jws"), verifier),
                s -> { }, new WatchOptions("shop", "orders", null, "orders-1", null, Duration.ofSeconds(1))
                        .reportingPlaintext(plaintext::get));

        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            JsonNode s = only(admin.sidecars(), "orders-1");
            assertThat(s.path("appliedVersion").asText()).isNotEmpty();
            assertThat(s.path("plaintextConnections").asText()).isEqualTo("0");
        });
        assertThat(only(admin.sidecars(), "orders-1").has("plaintextLastGrew")).isFalse();
        assertThat(admin.sidecarsWithPlaintextSince("1h").path("sidecars")).as("no plaintext caller yet").isEmpty();

        plaintext.set(3); // unmeshed callers arrive
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                assertThat(only(admin.sidecars(), "orders-1").path("plaintextConnections").asText()).isEqualTo("3"));
        JsonNode recent = admin.sidecarsWithPlaintextSince("1h").path("sidecars");
        assertThat(recent).hasSize(1);
        assertThat(recent.get(0).path("instance").asText()).isEqualTo("orders-1");
        assertThat(recent.get(0).path("plaintextLastGrew").asText()).isNotEmpty();
        assertThat(admin.sidecarsWithPlaintextSince("2999-01-01T00:00:00Z").path("sidecars")).isEmpty();

        assertThatThrownBy(() -> admin.sidecarsWithPlaintextSince("yesterday"))
                .isInstanceOf(ControlPlaneException.class).hasMessageContaining("plaintextSince 'yesterday' is"
                        + " neither an RFC 3339 time");
        HttpResponse<String> unknown = adminApi.get("/v1/sidecars?plaintext=1");
        assertThat(unknown.statusCode()).isEqualTo(400);
        assertThat(ApiClient.json(unknown).get("field").asText()).isEqualTo("plaintext");
    }

    @Test
    void aPlaintextCountNeedsAnAckAndANumber() throws Exception {
        cp = ControlPlaneFixture.start(dir);
        ApiClient workload = cp.workload("shop", "orders");
        HttpResponse<String> alone = workload.get("/v1/snapshots/shop/orders?after=0&wait=0&plaintext=3");
        assertThat(alone.statusCode()).isEqualTo(400);
        assertThat(ApiClient.json(alone).get("field").asText()).isEqualTo("plaintext");
        assertThat(ApiClient.json(alone).get("message").asText()).contains("rides with an ACK");
        HttpResponse<String> notANumber = workload.get(
                "/v1/snapshots/shop/orders?after=0&wait=0&instance=orders-1&ack=0&plaintext=-1");
        assertThat(notANumber.statusCode()).isEqualTo(400);
        assertThat(ApiClient.json(notANumber).get("field").asText()).isEqualTo("plaintext");
    }

    private static JsonNode only(JsonNode answer, String instance) {
        for (JsonNode s : answer.path("sidecars")) {
            if (s.path("instance").asText().equals(instance)) {
                return s;
            }
        }
        throw new AssertionError("no sidecar " + instance + " in " + answer);
    }
}
