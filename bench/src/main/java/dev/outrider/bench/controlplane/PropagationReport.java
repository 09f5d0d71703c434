package dev.outrider.bench.controlplane;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.LongSummaryStatistics;

/**
 * What {@link PropagationBenchmark} prints: the measured rounds' latency distributions as one markdown table, the
 * snapshot bytes delivered per write, the goals (p99 write → ACK under 1 s; with replicas, at most 256 MiB RSS
 * per replica), each process's footprint (this JVM, the replicas, the etcd members), and any failure. Filled and
 * printed by the benchmark's thread only.
 */
final class PropagationReport {
    static final double GOAL_MILLIS = 1000;
    static final double GOAL_REPLICA_RSS_MIB = 256;

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
            "per sidecar: applied → ACK recorded (last-known-good fsync + next poll)");
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
    private final LongSummaryStatistics bytesPerWrite = new LongSummaryStatistics();
    private final LongSummaryStatistics bytesPerSidecar = new LongSummaryStatistics();
    private long bytesNotCounted;
    private final List<String> setup = new ArrayList<>();
    private int versionSkew;
    private int versionNotNext;
    private List<Footprint> footprints = List.of();
    private long measuredNanos;

    /**
     * A process's footprint before and after the rounds.
     *
     * @param name    "this JVM (...)", "replica 0", "etcd m0"
     * @param replica true for a control-plane replica (the RSS goal is for those)
     */
    record Footprint(String name, long pid, boolean replica, ProcessStats before, ProcessStats after) {
    }

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

    /** One line of the setup (the control plane, the fleet, where the sidecars' files are). */
    void describeSetup(String line) {
        setup.add(line);
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
        long total = 0;
        for (long bytes : r.snapshotBytes()) {
            if (bytes < 0) {
                bytesNotCounted++;
            } else {
                bytesPerSidecar.accept(bytes);
                total += bytes;
            }
        }
        bytesPerWrite.accept(total);
    }

    void fail(String reason) {
        failures.add(reason);
    }

    void footprints(List<Footprint> footprints, long measuredNanos) {
        this.footprints = List.copyOf(footprints);
        this.measuredNanos = measuredNanos;
    }

    void print(PrintStream out) {
        Runtime.Version v = Runtime.version();
        out.println();
        out.printf(Locale.ROOT, "## Control plane: write → apply/ACK, %d sidecars, %d measured writes"
                + " (+%d warm-up)%n%n", sidecars, writes, warmupWrites);
        out.printf(Locale.ROOT, "- JDK %s (%s), %d CPUs%n", v, System.getProperty("java.vendor.version", "?"),
                Runtime.getRuntime().availableProcessors());
        for (String line : setup) {
            out.println("- " + line);
        }
        out.printf(Locale.ROOT, "- policy written to namespace %s, %d ms pause between writes; ACKs polled every %d ms"
                + " once all applied%n", policyNamespace, pauseMillis, ackPollMillis);
        out.printf(Locale.ROOT, "- start-up: certificates (join token + CSR) and sidecars started in %.1f s; all"
                + " registered, with every endpoint, ACKed after %.1f s%n%n", bootstrapSeconds, settledSeconds);
        out.println(LatencyDistribution.HEADER);
        for (LatencyDistribution d : List.of(apply, ack, applyToAck, put, firstApplied, allApplied, allAcked,
                allAckedSeen)) {
            out.println(d.row());
        }
        out.println();
        printBytes(out);
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
        printReplicaGoal(out);
        out.printf(Locale.ROOT, "- snapshot versions: writes where sidecars got different versions: %d; where the"
                + " version was not the write's resourceVersion + 1: %d%n", versionSkew, versionNotNext);
        printFootprints(out);
        if (failures.isEmpty()) {
            out.println("- every write reached every sidecar; no NACK");
        } else {
            out.println("- FAILED:");
            for (String f : failures) {
                out.println("  " + f);
            }
        }
    }

    private void printBytes(PrintStream out) {
        if (bytesPerWrite.getCount() == 0) {
            return;
        }
        out.println("| snapshot bytes delivered (JWS text) | n | min | mean | max |");
        out.println("|---|---:|---:|---:|---:|");
        out.printf(Locale.ROOT, "| per write: all N sidecars | %d | %s | %s | %s |%n", bytesPerWrite.getCount(),
                bytes(bytesPerWrite.getMin()), bytes(bytesPerWrite.getAverage()), bytes(bytesPerWrite.getMax()));
        if (bytesPerSidecar.getCount() > 0) {
            out.printf(Locale.ROOT, "| per write and sidecar | %d | %s | %s | %s |%n", bytesPerSidecar.getCount(),
                    bytes(bytesPerSidecar.getMin()), bytes(bytesPerSidecar.getAverage()),
                    bytes(bytesPerSidecar.getMax()));
        }
        out.println();
        if (bytesNotCounted > 0) {
            out.printf(Locale.ROOT, "- snapshot bytes: %d (sidecar, write) pairs not counted: the sidecar held a newer"
                    + " snapshot when its file was read%n", bytesNotCounted);
        }
    }

    private void printReplicaGoal(PrintStream out) {
        double peak = -1;
        String which = "";
        for (Footprint f : footprints) {
            if (f.replica() && f.after().peakRssKib() / 1024.0 > peak) {
                peak = f.after().peakRssKib() / 1024.0;
                which = f.name();
            }
        }
        if (peak >= 0) {
            out.printf(Locale.ROOT, "- goal RSS per replica <= %.0f MiB: highest peak (VmHWM, start-up included)"
                            + " %.1f MiB (%s): %s%n", GOAL_REPLICA_RSS_MIB, peak, which,
                    peak <= GOAL_REPLICA_RSS_MIB ? "MET" : "NOT MET");
        }
    }

    private void printFootprints(PrintStream out) {
        if (footprints.isEmpty()) {
            return;
        }
        double seconds = measuredNanos / 1e9;
        ProcessStats first = footprints.getFirst().before();
        ProcessStats last = footprints.getFirst().after();
        out.printf(Locale.ROOT, "- processes over the warm-up and measured rounds (%.1f s wall; machine load average"
                + " (1 min) %.1f before, %.1f after):%n%n", seconds, first.loadAverage(), last.loadAverage());
        out.println("| process | pid | RSS end (MiB) | RSS peak (MiB) | CPU in the rounds (s) | cores"
                + " | CPU since start (s) | threads |");
        out.println("|---|---:|---:|---:|---:|---:|---:|---:|");
        for (Footprint f : footprints) {
            double cpu = f.before().cpuNanos() < 0 || f.after().cpuNanos() < 0 ? Double.NaN
                    : (f.after().cpuNanos() - f.before().cpuNanos()) / 1e9;
            out.printf(Locale.ROOT, "| %s | %d | %.1f | %.1f | %.1f | %.2f | %.1f | %d |%n", f.name(), f.pid(),
                    f.after().rssKib() / 1024.0, f.after().peakRssKib() / 1024.0, cpu, cpu / seconds,
                    f.after().cpuNanos() / 1e9, f.after().threads());
        }
        out.println();
        ProcessStats self = footprints.getFirst().after();
        ProcessStats selfBefore = footprints.getFirst().before();
        out.printf(Locale.ROOT, "- this JVM: heap used %.1f MiB after the rounds, %d Java threads (peak %d); in the"
                        + " rounds %d garbage collections stopped it for %d ms in all%n",
                self.heapUsedBytes() / (1024.0 * 1024), self.javaThreads(), self.peakJavaThreads(),
                self.gcPauses() - selfBefore.gcPauses(), self.gcPauseMillis() - selfBefore.gcPauseMillis());
    }

    /** {@code 17.7 KB}, {@code 1.8 MB}: decimal units, as byte counts on the wire are usually given. */
    static String bytes(double bytes) {
        if (bytes >= 1e6) {
            return String.format(Locale.ROOT, "%.2f MB", bytes / 1e6);
        }
        return bytes >= 1e3 ? String.format(Locale.ROOT, "%.1f KB", bytes / 1e3)
                : String.format(Locale.ROOT, "%.0f B", bytes);
    }
}
