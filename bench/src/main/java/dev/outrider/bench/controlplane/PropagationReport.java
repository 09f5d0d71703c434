package dev.outrider.bench.controlplane;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What {@link PropagationBenchmark} prints: the measured rounds' latency distributions as one markdown table, the
 * goal (p99 write → ACK under 1 s), the process's footprint, and any failure. Filled and printed by the
 * benchmark's thread only.
 */
final class PropagationReport {
    static final double GOAL_MILLIS = 1000;

    private final int sidecars;
    private final int writes;
    private final int warmupWrites;
    private final int pauseMillis;
    private final String policyNamespace;
    private final int ackPollMillis;
    private final double bootstrapSeconds;
    private final double settledSeconds;
    private final LatencyDistribution apply = new LatencyDistribution(
            "per sidecar: write → applied (sidecar's clock)");
    private final LatencyDistribution ack = new LatencyDistribution(
            "per sidecar: write → ACK recorded by the control plane");
    private final LatencyDistribution applyToAck = new LatencyDistribution(
            "per sidecar: applied → ACK recorded (last-known-good fsync + POST)");
    private final LatencyDistribution put = new LatencyDistribution(
            "per write: PUT answered (durable)");
    private final LatencyDistribution firstApplied = new LatencyDistribution(
            "per write: first sidecar applied");
    private final LatencyDistribution allApplied = new LatencyDistribution(
            "per write: all N applied");
    private final LatencyDistribution allAcked = new LatencyDistribution(
            "per write: all N ACKs recorded");
    private final LatencyDistribution allAckedSeen = new LatencyDistribution(
            "per write: all N ACKs seen in GET /v1/sidecars");
    private final List<String> failures = new ArrayList<>();
    private String setup = "";
    private int versionSkew;
    private int versionNotNext;
    private ProcessStats before;
    private ProcessStats after;
    private long measuredNanos;

    PropagationReport(int sidecars, int writes, int warmupWrites, int pauseMillis, String policyNamespace,
                      int ackPollMillis, double bootstrapSeconds, double settledSeconds) {
        this.sidecars = sidecars;
        this.writes = writes;
        this.warmupWrites = warmupWrites;
        this.pauseMillis = pauseMillis;
        this.policyNamespace = policyNamespace;
        this.ackPollMillis = ackPollMillis;
        this.bootstrapSeconds = bootstrapSeconds;
        this.settledSeconds = settledSeconds;
    }

    void describeSetup(int ioThreads, int workerThreads, String tls) {
        setup = "control plane in-process: " + ioThreads + " event loops, " + workerThreads + " workers, TLS " + tls;
    }

    void add(PropagationRound.Result r) {
        for (long nanos : r.applyNanos()) {
            apply.recordNanos(nanos);
        }
        for (int i = 0; i < r.ackNanos().length; i++) {
            ack.recordNanos(r.ackNanos()[i]);
            applyToAck.recordNanos(r.ackNanos()[i] - r.applyNanos()[i]);
        }
        put.recordNanos(r.putNanos());
        firstApplied.recordNanos(r.firstAppliedNanos());
        allApplied.recordNanos(r.allAppliedNanos());
        allAcked.recordNanos(r.allAckedNanos());
        allAckedSeen.recordNanos(r.allAckedSeenNanos());
        if (r.minVersion() != r.maxVersion()) {
            versionSkew++;
        }
        if (r.minVersion() != r.resourceVersion() + 1) {
            versionNotNext++;
        }
    }

    void fail(String reason) {
        failures.add(reason);
    }

    void processStats(ProcessStats before, ProcessStats after, long measuredNanos) {
        this.before = before;
        this.after = after;
        this.measuredNanos = measuredNanos;
    }

    void print(PrintStream out) {
        Runtime.Version v = Runtime.version();
        out.println();
        out.printf(Locale.ROOT, "## Control plane: write → apply/ACK, %d sidecars, %d measured writes"
                + " (+%d warm-up)%n%n", sidecars, writes, warmupWrites);
        out.printf(Locale.ROOT, "- JDK %s (%s), %d CPUs; %s%n", v, System.getProperty("java.vendor.version", "?"),
                Runtime.getRuntime().availableProcessors(), setup);
        out.printf(Locale.ROOT, "- policy written to namespace %s, %d ms pause between writes; ACKs polled every %d ms"
                + " once all applied%n", policyNamespace, pauseMillis, ackPollMillis);
        out.printf(Locale.ROOT, "- start-up: %d certificates (join token + CSR) in %.1f s; all registered, with every"
                + " endpoint, ACKed after %.1f s%n%n", sidecars, bootstrapSeconds, settledSeconds);
        out.println(LatencyDistribution.HEADER);
        for (LatencyDistribution d : List.of(apply, ack, applyToAck, put, firstApplied, allApplied, allAcked,
                allAckedSeen)) {
            out.println(d.row());
        }
        out.println();
        if (!failures.isEmpty()) {
            out.printf(Locale.ROOT, "- goal p99 write → ACK < %.0f ms: NOT MET, a write did not reach every sidecar"
                    + " (below); the table holds the writes before it%n", GOAL_MILLIS);
        } else if (ack.count() > 0) {
            double p99 = ack.percentileMillis(99);
            double roundP99 = allAcked.percentileMillis(99);
            out.printf(Locale.ROOT, "- goal p99 write → ACK < %.0f ms: per sidecar p99 %.1f ms: %s; per write (all N"
                            + " ACKed) p99 %.1f ms: %s%n", GOAL_MILLIS, p99, p99 < GOAL_MILLIS ? "MET" : "NOT MET",
                    roundP99, roundP99 < GOAL_MILLIS ? "MET" : "NOT MET");
        }
        out.printf(Locale.ROOT, "- snapshot versions: writes where sidecars got different versions: %d; where the"
                + " version was not the write's resourceVersion + 1: %d%n", versionSkew, versionNotNext);
        if (before != null && after != null) {
            double seconds = measuredNanos / 1e9;
            double cpu = (after.cpuNanos() - before.cpuNanos()) / 1e9;
            out.printf(Locale.ROOT, "- this JVM (control plane + %d sidecars + admin client) over the warm-up and"
                            + " measured rounds: %.1f s wall, %.1f s CPU (%.2f cores on average); machine load"
                            + " average (1 min) %.1f before, %.1f after%n", sidecars, seconds, cpu, cpu / seconds,
                    before.loadAverage(), after.loadAverage());
            out.printf(Locale.ROOT, "- this JVM after the rounds: RSS %.1f MiB (peak %.1f MiB), heap used %.1f MiB,"
                            + " %d threads (%d Java threads, peak %d)%n", after.rssKib() / 1024.0,
                    after.peakRssKib() / 1024.0, after.heapUsedBytes() / (1024.0 * 1024), after.threads(),
                    after.javaThreads(), after.peakJavaThreads());
        }
        if (failures.isEmpty()) {
            out.println("- every write reached every sidecar; no NACK");
        } else {
            out.println("- FAILED:");
            for (String f : failures) {
                out.println("  " + f);
            }
        }
    }
}
