package dev.outrider.core.watch;

import dev.outrider.core.client.Backoff;
import dev.outrider.core.client.ControlPlaneClient;
import dev.outrider.core.client.ControlPlaneException;
import dev.outrider.core.client.SnapshotPoll;
import dev.outrider.core.snapshot.SignedSnapshot;
import dev.outrider.core.snapshot.SnapshotResult;
import dev.outrider.core.snapshot.VerifiedSnapshot;
import dev.outrider.core.watch.WatchState.Source;
import dev.outrider.core.snapshot.LastKnownGood;
import dev.outrider.core.snapshot.SnapshotException;
import dev.outrider.core.snapshot.SnapshotVerifier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;

import static java.util.Objects.requireNonNull;

/**
 * Keeps the sidecar's snapshot current and its registration alive.
 *
 * <pre>
 *  start() (caller's thread): last-known-good ─verify─▶ apply ─▶ state CACHE      (none or refused: state NONE)
 *  watch thread "outrider-snapshot-watch" (one daemon thread, or one of the caller's ThreadFactory; every field
 *  below is confined to it):
 *    register ──ok: again after ttl/3──────────────────────────────────┐ failed (404/403/...): backoff, lastError
 *    poll(after) ─▶ HttpClient holds it (no thread of ours) ─▶ result back on the watch thread
 *       304 ─▶ poll again                                   network/5xx/4xx ─▶ backoff with jitter, poll again
 *                                                           (connection refused: at most Backoff.REFUSED_MAX)
 *       200 ─▶ SnapshotIntake: verify(min = applied) ─▶ apply ─▶ store last-known-good ─▶ poll(after = v, ack = v)
 *                              └ refused or apply failed ─▶ NACK(error), previous snapshot stays ─▶ poll(after = v)
 *  close(): cancel the poll, deregister, stop the thread.
 * </pre>
 * An ACK rides on the next poll ({@code &instance=I&ack=V}, every poll repeats the version in force, as an xDS
 * request carries the version it accepted): one request per snapshot instead of two. With it goes the sidecar's
 * plaintext count when the options have one ({@code &plaintext=N}, read when the poll is sent). A control plane that does
 * not say it records them ({@link SnapshotPoll#acksOnPoll()}: an older one, during a rolling upgrade) gets the ACK
 * as {@code POST /v1/sidecars/status}, as a NACK always is (it carries its error).
 * After a NACK the next poll asks for versions after the refused one, so the same bad snapshot is not fetched in a
 * loop; the version in force may then be older than what is polled after. The cached snapshot is ACKed once the
 * control plane first answers without a newer one, so its status shows what the sidecar enforces.
 *
 * <p>{@link #state()} is safe from any thread (an immutable {@link WatchState} in a volatile field).
 */
