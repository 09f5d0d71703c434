package dev.outrider.bench.controlplane;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

import static java.util.Objects.requireNonNull;

/**
 * Everything a run starts and makes, closed once in reverse order of adding: on the benchmark's own end all of it
 * (the sidecars deregister before the control plane stops), and from the shutdown hook this registers (Ctrl-C,
 * SIGTERM, a failure that ends the JVM) only what outlives the JVM: the processes it started (etcd members,
 * control-plane replicas; {@link #addProcesses}) and the directories it made ({@link #addDirectory}). The JVM's own
 * objects die with it, and closing them then (1,000 sidecars deregistering from replicas that are stopping too)
 * would only delay the rest. A JVM killed with SIGKILL or by {@code -XX:+ExitOnOutOfMemoryError} runs no hook:
 * its processes then end by their parent-death signal where {@code setpriv} is installed ({@link ChildProcess}),
 * the directories stay.
 *
 * <p>Thread-safe: adding and closing synchronize, so a Ctrl-C while the benchmark is adding or closing waits for
 * it and nothing is closed twice.
 */
final class Cleanup implements AutoCloseable {
    private record Entry(AutoCloseable resource, boolean outlivesJvm) {
    }

    /** How long a process gets to end after SIGTERM at the benchmark's end; from the shutdown hook, less. */
    static final Duration STOP_GRACE = Duration.ofSeconds(10);
    static final Duration HOOK_STOP_GRACE = Duration.ofSeconds(3);

    private final PrintStream log;
    private final Deque<Entry> resources = new ArrayDeque<>();
    /** Every process list added, also read by the hook without the lock (stopping is safe to repeat). */
    private final List<List<ChildProcess>> processGroups = new CopyOnWriteArrayList<>();
    private final Thread hook = new Thread(this::onShutdown, "propagation-cleanup");
    private boolean closed;

    Cleanup(PrintStream log) {
        this.log = requireNonNull(log, "log");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** An object of this JVM, closed at the benchmark's end only; at once when already closed. */
    <T extends AutoCloseable> T add(T resource) {
        return add(resource, false);
    }

    /**
     * Processes, stopped together ({@link ChildProcess#stopAll}) at the end, also from the shutdown hook: those in
     * {@code processes} then, so the caller adds each one as it starts it.
     */
    List<ChildProcess> addProcesses(List<ChildProcess> processes) {
        requireNonNull(processes, "processes");
        processGroups.add(processes);
        add(() -> ChildProcess.stopAll(processes, STOP_GRACE), true);
        return processes;
    }

    /** Deletes {@code dir} and everything in it at the end, also from the shutdown hook. */
    Path addDirectory(Path dir) {
        add(() -> deleteTree(dir), true);
        return dir;
    }

    private synchronized <T extends AutoCloseable> T add(T resource, boolean outlivesJvm) {
        requireNonNull(resource, "resource");
        if (closed) {
            closeQuietly(resource);
        } else {
            resources.push(new Entry(resource, outlivesJvm));
        }
        return resource;
    }

    @Override
    public void close() {
        close(false);
    }

    /**
     * The shutdown hook: stops the processes at once, without waiting for the benchmark's thread, which may be
     * closing the sidecars (they then find no control plane and give up quickly); then the rest.
     */
    private void onShutdown() {
        for (List<ChildProcess> group : processGroups.reversed()) {
            try {
                ChildProcess.stopAll(group, HOOK_STOP_GRACE);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        close(true);
    }

    /** @param fromHook only what outlives the JVM */
    private void close(boolean fromHook) {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            while (!resources.isEmpty()) {
                Entry e = resources.pop();
                if (!fromHook || e.outlivesJvm()) {
                    closeQuietly(e.resource());
                }
            }
        }
        if (!fromHook) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // the JVM is shutting down already: the hook finds everything closed
            }
        }
    }

    private void closeQuietly(AutoCloseable resource) {
        try {
            resource.close();
        } catch (Exception e) {
            log.println("cleanup: " + e);
        }
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
