package dev.outrider.bench.controlplane;

import com.fasterxml.jackson.databind.JsonNode;
import dev.outrider.core.client.ControlPlaneClient;
import dev.outrider.core.model.ResourceKind;
import dev.outrider.core.client.WrittenResource;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * One write and its propagation, measured:
 * <pre>
 *   t0 ─▶ PUT AuthorizationPolicy (admin API of replica (round - 1) mod R: writes go round-robin through the
 *         replicas; answered once durable) ─▶ every replica's snapshot hub recompiles and signs one snapshot per
 *         workload ─▶ held long polls answered ─▶ each sidecar: verify, parse (applied: t_apply), keep as
 *         last-known-good (fsync), its next long poll to its replica carries the ACK (recorded: lastSeen)
 *   apply: the benchmark thread waits on the round's latch (every sidecar counts it down once, in its applier)
 *   ACK:   then polls GET /v1/sidecars of every replica ({@link ReportedStatuses}: a sidecar reports to the
 *          replica it talks to, its first one unless it moved on) until every instance shows an appliedVersion
 *          at least the version that
 *          brought it this round; a sidecar's ACK time is its lastSeen at that poll (the control plane's clock
 *          when it recorded the report; a registration refresh in between could only make it later, and it is
 *          capped at the poll's own time)
 *   bytes: then the size of each sidecar's last-known-good file, the JWS text it received for this write
 * </pre>
 * Wall-clock instants (t0 and lastSeen; every process on this machine reads the same clock) give the ACK
 * latencies; {@link System#nanoTime()} the others.
 */
final class PropagationRound {
    private final List<ControlPlaneClient> admins;
    private final ReportedStatuses statuses;
    private final String policyNamespace;
    private final String workloadNamespace;
    private final List<SimulatedSidecar> sidecars;
    private final CountDownLatch[] roundApplied;
    private final Duration timeout;
    private final Duration ackPollInterval;

    /**
     * What one round measured; latencies in nanoseconds from t0; {@code snapshotBytes} per sidecar, -1 where the
     * snapshot in force was not this write's by the time it was read.
     */
    record Result(int round, int replica, long resourceVersion, long putNanos, long[] applyNanos, long[] ackNanos,
                  long firstAppliedNanos, long allAppliedNanos, long allAckedNanos, long allAckedSeenNanos,
                  long minVersion, long maxVersion, int nacked, int ackPolls, long[] snapshotBytes) {
    }

    /** A round that did not complete: what was missing, for the report. */
    static final class RoundFailed extends Exception {
        RoundFailed(String message) {
            super(message);
        }
    }

    /** @param admins an admin client per replica, in replica order */
    PropagationRound(List<ControlPlaneClient> admins, String policyNamespace, String workloadNamespace,
                     List<SimulatedSidecar> sidecars, CountDownLatch[] roundApplied, Duration timeout,
                     Duration ackPollInterval) {
        this.admins = List.copyOf(admins);
        this.statuses = new ReportedStatuses(admins);
        this.policyNamespace = requireNonNull(policyNamespace, "policyNamespace");
        this.workloadNamespace = requireNonNull(workloadNamespace, "workloadNamespace");
        this.sidecars = List.copyOf(sidecars);
        this.roundApplied = requireNonNull(roundApplied, "roundApplied");
        this.timeout = requireNonNull(timeout, "timeout");
        this.ackPollInterval = requireNonNull(ackPollInterval, "ackPollInterval");
    }

    /** The policy of {@code round}: allows GET /round/N/* from the workloads' namespace; the round is an annotation. */
    byte[] policy(int round) {
        return ("""
                apiVersion: outrider.dev/v1
                kind: AuthorizationPolicy
                metadata:
                  name: %s
                  namespace: %s
                  annotations: {"%s": "%d"}
                spec:
                  action: ALLOW
                  rules:
                    - from: [{source: {namespaces: ["%s"]}}]
                      to: [{operation: {methods: [GET], paths: ["/round/%d/*"]}}]
                """.formatted(SimulatedSidecar.POLICY_NAME, policyNamespace, SimulatedSidecar.ROUND_ANNOTATION, round,
                workloadNamespace, round)).getBytes(StandardCharsets.UTF_8);
    }

    Result run(int round) throws RoundFailed, InterruptedException {
        byte[] body = policy(round);
        int replica = (round - 1) % admins.size();
        long t0 = System.nanoTime();
        Instant t0Wall = Instant.now();
        WrittenResource written = admins.get(replica).putResource(ResourceKind.AUTHORIZATION_POLICY,
                policyNamespace, SimulatedSidecar.POLICY_NAME, body, "application/yaml");
        long putNanos = System.nanoTime() - t0;
        long deadline = t0 + timeout.toNanos();

        if (!roundApplied[round].await(deadline - System.nanoTime(), TimeUnit.NANOSECONDS)) {
            throw new RoundFailed("round " + round + ": " + roundApplied[round].getCount() + " of " + sidecars.size()
                    + " sidecars did not apply the write within " + timeout.toSeconds() + " s; " + stragglers(round));
        }
        int n = sidecars.size();
        long[] apply = new long[n];
        long minVersion = Long.MAX_VALUE;
        long maxVersion = Long.MIN_VALUE;
        for (int i = 0; i < n; i++) {
            SimulatedSidecar s = sidecars.get(i);
            apply[i] = s.appliedAtNanos(round) - t0;
            minVersion = Math.min(minVersion, s.versionOfRound(round));
            maxVersion = Math.max(maxVersion, s.versionOfRound(round));
        }

        long[] ack = new long[n];
        Arrays.fill(ack, -1);
        Map<String, SimulatedSidecar> pending = new HashMap<>();
        for (SimulatedSidecar s : sidecars) {
            pending.put(s.instance(), s);
        }
        Set<String> nacked = new HashSet<>();
        int polls = 0;
        long seenAll;
        while (true) {
            Map<String, JsonNode> list = statuses.all();
            long polled = System.nanoTime() - t0;
            polls++;
            for (Map.Entry<String, JsonNode> e : list.entrySet()) {
                JsonNode entry = e.getValue();
                if ("NACK".equals(entry.path("state").asText())) {
                    nacked.add(e.getKey());
                }
                SimulatedSidecar s = pending.get(e.getKey());
                if (s == null || entry.path("appliedVersion").asLong(-1) < s.versionOfRound(round)) {
                    continue;
                }
                ack[s.index()] = Math.min(polled, sinceWall(t0Wall, ReportedStatuses.lastSeen(entry)));
                pending.remove(s.instance());
            }
            if (pending.isEmpty()) {
                seenAll = polled;
                break;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new RoundFailed("round " + round + ": " + pending.size() + " of " + n + " sidecars applied the"
                        + " write but their ACK was not in GET /v1/sidecars within " + timeout.toSeconds() + " s: "
                        + describe(new ArrayList<>(pending.values()), round, list));
            }
            Thread.sleep(ackPollInterval.toMillis());
        }
        long[] bytes = new long[n];
        for (int i = 0; i < n; i++) {
            bytes[i] = sidecars.get(i).snapshotBytes(round);
        }
        long firstApplied = Arrays.stream(apply).min().orElse(0);
        long allApplied = Arrays.stream(apply).max().orElse(0);
        long allAcked = Arrays.stream(ack).max().orElse(0);
        return new Result(round, replica, Long.parseLong(written.resourceVersion()), putNanos, apply, ack,
                firstApplied, allApplied, allAcked, seenAll, minVersion, maxVersion, nacked.size(), polls, bytes);
    }

    /** Nanoseconds from {@code t0} to the control plane's {@code lastSeen} instant ({@link Instant#MAX}: none). */
    private static long sinceWall(Instant t0, Instant lastSeen) {
        return lastSeen.equals(Instant.MAX) ? Long.MAX_VALUE : Duration.between(t0, lastSeen).toNanos();
    }

    private String stragglers(int round) {
        List<SimulatedSidecar> late = new ArrayList<>();
        for (SimulatedSidecar s : sidecars) {
            if (s.lastRound() < round) {
                late.add(s);
            }
        }
        Map<String, JsonNode> list;
        try {
            list = statuses.all();
        } catch (RuntimeException e) {
            list = Map.of();
        }
        return describe(late, round, list);
    }

    /** Up to 10 sidecars: their watch state, applier error and what GET /v1/sidecars says of them. */
    private static String describe(List<SimulatedSidecar> late, int round, Map<String, JsonNode> byInstance) {
        StringBuilder sb = new StringBuilder();
        for (SimulatedSidecar s : late.subList(0, Math.min(10, late.size()))) {
            sb.append("\n  ").append(s.describe()).append("; round ").append(round).append(" came with version ")
                    .append(s.lastRound() >= round ? Long.toString(s.versionOfRound(round)) : "-")
                    .append("; control plane: ").append(byInstance.getOrDefault(s.instance(), null));
        }
        if (late.size() > 10) {
            sb.append("\n  ... and ").append(late.size() - 10).append(" more");
        }
        return sb.toString();
    }
}