public final class SnapshotWatcher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SnapshotWatcher.class);
    private static final Duration MIN_REFRESH = Duration.ofSeconds(1);

    private final WatchCalls client;
    private final LastKnownGood cache;
    private final SnapshotApplier applier;
    private final SnapshotIntake intake;
    private final WatchOptions options;
    private final Clock clock;
    private final ScheduledThreadPoolExecutor thread;
    private volatile WatchState state = WatchState.INITIAL;
    private volatile boolean closed;

    /*
     * Confined to the watch thread (after start() handed them over by submitting the first task, a happens-before
     * edge): no volatile needed.
     */
    private final Backoff pollBackoff;
    private final Backoff registrationBackoff;
    private final Backoff reportBackoff;
    /** Watch thread only: a retry of {@link #sendPendingReport} is scheduled. */
    private boolean reportRetryScheduled;
    private long appliedVersion = -1;
    private Source source = Source.NONE;
    /** Versions after this one are asked for: max(applied, last refused). */
    private long pollAfter;
    private String contactError;
    private String snapshotError;
    /** Why the last-known-good snapshot was refused; shown with any later error while no snapshot is in force. */
    private String cacheRefusal;
    private String registrationError;
    private java.time.Instant lastContact;
    private boolean registered;
    /** The cached snapshot's ACK, sent when the control plane first answers with nothing newer. */
    private boolean cachedAckPending;
    /** A report that could not be sent yet (only the latest matters). */
    private Report pendingReport;
    /** The last answer said the control plane records the ACK carried by a poll. */
    private boolean acksOnPoll;
    /** The ACK last left to the polls (-1: none): posted after all if an answer says they are not recorded. */
    private long ackLeftToPolls = -1;
    private CompletableFuture<?> inFlight;

    private record Report(String version, SnapshotResult result, String error) {
    }

    private SnapshotWatcher(WatchCalls client, SnapshotVerifier verifier, LastKnownGood cache,
                            SnapshotApplier applier, WatchOptions options, Clock clock, RandomGenerator jitter,
                            ThreadFactory watchThread) {
        this.client = client;
        this.cache = cache;
        this.applier = applier;
        this.intake = new SnapshotIntake(verifier, cache, applier);
        this.options = options;
        this.clock = clock;
        this.pollBackoff = new Backoff(Backoff.DEFAULT_INITIAL, Backoff.DEFAULT_MAX, jitter);
        this.registrationBackoff = new Backoff(Backoff.DEFAULT_INITIAL, Backoff.DEFAULT_MAX, jitter);
        this.reportBackoff = new Backoff(Backoff.DEFAULT_INITIAL, Backoff.DEFAULT_MAX, jitter);
        this.thread = new ScheduledThreadPoolExecutor(1, watchThread);
        this.thread.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    }

    /**
     * Applies the last-known-good snapshot (if any and valid) before returning, then watches on the watch thread.
     *
     * @throws IllegalArgumentException when the options' namespace and service account are not those of the
     *                                  verifier's workload
     */
    public static SnapshotWatcher start(ControlPlaneClient client, SnapshotVerifier verifier, LastKnownGood cache,
                                        SnapshotApplier applier, WatchOptions options) {
        return start(client, verifier, cache, applier, options, SnapshotWatcher::daemonThread);
    }

    /**
     * As above, with the watch thread made by {@code watchThread}: for a process that runs many watchers (the
     * propagation benchmark's simulated sidecars), e.g. virtual threads sharing the JVM's carrier threads. The work
     * is the same, on one thread at a time, and every field stays confined to it.
     */
    public static SnapshotWatcher start(ControlPlaneClient client, SnapshotVerifier verifier, LastKnownGood cache,
                                        SnapshotApplier applier, WatchOptions options, ThreadFactory watchThread) {
        return start(WatchCalls.of(requireNonNull(client, "client")), verifier, cache, applier, options,
                Clock.systemUTC(), RandomGenerator.getDefault(), watchThread);
    }

    static SnapshotWatcher start(WatchCalls client, SnapshotVerifier verifier, LastKnownGood cache,
                                 SnapshotApplier applier, WatchOptions options, Clock clock) {
        return start(client, verifier, cache, applier, options, clock, RandomGenerator.getDefault());
    }

    /** @param jitter where the back-off's random delays come from (used on the watch thread only) */
    static SnapshotWatcher start(WatchCalls client, SnapshotVerifier verifier, LastKnownGood cache,
                                 SnapshotApplier applier, WatchOptions options, Clock clock, RandomGenerator jitter) {
        return start(client, verifier, cache, applier, options, clock, jitter, SnapshotWatcher::daemonThread);
    }

    private static SnapshotWatcher start(WatchCalls client, SnapshotVerifier verifier, LastKnownGood cache,
                                         SnapshotApplier applier, WatchOptions options, Clock clock,
                                         RandomGenerator jitter, ThreadFactory watchThread) {
        requireNonNull(jitter, "jitter");
        requireNonNull(watchThread, "watchThread");
        requireNonNull(verifier, "verifier");
        requireNonNull(options, "options");
        if (!options.namespace().equals(verifier.workload().namespace())
                || !options.serviceAccount().equals(verifier.workload().serviceAccount())) {
            throw new IllegalArgumentException("watching " + options.namespace() + "/" + options.serviceAccount()
                    + " but snapshots are verified for " + verifier.workload());
        }
        SnapshotWatcher watcher = new SnapshotWatcher(requireNonNull(client, "client"), verifier,
                requireNonNull(cache, "cache"), requireNonNull(applier, "applier"), options, requireNonNull(clock, "clock"),
                jitter, watchThread);
        watcher.applyLastKnownGood();
        watcher.thread.execute(() -> {
            watcher.poll(); // first: it holds no thread, while a registration blocks this one until answered
            if (options.service() != null) {
                watcher.register();
            }
        });
        return watcher;
    }

    /** The sidecar's watch thread: one platform daemon thread, {@code outrider-snapshot-watch}. */
    private static Thread daemonThread(Runnable task) {
        Thread t = new Thread(task, "outrider-snapshot-watch");
        t.setDaemon(true);
        return t;
    }

    /** The current state; any thread. */
    public WatchState state() {
        return state;
    }

    /** On the caller's thread, before the watch thread starts. */
    private void applyLastKnownGood() {
        try {
            Optional<VerifiedSnapshot> cached = cache.loadVerified();
            if (cached.isPresent()) {
                applier.apply(cached.get());
                appliedVersion = cached.get().versionNumber();
                pollAfter = appliedVersion;
                source = Source.CACHE;
                cachedAckPending = true;
                log.info("last-known-good snapshot {} in force until the control plane answers", appliedVersion);
            }
        } catch (SnapshotException | UncheckedIOException e) {
            snapshotError = SnapshotIntake.shorten("last-known-good snapshot refused: " + e.getMessage());
            cacheRefusal = snapshotError;
        } catch (Exception e) {
            snapshotError = SnapshotIntake.shorten("last-known-good snapshot not applied: " + e.getMessage());
            log.warn("last-known-good snapshot not applied: {}", e.toString());
        }
        publish();
    }

    private void register() {
        if (closed) {
            return;
        }
        Duration next;
        try {
            Duration ttl = client.register(options.service(), options.instance(), options.advertisedAddress());
            if (!registered || registrationError != null) {
                log.info("registered {} of service {} at {} (expires in {}s unless refreshed)", options.instance(),
                        options.service(), options.advertisedAddress(), ttl.toSeconds());
            }
            registered = true;
            registrationError = null;
            registrationBackoff.reset();
            lastContact = clock.instant();
            next = max(ttl.dividedBy(3), MIN_REFRESH);
        } catch (RuntimeException e) {
            String error = SnapshotIntake.shorten("registration of " + options.service() + ": " + e.getMessage());
            if (!error.equals(registrationError)) {
                log.warn("{}", error);
            }
            registrationError = error;
            next = registrationBackoff.next(ControlPlaneException.refused(e));
        }
        publish();
        later(this::register, next);
    }

    private void poll() {
        if (closed) {
            return;
        }
        CompletableFuture<SnapshotPoll> answer;
        try {
            // the version in force once ACKed; not the cached one before the control plane first answered
            long ack = cachedAckPending ? -1 : appliedVersion;
            long plaintext = ack < 0 || options.plaintextConnections() == null ? -1
                    : options.plaintextConnections().getAsLong();
            answer = client.pollSnapshot(options.namespace(), options.serviceAccount(), pollAfter, options.pollWait(),
                    options.instance(), ack, plaintext);
        } catch (RuntimeException e) {
            Duration delay = pollFailed(e);
            publish();
            later(this::poll, delay);
            return;
        }
        inFlight = answer;
        try {
            answer.whenCompleteAsync(this::answered, thread);
        } catch (RejectedExecutionException e) {
            answer.cancel(true); // closing
        }
    }

    /** On the watch thread; whatever happens, publishes the state and schedules the next poll. */
    private void answered(SnapshotPoll answer, Throwable failure) {
        inFlight = null;
        if (closed) {
            return;
        }
        Duration delay;
        try {
            delay = failure != null
                    ? pollFailed(failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure)
                    : handle(answer);
        } catch (RuntimeException e) {
            log.error("snapshot watch: unexpected failure; polling again with backoff", e);
            contactError = SnapshotIntake.shorten("snapshot watch: " + e);
            delay = pollBackoff.next();
        }
        publish();
        later(this::poll, delay);
    }

    /** An answer (200 or 304); returns the delay before the next poll. */
    private Duration handle(SnapshotPoll poll) {
        lastContact = clock.instant();
        acksOnPoll = poll.acksOnPoll();
        if (!acksOnPoll && ackLeftToPolls >= 0) { // answered by a control plane that ignores them: posted now
            if (pendingReport == null && ackLeftToPolls == appliedVersion) {
                pendingReport = new Report(Long.toString(ackLeftToPolls), SnapshotResult.ACK, null);
            }
            ackLeftToPolls = -1;
        }
        Optional<SignedSnapshot> answer = poll.snapshot();
        if (contactError != null) {
            log.info("the control plane answers again");
        }
        contactError = null;
        pollBackoff.reset();
        Duration delay = Duration.ZERO;
        if (answer.isEmpty()) {
            if (cachedAckPending) {
                cachedAckPending = false;
                pendingReport = new Report(Long.toString(appliedVersion), SnapshotResult.ACK, null);
            }
        } else {
            SignedSnapshot fetched = answer.get();
            if (fetched.version() <= pollAfter) {
                delay = pollBackoff.next(); // not newer than asked for: do not spin on a server that repeats itself
            }
            take(fetched);
        }
        sendPendingReport();
        return delay;
    }

    private void take(SignedSnapshot fetched) {
        SnapshotIntake.Outcome outcome = intake.offer(fetched, appliedVersion);
        pollAfter = Math.max(pollAfter, fetched.version());
        if (outcome.result() == SnapshotResult.ACK) {
            appliedVersion = outcome.applied().versionNumber();
            pollAfter = Math.max(pollAfter, appliedVersion);
            source = Source.CONTROL_PLANE;
            cachedAckPending = false;
            snapshotError = outcome.error(); // null, or the last-known-good file could not be written
            log.info("snapshot {} applied", outcome.version());
            pendingReport = new Report(outcome.version(), SnapshotResult.ACK, null);
        } else {
            snapshotError = outcome.error();
            log.warn("snapshot {} not applied, {} stays in force: {}", outcome.version(),
                    appliedVersion < 0 ? "no snapshot" : "snapshot " + appliedVersion, outcome.error());
            pendingReport = new Report(outcome.version(), SnapshotResult.NACK, outcome.error());
        }
    }

    private void sendPendingReport() {
        Report report = pendingReport;
        if (report == null) {
            return;
        }
        if (acksOnPoll && report.result() == SnapshotResult.ACK && report.version().equals(Long.toString(appliedVersion))) {
            pendingReport = null; // the next poll, sent now, carries it
            ackLeftToPolls = appliedVersion;
            return;
        }
        try {
            client.reportStatus(options.instance(), report.version(), report.result(), report.error());
            if (pendingReport == report) {
                pendingReport = null;
            }
            reportBackoff.reset();
        } catch (RuntimeException e) {
            log.warn("status of snapshot {} not reported yet: {}", report.version(), e.getMessage());
            // Sent again with backoff (and with the next poll answer, whichever comes first), so the control
            // plane's view (GET /v1/sidecars) does not wait for a long poll to end.
            if (!reportRetryScheduled) {
                reportRetryScheduled = true;
                later(() -> {
                    reportRetryScheduled = false;
                    sendPendingReport();
                }, reportBackoff.next(ControlPlaneException.refused(e)));
            }
        }
    }

    /** No answer, or an error answer: remembered for the state; returns the backoff before the next poll. */
    private Duration pollFailed(Throwable failure) {
        String error = SnapshotIntake.shorten("snapshot poll: " + (failure instanceof ControlPlaneException
                ? failure.getMessage() : failure.toString()));
        Duration delay = pollBackoff.next(ControlPlaneException.refused(failure));
        if (!error.equals(contactError)) {
            log.warn("{}; trying again with backoff", error);
        }
        contactError = error;
        return delay;
    }

    private void later(Runnable task, Duration delay) {
        if (closed) {
            return;
        }
        try {
            thread.schedule(task, delay.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // closing
        }
    }

    private void publish() {
        String error = contactError != null ? contactError : snapshotError != null ? snapshotError : registrationError;
        if (source == Source.NONE && cacheRefusal != null && !cacheRefusal.equals(error)) {
            // Fail closed because the cache was refused (e.g. a rollback): /ready keeps saying so.
            error = SnapshotIntake.shorten(cacheRefusal + (error == null ? "" : "; " + error));
        }
        state = new WatchState(appliedVersion, source, error, lastContact);
    }

    private static Duration max(Duration a, Duration b) {
        return a.compareTo(b) >= 0 ? a : b;
    }

    /**
     * Stops watching: cancels the poll in flight and deregisters (waiting at most the client's request timeout).
     * The snapshot in force stays in force.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            thread.execute(() -> {
                if (inFlight != null) {
                    inFlight.cancel(true);
                }
                if (registered) {
                    try {
                        client.deregister(options.instance());
                        log.info("deregistered {}", options.instance());
                    } catch (RuntimeException e) {
                        log.warn("deregistration of {} failed (it expires by itself): {}", options.instance(),
                                e.getMessage());
                    }
                }
            });
        } catch (RejectedExecutionException e) {
            // already stopping
        }
        thread.shutdown();
        try {
            if (!thread.awaitTermination(client.requestTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS)) {
                thread.shutdownNow();
            }
        } catch (InterruptedException e) {
            thread.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
