package dev.outrider.controlplane.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real {@code outrider control-plane} process (its main class, started from the test class path with the
 * test JVM's java), for what only a separate process shows: the start-up log line, signals, exit codes,
 * and kill -9.
 */
public final class ControlPlaneProcess implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("listening on https://(\\S+):(\\d+) ");

    private final Process process;
    private final Path log;
    private InetSocketAddress address;

    private ControlPlaneProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /** Starts the main class with {@code args}; does not wait. */
    public static ControlPlaneProcess launch(Path logFile, List<String> args) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        cmd.add("-Dio.netty.leakDetection.level=paranoid");
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("-Xmx96m");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("dev.outrider.controlplane.cli.ControlPlaneMain");
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(logFile.toFile()).start();
        return new ControlPlaneProcess(p, logFile);
    }

    /** Starts it and waits for the "listening on" line; fails with the log when it exits or takes over 30 s. */
    public static ControlPlaneProcess start(Path logFile, List<String> args) throws Exception {
        ControlPlaneProcess p = launch(logFile, args);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            Matcher m = LISTENING.matcher(p.logText());
            if (m.find()) {
                String host = m.group(1);
                p.address = new InetSocketAddress(host.startsWith("[") ? host.substring(1, host.length() - 1) : host,
                        Integer.parseInt(m.group(2)));
                return p;
            }
            if (!p.process.isAlive()) {
                throw new IllegalStateException("control plane exited with " + p.process.exitValue() + ":\n" + p.logText());
            }
            Thread.sleep(50);
        }
        p.close();
        throw new IllegalStateException("control plane not listening within 30 s:\n" + p.logText());
    }

    /** The address from the "listening on" line. */
    public InetSocketAddress address() {
        return address;
    }

    public String logText() {
        try {
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            return "(log unreadable: " + e + ")";
        }
    }

    /** Netty's leak detector reports in the log; a report is a failed test, as in the test JVM. */
    public void assertNoLeaks() {
        if (logText().contains("LEAK:")) {
            throw new AssertionError("the control-plane process reported a buffer leak:\n" + logText());
        }
    }

    /** SIGTERM. */
    public void terminate() {
        process.destroy();
    }

    /** SIGKILL: no shutdown code runs. Returns once the process is gone. */
    public void kill() {
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("control plane did not exit within " + timeout + ":\n" + logText());
        }
        return process.exitValue();
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            kill();
        }
    }
}
