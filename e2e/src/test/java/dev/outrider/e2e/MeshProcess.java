package dev.outrider.e2e;

import dev.outrider.controlplane.testing.EtcdCluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A process of the mesh (control plane, sidecar, ctl) started from the test class path with the test JVM's own
 * java, its output in a log file. {@link #kill()} is kill -9; {@link #close()} is SIGTERM, then kill -9.
 */
class MeshProcess implements AutoCloseable {
    final Process process;
    final Path log;

    MeshProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    static MeshProcess start(Path log, String mainClass, List<String> args) throws IOException {
        return new MeshProcess(new ProcessBuilder(command(mainClass, args)).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start(), log);
    }

    static List<String> command(String mainClass, List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.add("-Dio.netty.leakDetection.level=paranoid");
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("-XX:+UseSerialGC");
        cmd.add("-XX:TieredStopAtLevel=1"); // start fast; these processes are tested for behaviour, not speed
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass);
        cmd.addAll(args);
        return cmd;
    }

    /**
     * A loopback port free now, below the kernel's ephemeral range ({@link EtcdCluster#freePort()}), so that a process
     * restarted on it after a kill finds it still free: no outgoing connection has taken it as its source port.
     */
    static int freePort() throws IOException {
        return EtcdCluster.freePort();
    }

    String logText() {
        try {
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            return "(log unreadable: " + e + ")";
        }
    }

    /** The last {@code lines} lines of the log, for failure messages (whole logs of many processes are too long). */
    String logTail(int lines) {
        String[] all = logText().split("\n", -1);
        return String.join("\n", java.util.Arrays.copyOfRange(all, Math.max(0, all.length - lines), all.length));
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** kill -9: no shutdown hook, no flush, nothing. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /** A buffer leak reported by Netty's detector in the process is a failed test, as in the test JVM. */
    void assertNoLeaks() {
        if (logText().contains("LEAK:")) {
            throw new AssertionError("a buffer leak was reported in " + log + ":\n" + logText());
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }
}
