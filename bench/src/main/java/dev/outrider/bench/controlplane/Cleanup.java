package dev.outrider.bench.controlplane;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.Deque;
import java.util.stream.Stream;

import static java.util.Objects.requireNonNull;

/**
 * What must not outlive the benchmark: the processes it started (etcd members, control-plane replicas) and the
 * directories it made. Closed once, in reverse order of {@link #add}, by whichever comes first: the benchmark's
 * own end, or the shutdown hook this registers (Ctrl-C, SIGTERM, a failure that ends the JVM). Objects of this
 * JVM (the simulated sidecars) are not here: the benchmark closes them first on its normal path, and they die
 * with the JVM otherwise. A JVM killed with SIGKILL runs no hook: the processes are then stopped by their parent-
 * death signal where {@code setpriv} is installed ({@link ChildProcesses}), the directories stay.
 *
 * <p>Thread-safe: {@link #add} and {@link #close} synchronize, so a Ctrl-C while the benchmark is still adding
 * or closing waits for it and never closes anything twice.
 */
final class Cleanup implements AutoCloseable {
    private final PrintStream log;
    private final Deque<AutoCloseable> resources = new ArrayDeque<>();
    private final Thread hook = new Thread(this::close, "propagation-cleanup");
    private boolean closed;

    Cleanup(PrintStream log) {
        this.log = requireNonNull(log, "log");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** Closes {@code resource} with the others; at once when already closed. */
    synchronized <T extends AutoCloseable> T add(T resource) {
        requireNonNull(resource, "resource");
        if (closed) {
            closeQuietly(resource);
        } else {
            resources.push(resource);
        }
        return resource;
    }

    /** Deletes {@code dir} and everything in it with the others. */
    Path addDirectory(Path dir) {
        add(() -> deleteTree(dir));
        return dir;
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            while (!resources.isEmpty()) {
                closeQuietly(resources.pop());
            }
        }
        if (Thread.currentThread() != hook) {
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
