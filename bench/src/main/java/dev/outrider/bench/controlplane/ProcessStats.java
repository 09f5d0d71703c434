package dev.outrider.bench.controlplane;

import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A process's footprint at one instant: resident set (and its peak) and threads from {@code /proc/PID/status}
 * (Linux; -1 elsewhere), CPU time consumed so far, and for this JVM ({@link #now()}) also its own thread counts and
 * heap in use.
 *
 * @param rssKib       {@code VmRSS}
 * @param peakRssKib   {@code VmHWM}: the largest resident set since the process started
 * @param threads      {@code Threads}: every thread of the process, the JVM's own included
 * @param javaThreads  live Java threads (this JVM only; -1 for another process)
 * @param peakJavaThreads the most live Java threads so far (this JVM only; -1 for another process)
 * @param heapUsedBytes heap in use, garbage included (this JVM only; -1 for another process)
 * @param cpuNanos     process CPU time (user + system), -1 when unknown
 * @param loadAverage  the machine's 1-minute load average ({@code /proc/loadavg}; -1 when unknown): on a shared
 *                     machine, how many others wanted the same cores
 * @param gcPauses     garbage collections that stopped this JVM so far (-1 for another process)
 * @param gcPauseMillis their total time, as the collectors report it (-1 for another process)
 */
record ProcessStats(long rssKib, long peakRssKib, long threads, int javaThreads, int peakJavaThreads,
                    long heapUsedBytes, long cpuNanos, double loadAverage, long gcPauses, long gcPauseMillis) {

    /** This JVM. */
    static ProcessStats now() {
        long[] status = status(Path.of("/proc/self/status"));
        var threadBean = ManagementFactory.getThreadMXBean();
        long cpu = -1;
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            cpu = os.getProcessCpuTime();
        }
        long gcs = 0;
        long gcMillis = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (!gc.getName().contains("Concurrent")) { // G1's concurrent cycles run beside the application
                gcs += Math.max(0, gc.getCollectionCount());
                gcMillis += Math.max(0, gc.getCollectionTime());
            }
        }
        return new ProcessStats(status[0], status[1], status[2], threadBean.getThreadCount(),
                threadBean.getPeakThreadCount(), ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed(),
                cpu, machineLoadAverage(), gcs, gcMillis);
    }

    /** Another process of this machine (a control-plane replica, an etcd member); -1 for what cannot be read. */
    static ProcessStats of(ProcessHandle process) {
        long[] status = status(Path.of("/proc", Long.toString(process.pid()), "status"));
        long cpu = process.info().totalCpuDuration().map(Duration::toNanos).orElse(-1L);
        return new ProcessStats(status[0], status[1], status[2], -1, -1, -1, cpu, machineLoadAverage(), -1, -1);
    }

    /** {@code VmRSS}, {@code VmHWM} (KiB) and {@code Threads}; -1 each when not readable (not Linux, gone). */
    private static long[] status(Path file) {
        long[] values = {-1, -1, -1};
        try {
            List<String> lines = Files.readAllLines(file);
            for (String line : lines) {
                if (line.startsWith("VmRSS:")) {
                    values[0] = kib(line);
                } else if (line.startsWith("VmHWM:")) {
                    values[1] = kib(line);
                } else if (line.startsWith("Threads:")) {
                    values[2] = Long.parseLong(line.substring("Threads:".length()).strip());
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or the process is gone: leave -1
        }
        return values;
    }

    private static double machineLoadAverage() {
        return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }

    /** {@code "VmRSS:   123456 kB"} → 123456. */
    private static long kib(String line) {
        String value = line.substring(line.indexOf(':') + 1).strip();
        return Long.parseLong(value.substring(0, value.indexOf(' ')));
    }
}
