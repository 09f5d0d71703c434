package dev.outrider.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import dev.outrider.core.client.ControlPlaneClient;
import dev.outrider.core.client.ControlPlaneException;
import dev.outrider.core.model.ResourceKind;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static dev.outrider.e2e.ReplicatedMesh.SIZE;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A control plane with no single point of failure (issue 20), as real processes on loopback: three etcd members,
 * three control-plane replicas on them and three sidecars, each served first by another replica
 * ({@link ReplicatedMesh}). A policy written through any replica is enforced by the sidecars of every replica; a
 * replica killed with -9 during writes loses no acknowledged write, its sidecar fails over, converges and keeps
 * renewing its certificate, and the replica serves again once restarted; one etcd member lost changes nothing,
 * two stop writes with a 503 while sidecars keep enforcing what they have, and everything converges once they
 * are back.
 *
 * <p>The tests share the mesh; each one leaves it whole (what it kills is started again, also when it fails).
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class ReplicasFailoverEndToEndTest {
    private static final int WRITES = 100;

    @TempDir
    static Path dir;
    static ReplicatedMesh mesh;

    @BeforeAll
    static void start() throws Exception {
        mesh = ReplicatedMesh.start(dir);
    }

    @AfterAll
    static void stop() throws Exception {
        if (mesh != null) {
            mesh.close();
        }
    }

    @Test
    void aPolicyWrittenThroughOneReplicaIsEnforcedByTheSidecarsOfEveryReplica() throws Exception {
        for (int writer = 0; writer < SIZE; writer++) {
            int remover = (writer + 1) % SIZE;
            mesh.admin(writer).putResource(ResourceKind.AUTHORIZATION_POLICY, ReplicatedMesh.NAMESPACE, "deny-hello",
                    ReplicatedMesh.deny("deny-hello", "/hello"), "application/yaml");
            mesh.awaitStatus("/hello", 403);
            mesh.assertStatus("/other", 200);

            mesh.admin(remover).deleteResource(ResourceKind.AUTHORIZATION_POLICY, ReplicatedMesh.NAMESPACE,
                    "deny-hello", null);
            mesh.awaitStatus("/hello", 200);
        }
        // Each sidecar's certificate came from the MeshConfig written through replica 0, whichever replica issued it.
        for (int i = 0; i < SIZE; i++) {
            X509Certificate cert = mesh.certificate(i);
            assertThat(Duration.between(Instant.now(), cert.getNotAfter().toInstant()))
                    .as("sidecar %d's certificate (serial %s) lives certificateTtl", i, cert.getSerialNumber().toString(16))
                    .isLessThanOrEqualTo(ReplicatedMesh.CERTIFICATE_TTL);
        }
    }

    @Test
    void aReplicaKilledDuringWritesLosesNoAcknowledgedWriteAndItsSidecarFailsOverAndRenews() throws Exception {
        int victim = 0;
        try {
            ReplicaWriter writer = new ReplicaWriter(mesh.admins());
            CompletableFuture<Void> writing = writeInBackground(writer, "kill-cp-");
            awaitAcknowledged(writer, writing, WRITES / 3);
            X509Certificate before = mesh.certificate(victim);
            Instant killed = Instant.now();
            mesh.killReplica(victim);
            finish(writer, writing);

            List<Integer> survivors = mesh.live();
            assertThat(survivors).as("replicas alive").doesNotContain(victim).hasSize(SIZE - 1);
            assertAllStored(writer, survivors);
            mesh.awaitConverged(names(writer));
            mesh.assertStatus("/kill-cp-" + last(), 403);
            mesh.assertStatus("/hello", 200);

            // The killed replica's sidecar moved to the next replica it lists, the survivor it now talks to.
            SidecarProcess moved = mesh.sidecars.get(victim);
            int next = (victim + 1) % SIZE;
            assertThat(moved.logText()).as("sidecar %d's failover\n%s", victim, mesh.tails())
                    .contains("moving to https://127.0.0.1:" + mesh.replica(next).port);

            // Its certificate keeps being renewed: one issued after the kill, by a surviving replica, is in force.
            X509Certificate renewed = awaitCertificateIssuedAfter(victim, killed);
            String serial = renewed.getSerialNumber().toString(16);
            assertThat(renewed.getSerialNumber()).isNotEqualTo(before.getSerialNumber());
            assertThat(survivors.stream().anyMatch(r -> mesh.replica(r).logText().contains("serial " + serial + ",")))
                    .as("a surviving replica issued certificate %s\n%s", serial, mesh.tails()).isTrue();
            awaitLog(moved, "new TLS material in use: certificate serial " + serial);
            mesh.assertStatus("/hello", 200);

            // Started again, the replica serves the same state and its writes reach every sidecar.
            mesh.restartReplica(victim);
            assertAllStored(writer, List.of(victim));
            mesh.awaitConverged(names(writer)); // the restarted replica serves what the others do
            mesh.admin(victim).putResource(ResourceKind.AUTHORIZATION_POLICY, ReplicatedMesh.NAMESPACE, "after-restart",
                    ReplicatedMesh.deny("after-restart", "/after-restart"), "application/yaml");
            mesh.awaitStatus("/after-restart", 403);
        } finally {
            if (!mesh.replica(victim).isAlive()) {
                mesh.restartReplica(victim);
            }
        }
    }

    @Test
    void withoutEtcdQuorumWritesAre503AndSidecarsKeepTheirPolicyUntilItReturns() throws Exception {
        List<Integer> killed = new ArrayList<>();
        try {
            ReplicaWriter writer = new ReplicaWriter(mesh.admins());
            CompletableFuture<Void> writing = writeInBackground(writer, "kill-etcd-");
            awaitAcknowledged(writer, writing, WRITES / 3);
            mesh.etcd.kill(0);
            killed.add(0);
            finish(writer, writing);
            assertAllStored(writer, mesh.live());
            mesh.awaitConverged(names(writer));
            mesh.assertStatus("/kill-etcd-" + last(), 403);

            mesh.etcd.kill(1);
            killed.add(1);
            // One write through each replica, at once: each waits for etcd up to --etcd-timeout.
            List<CompletableFuture<ControlPlaneException>> refusals = new ArrayList<>();
            for (int r = 0; r < SIZE; r++) {
                ControlPlaneClient admin = mesh.admin(r);
                String name = "no-quorum-" + r;
                refusals.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        admin.putResource(ResourceKind.AUTHORIZATION_POLICY, ReplicatedMesh.NAMESPACE, name,
                                ReplicatedMesh.deny(name, "/no-quorum"), "application/yaml");
                        return null;
                    } catch (ControlPlaneException e) {
                        return e;
                    }
                }));
            }
            for (int r = 0; r < SIZE; r++) {
                ControlPlaneException e = refusals.get(r).get(60, TimeUnit.SECONDS);
                assertThat(e).as("a write through replica %d acknowledged without etcd's quorum\n%s", r, mesh.tails())
                        .isNotNull();
                assertThat(ReplicatedMesh.status(e)).as("write without quorum through replica %d: %s", r, e.getMessage())
                        .isEqualTo(503);
                assertThat(e.reason()).isEqualTo("Unavailable");
                assertThat(e.serverMessage()).as("the 503 names the store").contains("store");
            }
            // The sidecars keep enforcing their snapshot, and nothing replaces it, while several of their watch polls
            // (5 s) and of the replicas' etcd watch retries (1 s) go by.
            long[] versions = new long[SIZE];
            for (int i = 0; i < SIZE; i++) {
                versions[i] = ReplicatedMesh.config(mesh.sidecars.get(i)).path("controlPlaneLink").path("appliedVersion")
                        .asLong();
            }
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(8);
            while (System.nanoTime() < until) {
                mesh.assertStatus("/hello", 200);
                mesh.assertStatus("/kill-etcd-" + last(), 403);
                for (int i = 0; i < SIZE; i++) {
                    SidecarProcess s = mesh.sidecars.get(i);
                    assertThat(s.readyStatus()).as("sidecar %d ready without quorum", i).isEqualTo(200);
                    assertThat(ReplicatedMesh.config(s).path("controlPlaneLink").path("appliedVersion").asLong())
                            .as("sidecar %d's snapshot without quorum", i).isEqualTo(versions[i]);
                }
                Thread.sleep(250);
            }

            mesh.etcd.restartNoWait(0);
            mesh.etcd.restartNoWait(1);
            for (int m = 0; m < SIZE; m++) {
                mesh.etcd.awaitHealthy(m);
            }
            killed.clear();
            ReplicaWriter.Outcome healed = writer.write("after-quorum", ReplicatedMesh.deny("after-quorum", "/after-quorum"));
            long[] after = mesh.awaitConverged(names(writer));
            for (int i = 0; i < SIZE; i++) {
                // Above the write's version: the content holds the write, and a label is above what it is made of.
                assertThat(after[i]).as("sidecar %d's version after the quorum came back", i)
                        .isGreaterThan(Long.parseLong(healed.resourceVersion()));
            }
            mesh.assertStatus("/after-quorum", 403);
            mesh.assertStatus("/hello", 200);
        } finally {
            for (int m : killed) {
                mesh.etcd.restartNoWait(m);
            }
            for (int m = 0; m < SIZE; m++) {
                mesh.etcd.awaitHealthy(m);
            }
        }
    }

    /** {@link #WRITES} writes of {@code prefix}NNN (each denying /{@code prefix}NNN) on a thread of their own. */
    private static CompletableFuture<Void> writeInBackground(ReplicaWriter writer, String prefix) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread.ofPlatform().name("e2e-writer").daemon().start(() -> {
            try {
                for (int n = 0; n < WRITES; n++) {
                    String name = prefix + "%03d".formatted(n);
                    writer.write(name, ReplicatedMesh.deny(name, "/" + name));
                }
                done.complete(null);
            } catch (Throwable e) {
                done.completeExceptionally(e);
            }
        });
        return done;
    }

    private static String last() {
        return "%03d".formatted(WRITES - 1);
    }

    /** Waits until {@code count} writes are acknowledged (the writer still writing). */
    private static void awaitAcknowledged(ReplicaWriter writer, CompletableFuture<Void> writing, int count)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (writer.acknowledged() < count) {
            if (writing.isDone()) {
                writing.join(); // its failure
                throw new AssertionError("the writer finished before " + count + " acknowledged writes");
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("only " + writer.acknowledged() + " of " + count + " writes acknowledged"
                        + " within 60 s; met: " + writer.problems() + "\n" + mesh.tails());
            }
            Thread.sleep(5);
        }
        assertThat(writing).as("still writing when the failure comes").isNotDone();
    }

    private static void finish(ReplicaWriter writer, CompletableFuture<Void> writing) throws Exception {
        try {
            writing.get(120, TimeUnit.SECONDS);
        } catch (TimeoutException | java.util.concurrent.ExecutionException e) {
            throw new AssertionError("the writes did not all end stored (" + writer.outcomes().size() + " of " + WRITES
                    + "): " + (e.getCause() == null ? e : e.getCause()) + "; met: " + writer.problems() + "\n"
                    + mesh.tails(), e);
        }
        assertThat(writer.outcomes()).hasSize(WRITES);
        // What the failure cost the writer, for whoever reads the test's output.
        System.out.println(WRITES + " writes stored: " + writer.acknowledged() + " acknowledged, "
                + (WRITES - writer.acknowledged()) + " found on reading back; met on the way: " + writer.problems());
    }

    /** Every write is stored at the version it was acknowledged with (or read back at), read from each of {@code replicas}. */
    private static void assertAllStored(ReplicaWriter writer, List<Integer> replicas) {
        List<String> lost = new ArrayList<>();
        for (int r : replicas) {
            ControlPlaneClient admin = mesh.admin(r);
            for (ReplicaWriter.Outcome o : writer.outcomes()) {
                try {
                    JsonNode stored = admin.getResource(ResourceKind.AUTHORIZATION_POLICY, ReplicatedMesh.NAMESPACE,
                            o.name());
                    String version = stored.at("/metadata/resourceVersion").asText();
                    if (!version.equals(o.resourceVersion())) {
                        lost.add(o + ": replica " + r + " has version " + version);
                    }
                } catch (ControlPlaneException e) {
                    lost.add(o + ": replica " + r + " answered " + e.getMessage());
                }
            }
        }
        assertThat(lost).as("writes (%d acknowledged of %d; met on the way: %s) not found as written",
                writer.acknowledged(), writer.outcomes().size(), writer.problems()).isEmpty();
    }

    private static List<String> names(ReplicaWriter writer) {
        return writer.outcomes().stream().map(ReplicaWriter.Outcome::name).toList();
    }

    /**
     * Waits until sidecar {@code i}'s certificate file holds one issued after {@code instant} (its notAfter is the
     * issue time plus certificateTtl): renewal at half-life, about 30 s, plus jitter and a margin.
     */
    private static X509Certificate awaitCertificateIssuedAfter(int i, Instant instant) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(75);
        X509Certificate cert = mesh.certificate(i);
        while (!cert.getNotAfter().toInstant().minus(ReplicatedMesh.CERTIFICATE_TTL).isAfter(instant)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("sidecar " + i + " has no certificate issued after " + instant
                        + " within 75 s; in force: serial " + cert.getSerialNumber().toString(16) + " until "
                        + cert.getNotAfter().toInstant() + "\n" + mesh.tails());
            }
            Thread.sleep(200);
            cert = mesh.certificate(i);
        }
        return cert;
    }

    private static void awaitLog(MeshProcess p, String text) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!p.logText().contains(text)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("'" + text + "' not logged within 10 s by " + p.log + ":\n" + p.logTail(40));
            }
            Thread.sleep(50);
        }
    }
}
