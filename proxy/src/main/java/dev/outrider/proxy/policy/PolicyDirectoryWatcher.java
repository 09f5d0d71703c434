package dev.outrider.proxy.policy;

import dev.outrider.core.policy.PolicyDocument;
import dev.outrider.core.policy.PolicyDocuments;
import dev.outrider.core.policy.PolicyException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static java.util.Objects.requireNonNull;

/**
 * Policies from a directory of YAML/JSON documents (a mounted ConfigMap, or files an operator edits),
 * checked every {@code interval} on one background thread and applied to the {@link PolicyStore} when
 * their content changes.
 *
 * <p>Change detection hashes the names and content of the policy files (SHA-256), so it works whatever way
 * the files change: in-place edits, renames, or the atomic {@code ..data} symlink swap Kubernetes uses for
 * ConfigMap volumes. The hash is the snapshot's version.
 *
 * <p>A change that does not parse or compile (bad YAML, unknown field, duplicate policy, an unusable JWKS)
 * is <b>refused</b>: the error is logged with the file and field, {@code outrider_policy_reloads_total
 * {result="refused"}} counts it, and the snapshot in force stays. At start-up ({@link #start}) the same
 * error stops the sidecar instead, so it never runs with policies other than the ones configured.
 */
public final class PolicyDirectoryWatcher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PolicyDirectoryWatcher.class);

    private final Path directory;
    private final WorkloadPolicyCompiler compiler;
    private final PolicyStore store;
    private final PolicyMetrics metrics;
    private final ScheduledExecutorService worker;
    /** Worker thread only (and the constructor before it starts): the hash of the content last seen. */
    private String lastSeen;

    private PolicyDirectoryWatcher(Path directory, WorkloadPolicyCompiler compiler, PolicyStore store,
                                   PolicyMetrics metrics, String lastSeen) {
        this.directory = directory;
        this.compiler = compiler;
        this.store = store;
        this.metrics = metrics;
        this.lastSeen = lastSeen;
        this.worker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "outrider-policies");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Loads and compiles the directory now, and watches it from then on.
     *
     * @return the watcher and, through {@link #store()}, the store holding the first snapshot
     * @throws PolicyLoadException when the directory cannot be read or its documents cannot be compiled
     */
    public static PolicyDirectoryWatcher start(Path directory, Duration interval, WorkloadPolicyCompiler compiler,
                                               PolicyMetrics metrics) {
        requireNonNull(directory, "directory");
        requireNonNull(interval, "interval");
        if (!Files.isDirectory(directory)) {
            throw new PolicyLoadException("policies.directory: " + directory + " is not a directory");
        }
        String hash = contentHash(directory);
        PolicySnapshot first = load(directory, hash, compiler);
        PolicyStore store = new PolicyStore(first);
        metrics.retain(first);
        metrics.reloadApplied();
        log.info("policies: version {} from {}: {} document(s), {} authorization and {} rate-limit rule(s) for"
                        + " this workload", first.version(), first.source(), first.documents(),
                first.authorization().ruleCount(), first.rateLimits().ruleCount());
        PolicyDirectoryWatcher w = new PolicyDirectoryWatcher(directory, compiler, store, metrics, hash);
        long millis = interval.toMillis();
        w.worker.scheduleWithFixedDelay(w::check, millis, millis, TimeUnit.MILLISECONDS);
        return w;
    }

    public PolicyStore store() {
        return store;
    }

    /** Worker thread: reload when the content changed; keep the snapshot in force on any failure. */
    void check() {
        String hash;
        try {
            hash = contentHash(directory);
        } catch (PolicyLoadException e) {
            if (!"unreadable".equals(lastSeen)) {
                log.error("policies: {}; keeping version {}", e.getMessage(), store.current().version());
                metrics.reloadRefused();
                lastSeen = "unreadable";
            }
            return;
        }
        if (hash.equals(lastSeen)) {
            return;
        }
        lastSeen = hash;
        try {
            PolicySnapshot next = load(directory, hash, compiler);
            PolicySnapshot previous = store.apply(next);
            metrics.retain(next);
            metrics.reloadApplied();
            log.info("policies: applied version {} (was {}): {} document(s), {} authorization and {} rate-limit"
                            + " rule(s) for this workload", next.version(), previous.version(), next.documents(),
                    next.authorization().ruleCount(), next.rateLimits().ruleCount());
        } catch (PolicyLoadException e) {
            metrics.reloadRefused();
            log.error("policies: refused the change in {}: {}; keeping version {}", directory, e.getMessage(),
                    store.current().version());
        } catch (RuntimeException e) {
            metrics.reloadRefused();
            log.error("policies: refused the change in {}; keeping version {}", directory,
                    store.current().version(), e);
        }
    }

    private static PolicySnapshot load(Path directory, String hash, WorkloadPolicyCompiler compiler) {
        List<PolicyDocument> documents;
        try {
            documents = PolicyDocuments.loadDirectory(directory);
        } catch (PolicyException e) {
            throw new PolicyLoadException(e.getMessage(), e);
        } catch (UncheckedIOException e) {
            throw new PolicyLoadException(e.getMessage() + ": " + e.getCause().getMessage(), e);
        }
        try {
            return compiler.compile(hash, "directory " + directory, documents);
        } catch (IllegalArgumentException e) {
            throw new PolicyLoadException(e.getMessage(), e);
        }
    }

    /** SHA-256 over the policy files' names and content, in name order; the first 12 hex digits. */
    static String contentHash(Path directory) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JDK", e);
        }
        try (Stream<Path> entries = Files.list(directory)) {
            for (Path file : entries.filter(PolicyDocuments::isPolicyFile).sorted().toList()) {
                sha.update(file.getFileName().toString().getBytes(StandardCharsets.UTF_8));
                sha.update((byte) 0);
                sha.update(Files.readAllBytes(file));
                sha.update((byte) 0);
            }
        } catch (IOException | UncheckedIOException e) {
            throw new PolicyLoadException("cannot read policy directory " + directory + ": " + e.getMessage(), e);
        }
        return HexFormat.of().formatHex(sha.digest(), 0, 6);
    }


    @Override
    public void close() {
        worker.shutdownNow();
    }

    /** The directory's documents cannot be read or compiled; the message names the file or policy and field. */
    public static final class PolicyLoadException extends RuntimeException {
        PolicyLoadException(String message) {
            super(message);
        }

        PolicyLoadException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
