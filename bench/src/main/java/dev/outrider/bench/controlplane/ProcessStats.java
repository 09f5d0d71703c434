package dev.outrider.bench.controlplane;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * This JVM's footprint at one instant: resident set (and its peak) and threads from {@code /proc/self/status}
 * (Linux; -1 elsewhere), the JVM's own thread counts, heap in use, and CPU time consumed by the process so far.
 *
 * @param rssKib       {@code VmRSS}
 * @param peakRssKib   {@code VmHWM}
 * @param threads      {@code Threads}: every thread of the process, the JVM's own included
 * @param javaThreads  live Java threads
 * @param peakJavaThreads the most live Java threads so far
 * @param heapUsedBytes heap in use (garbage included)
 * @param cpuNanos     process CPU time (user + system), -1 when unknown
 * @param loadAverage  the machine's 1-minute load average ({@code /proc/loadavg}; -1 when unknown): on a shared
 *                     machine, how many others wanted the same cores
 */
record ProcessStats(long rssKib, long peakRssKib, long threads, int javaThreads, int peakJavaThreads,
                    long heapUsedBytes, long cpuNanos, double loadAverage) {

    static ProcessStats now() {
        long rss = -1;
        long hwm = -1;
        long threads = -1;
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/self/status"));
            for (String line : lines) {
                if (line.startsWith("VmRSS:")) {
                    rss = kib(line);
                } else if (line.startsWith("VmHWM:")) {
                    hwm = kib(line);
                } else if (line.startsWith("Threads:")) {
                    threads = Long.parseLong(line.substring("Threads:".length()).strip());
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: leave -1
        }
        var threadBean = ManagementFactory.getThreadMXBean();
        long cpu = -1;
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            cpu = os.getProcessCpuTime();
        }
        return new ProcessStats(rss, hwm, threads, threadBean.getThreadCount(), threadBean.getPeakThreadCount(),
                ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed(), cpu,
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    }

    /** {@code "VmRSS:   123456 kB"} → 123456. */
    private static long kib(String line) {
        String value = line.substring(line.indexOf(':') + 1).strip();
        return Long.parseLong(value.substring(0, value.indexOf(' ')));
    }
}
