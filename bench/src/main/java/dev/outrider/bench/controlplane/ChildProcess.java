package dev.outrider.bench.controlplane;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * One process the benchmark starts (an etcd member, a control-plane replica): its output in a log file, stopped
 * by {@link #stopAll} with SIGTERM, then SIGKILL after a grace period. Where util-linux's {@code setpriv} is
 * installed the process is started through {@code setpriv --pdeathsig KILL}, so it also ends when the benchmark's JVM is killed
 * without running its shutdown hooks (SIGKILL, {@code -XX:+ExitOnOutOfMemoryError}). The parent-death signal
 * follows the thread that started the process: start them from the benchmark's main thread, which lives to the end.
 *
 * @param name    what the benchmark calls it ("etcd m0", "replica 1")
 * @param process the running process (after {@code setpriv} has exec'd it: same pid)
 * @param log     its stdout and stderr
 */
record ChildProcess(String name, Process process, Path log) {
    private static final Path SETPRIV = Path.of("/usr/bin/setpriv");

    ChildProcess {
        requireNonNull(name, "name");
        requireNonNull(process, "process");
        requireNonNull(log, "log");
    }

    static ChildProcess start(String name, List<String> command, Path log, Map<String, String> environment)
            throws IOException {
        List<String> full = new ArrayList<>();
        if (Files.isExecutable(SETPRIV)) {
            full.addAll(List.of(SETPRIV.toString(), "--pdeathsig", "KILL", "--"));
        }
        full.addAll(command);
        ProcessBuilder builder = new ProcessBuilder(full)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        builder.environment().putAll(environment);
        return new ChildProcess(name, builder.start(), log);
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** The last {@code lines} lines of its log, for a failure message. */
    String logTail(int lines) {
        try {
            List<String> all = Files.readAllLines(log);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /**
     * SIGTERM to each, then SIGKILL to those not ended within {@code grace}; returns once all are gone. Safe to
     * call again, also from another thread.
     */
    static void stopAll(List<ChildProcess> processes, Duration grace) throws InterruptedException {
        List<ChildProcess> all = List.copyOf(processes);
        for (ChildProcess p : all) {
            if (p.process.isAlive()) {
                p.process.destroy();
            }
        }
        long deadline = System.nanoTime() + grace.toNanos();
        for (ChildProcess p : all) {
            if (!p.process.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                p.process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    /**
     * A loopback port free now, below the kernel's ephemeral range: a port probed free inside that range can be
     * taken as the source port of an outgoing connection (the members' own, the clients') before it is bound.
     */
    static int freePort() throws IOException {
        int ephemeralStart = 32768;
        try {
            // readAllLines: Files.readString trusts the size /proc reports (0) and reads a part only
            ephemeralStart = Integer.parseInt(Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range"))
                    .getFirst().strip().split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            // not Linux: keep the usual start
        }
        int low = Math.max(1024, Math.min(20_000, ephemeralStart / 2));
        for (int attempt = 0; attempt < 200 && ephemeralStart > low; attempt++) {
            int port = ThreadLocalRandom.current().nextInt(low, ephemeralStart);
            try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                return s.getLocalPort();
            } catch (IOException inUse) {
                // try another
            }
        }
        throw new IOException("no free loopback port below " + ephemeralStart + " after 200 attempts");
    }
}
