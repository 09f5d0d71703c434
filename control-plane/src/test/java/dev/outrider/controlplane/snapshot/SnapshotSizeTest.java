package dev.outrider.controlplane.snapshot;

import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import dev.outrider.core.snapshot.SnapshotSigner;
import dev.outrider.core.snapshot.SnapshotVerifier;
import dev.outrider.controlplane.ca.WorkloadIdentity;
import dev.outrider.controlplane.registry.ServiceRegistry;
import dev.outrider.controlplane.store.FileStore;
import dev.outrider.controlplane.testing.MutableClock;
import dev.outrider.controlplane.testing.Resources;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What scoping saves (bench/RESULTS.md, "Snapshot size: scoped vs. unscoped"): a mesh of N workloads in 10 namespaces,
 * each its own Service with one registered instance, first without a Sidecar (every snapshot lists every endpoint),
 * then with one root-namespace Sidecar {@code egress: [{hosts: ["./*"]}]} (each snapshot lists its namespace's). For
 * each it prints the JWS bytes of a sidecar's snapshot and what one registration costs: the sidecars it wakes and the
 * bytes of the snapshots issued to them. Bytes are exact; the milliseconds are those of this machine under its load.
 *
 * <p>N is 100, or the list in {@code -Doutrider.snapshotSize.sidecars=100,1000}.
 */
class SnapshotSizeTest {
    private static final Duration LONG = Duration.ofSeconds(60);
    private static final int NAMESPACES = 10;

    @TempDir
    Path dir;

    private record Round(int sidecars, boolean scoped, long meanBytes, long minBytes, long maxBytes, int woken,
                         long bytesIssued, long millis) {
        @Override
        public String toString() {
            return String.format("| %,d | %s | %,d (%,d-%,d) | %,d | %,d | %,d |", sidecars,
                    scoped ? "root Sidecar `./*`" : "none", meanBytes, minBytes, maxBytes, woken, bytesIssued, millis);
        }
    }

    @Test
    void aRootSidecarShrinksEverySnapshotAndWhatARegistrationCosts() throws Exception {
        String sizes = System.getProperty("outrider.snapshotSize.sidecars", "100");
        List<Round> rounds = new ArrayList<>();
        for (int sidecars : Arrays.stream(sizes.split(",")).mapToInt(s -> Integer.parseInt(s.strip())).toArray()) {
            rounds.addAll(measure(sidecars));
        }
        System.out.println("| sidecars | Sidecar | JWS bytes per sidecar snapshot, mean (min-max) | sidecars woken by"
                + " one registration | JWS bytes issued for it | ms from the registration to the last one issued |");
        System.out.println("|---|---|---|---|---|---|");
        rounds.forEach(System.out::println);
    }

    private List<Round> measure(int sidecars) throws Exception {
        MutableClock clock = new MutableClock();
        ECKey key = new ECKeyGenerator(Curve.P_256).keyID("cp-1").generate();
        try (FileStore store = FileStore.open(dir.resolve("n" + sidecars))) {
            ServiceRegistry registry = new ServiceRegistry(store, clock);
            List<WorkloadIdentity> workloads = new ArrayList<>();
            for (int i = 0; i < sidecars; i++) {
                WorkloadIdentity w = new WorkloadIdentity("cluster.local", "ns-" + i % NAMESPACES, "svc-" + i);
                workloads.add(w);
                Resources.service(store, w.namespace(), w.serviceAccount(), "{}");
                registry.register(w, w.serviceAccount(), w.serviceAccount() + "-1", address(i, 1));
            }
            try (SnapshotHub hub = new SnapshotHub(store, SnapshotSigner.of(key), registry, "cluster.local", clock)) {
                for (WorkloadIdentity w : workloads) {
                    hub.next(w, 0, Duration.ZERO); // the first refresh compiles them all
                }
                for (WorkloadIdentity w : workloads) {
                    get(hub.next(w, 0, LONG));
                }
                Round unscoped = round(hub, registry, workloads, false, 2, key);
                assertThat(unscoped.woken()).isEqualTo(sidecars);

                Resources.sidecar(store, "outrider-system", "default", "{egress: [{hosts: [\"./*\"]}]}");
                hub.storeChanged();
                hub.refreshAndWait();
                Round scoped = round(hub, registry, workloads, true, 3, key);
                assertThat(scoped.woken()).isEqualTo(sidecars / NAMESPACES);
                assertThat(scoped.meanBytes()).isLessThan(unscoped.meanBytes() / 5);
                assertThat(scoped.bytesIssued()).isLessThan(unscoped.bytesIssued() / 50);
                return List.of(unscoped, scoped);
            }
        }
    }

    /** Holds a request for every workload, registers one more instance of ns-0/svc-0, and counts what it issued. */
    private static Round round(SnapshotHub hub, ServiceRegistry registry, List<WorkloadIdentity> workloads,
                               boolean scoped, int instance, ECKey key) throws Exception {
        long total = 0;
        long min = Long.MAX_VALUE;
        long max = 0;
        List<CompletableFuture<Optional<IssuedSnapshot>>> held = new ArrayList<>();
        for (WorkloadIdentity w : workloads) {
            IssuedSnapshot current = hub.current(w).orElseThrow();
            int bytes = current.jws().length(); // base64url and dots: one byte per character
            total += bytes;
            min = Math.min(min, bytes);
            max = Math.max(max, bytes);
            held.add(hub.next(w, current.version(), LONG));
        }
        long started = System.nanoTime();
        registry.register(workloads.getFirst(), "svc-0", "svc-0-" + instance, address(0, instance));
        hub.refreshAndWait(); // after the refresh the registration queued
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        int woken = 0;
        long issued = 0;
        for (int i = 0; i < held.size(); i++) {
            CompletableFuture<Optional<IssuedSnapshot>> h = held.get(i);
            if (h.isDone()) {
                IssuedSnapshot snapshot = h.get().orElseThrow();
                new SnapshotVerifier(new JWKSet(key.toPublicJWK()), workloads.get(i).spiffeId()).verify(snapshot.jws());
                woken++;
                issued += snapshot.jws().length();
            } else {
                h.cancel(false);
            }
        }
        return new Round(workloads.size(), scoped, total / workloads.size(), min, max, woken, issued, millis);
    }

    private static String address(int workload, int instance) {
        return "10." + instance + "." + workload / 250 + "." + (workload % 250 + 1) + ":15006";
    }

    private static Optional<IssuedSnapshot> get(CompletableFuture<Optional<IssuedSnapshot>> future) throws Exception {
        return future.get(120, TimeUnit.SECONDS);
    }
}
