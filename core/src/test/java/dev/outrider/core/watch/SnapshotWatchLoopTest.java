package dev.outrider.core.watch;

import dev.outrider.core.client.ControlPlaneException;
import dev.outrider.core.client.SnapshotPoll;
import dev.outrider.core.snapshot.SignedSnapshot;
import dev.outrider.core.snapshot.SnapshotResult;
import dev.outrider.core.watch.WatchState.Source;
import dev.outrider.core.snapshot.LastKnownGood;
import dev.outrider.core.snapshot.WorkloadSnapshot;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The watch loop's decisions with scripted answers to its calls (no network): what is polled after what, what is
 * applied, reported and kept, and that registration problems do not stop the watch.
 */
class SnapshotWatchLoopTest {
    private final TestSnapshots snapshots = new TestSnapshots();
    private final List<WorkloadSnapshot> applied = new CopyOnWriteArrayList<>();
    private final ScriptedCalls calls = new ScriptedCalls();

    @TempDir
    Path dir;
    private LastKnownGood cache;
    private SnapshotWatcher watcher;

    /** One poll: what it asked for, the ACK it carried (-1: none), and its answer to complete. */
    record Poll(long after, long ack, CompletableFuture<Optional<SignedSnapshot>> answer) {
    }

    record Report(String version, SnapshotResult result, String error) {
    }

    static final class ScriptedCalls implements WatchCalls {
        final BlockingQueue<Poll> polls = new LinkedBlockingQueue<>();
        final List<Report> reports = new CopyOnWriteArrayList<>();
        final List<String> deregistered = new CopyOnWriteArrayList<>();
        final AtomicInteger registrations = new AtomicInteger();
        volatile Supplier<Duration> registration = () -> Duration.ofSeconds(60);
        volatile RuntimeException reportFailure;
        /** What the answers say (when completed): the control plane records the ACK a poll carries. */
        volatile boolean acksOnPoll;

        @Override
        public CompletableFuture<SnapshotPoll> pollSnapshot(String namespace, String serviceAccount, long after,
                                                            Duration wait, String instance, long ackVersion) {
            assertThat(instance).isEqualTo("orders-1");
            CompletableFuture<Optional<SignedSnapshot>> answer = new CompletableFuture<>();
            CompletableFuture<SnapshotPoll> poll = answer.thenApply(s -> new SnapshotPoll(s, acksOnPoll));
            poll.whenComplete((r, e) -> {
                if (poll.isCancelled()) {
                    answer.cancel(true);
                }
            });
            polls.add(new Poll(after, ackVersion, answer));
            return poll;
        }

        @Override
        public Duration register(String service, String instance, String address) {
            registrations.incrementAndGet();
            return registration.get();
        }

        @Override
        public void deregister(String instance) {
            deregistered.add(instance);
        }

        @Override
        public void reportStatus(String instance, String version, SnapshotResult result, String error) {
            if (reportFailure != null) {
                throw reportFailure;
            }
            reports.add(new Report(version, result, error));
        }

        @Override
        public Duration requestTimeout() {
            return Duration.ofSeconds(2);
        }

        Poll nextPoll() throws InterruptedException {
            Poll poll = polls.poll(10, TimeUnit.SECONDS);
            assertThat(poll).as("a poll").isNotNull();
            return poll;
        }
    }

    @BeforeEach
    void setUp() {
        cache = snapshots.cache(dir.resolve("snapshot.jws"));
    }

    @AfterEach
    void tearDown() {
        if (watcher != null) {
            watcher.close();
        }
    }

    private void start(String service) {
        watcher = SnapshotWatcher.start(calls, snapshots.verifier, cache, s -> applied.add(s.snapshot()),
                WatchOptions.of(TestSnapshots.ORDERS, service, "orders-1", service == null ? null : "10.0.0.5:15006"),
                Clock.systemUTC());
    }

    private static final ControlPlaneException UNREACHABLE = ControlPlaneException.unreachable("GET /v1/snapshots",
            URI.create("https://127.0.0.1:15010"), new java.net.ConnectException("Connection refused"));

    private String tampered(long version) {
        String jws = snapshots.signed(version).jws();
        return jws.substring(0, jws.length() - 4) + (jws.endsWith("AAAA") ? "BBBB" : "AAAA");
    }

    @Test
    void aSnapshotIsAppliedKeptAckedAndThenPolledAfter() throws Exception {
        start(null);

        Poll first = calls.nextPoll();
        assertThat(first.after()).isZero();
        first.answer().complete(Optional.of(snapshots.signed(5)));

        Poll second = calls.nextPoll();
        assertThat(second.after()).isEqualTo(5);
        assertThat(applied).containsExactly(TestSnapshots.snapshot(5));
        assertThat(calls.reports).containsExactly(new Report("5", SnapshotResult.ACK, null));
        assertThat(cache.load()).contains(TestSnapshots.snapshot(5));
        WatchState state = watcher.state();
        assertThat(state.appliedVersion()).isEqualTo(5);
        assertThat(state.source()).isEqualTo(Source.CONTROL_PLANE);
        assertThat(state.lastError()).isNull();
        assertThat(state.lastContact()).isNotNull();
    }

    @Test
    void theAckRidesOnTheNextPollWhenTheControlPlaneRecordsItThere() throws Exception {
        calls.acksOnPoll = true;
        start(null);

        Poll first = calls.nextPoll();
        assertThat(first.ack()).as("nothing applied yet").isEqualTo(-1);
        first.answer().complete(Optional.of(snapshots.signed(5)));

        Poll second = calls.nextPoll();
        assertThat(second.after()).isEqualTo(5);
        assertThat(second.ack()).isEqualTo(5);
        assertThat(calls.reports).as("no separate report").isEmpty();
        second.answer().complete(Optional.empty());
        assertThat(calls.nextPoll().ack()).as("every poll repeats the version in force").isEqualTo(5);
        assertThat(calls.reports).isEmpty();
    }

    @Test
    void aNackIsPostedAndTheAckInForceStillRidesOnThePolls() throws Exception {
        calls.acksOnPoll = true;
        start(null);
        calls.nextPoll().answer().complete(Optional.of(snapshots.signed(5)));
        calls.nextPoll().answer().complete(Optional.of(new SignedSnapshot(6, tampered(6))));

        Poll afterRefusal = calls.nextPoll();
        assertThat(afterRefusal.after()).isEqualTo(6);
        assertThat(afterRefusal.ack()).as("5 stays in force").isEqualTo(5);
        assertThat(calls.reports).singleElement().satisfies(r -> {
            assertThat(r.version()).isEqualTo("6");
            assertThat(r.result()).isEqualTo(SnapshotResult.NACK);
            assertThat(r.error()).contains("BAD_SIGNATURE");
        });
    }

    @Test
    void anAckLeftToThePollsIsPostedWhenAnAnswerSaysTheyAreNotRecorded() throws Exception {
        calls.acksOnPoll = true;
        start(null);
        calls.nextPoll().answer().complete(Optional.of(snapshots.signed(5)));
        Poll second = calls.nextPoll();
        assertThat(calls.reports).isEmpty();

        assertThat(second.ack()).isEqualTo(5);

        calls.acksOnPoll = false; // that poll went to a control plane that ignores the ACK on it
        second.answer().complete(Optional.empty());
        assertThat(calls.nextPoll().ack()).isEqualTo(5);
        assertThat(calls.reports).containsExactly(new Report("5", SnapshotResult.ACK, null));
    }

    @Test
    void theCachedSnapshotsAckRidesOnThePollAfterTheControlPlaneFirstAnswered() throws Exception {
        calls.acksOnPoll = true;
        cache.store(snapshots.signed(7).jws(), 7);
        start(null);

        Poll first = calls.nextPoll();
        assertThat(first.ack()).as("not before the control plane answered").isEqualTo(-1);
        first.answer().complete(Optional.empty());
        assertThat(calls.nextPoll().ack()).isEqualTo(7);
        assertThat(calls.reports).isEmpty();
    }

    @Test
    void aRefusedSnapshotIsNackedKeptOutAndNotFetchedAgain() throws Exception {
        start(null);
        calls.nextPoll().answer().complete(Optional.of(snapshots.signed(5)));

        calls.nextPoll().answer().complete(Optional.of(new SignedSnapshot(6, tampered(6))));

        Poll afterRefusal = calls.nextPoll();
        assertThat(afterRefusal.after()).isEqualTo(6); // not 5: the bad snapshot would come back at once
        assertThat(calls.reports).last().satisfies(r -> {
            assertThat(r.version()).isEqualTo("6");
            assertThat(r.result()).isEqualTo(SnapshotResult.NACK);
            assertThat(r.error()).contains("BAD_SIGNATURE");
        });
        assertThat(applied).containsExactly(TestSnapshots.snapshot(5));
        assertThat(watcher.state().appliedVersion()).isEqualTo(5);
        assertThat(watcher.state().lastError()).contains("snapshot refused");
        assertThat(cache.load()).contains(TestSnapshots.snapshot(5));

        // A good newer one is applied, and the error clears.
        afterRefusal.answer().complete(Optional.of(snapshots.signed(7)));
        assertThat(calls.nextPoll().after()).isEqualTo(7);
        assertThat(watcher.state().appliedVersion()).isEqualTo(7);
        assertThat(watcher.state().lastError()).isNull();
        assertThat(calls.reports).last().isEqualTo(new Report("7", SnapshotResult.ACK, null));
    }

    @Test
    void theCachedSnapshotIsAckedOnceWhenTheControlPlaneHasNothingNewer() throws Exception {
        cache.store(snapshots.signed(7).jws(), 7);
        start(null);
        assertThat(watcher.state().source()).isEqualTo(Source.CACHE);

        Poll first = calls.nextPoll();
        assertThat(first.after()).isEqualTo(7);
        first.answer().complete(Optional.empty());
        Poll second = calls.nextPoll();
        second.answer().complete(Optional.empty());
        calls.nextPoll();

        assertThat(calls.reports).containsExactly(new Report("7", SnapshotResult.ACK, null));
        assertThat(watcher.state().source()).isEqualTo(Source.CACHE);
        assertThat(watcher.state().lastContact()).isNotNull();
    }

    @Test
    void networkFailuresAreReportedAndPollingGoesOn() throws Exception {
        cache.store(snapshots.signed(3).jws(), 3);
        start(null);

        calls.nextPoll().answer().completeExceptionally(UNREACHABLE);

        Poll retry = calls.nextPoll(); // after a backoff of at most 250 ms
        assertThat(retry.after()).isEqualTo(3);
        assertThat(watcher.state().lastError()).contains("unreachable");
        assertThat(watcher.state().appliedVersion()).isEqualTo(3);
        retry.answer().complete(Optional.empty());
        calls.nextPoll();
        assertThat(watcher.state().lastError()).isNull();
    }

    @Test
    void aReportThatFailsIsSentWithTheNextAnswer() throws Exception {
        start(null);
        calls.reportFailure = UNREACHABLE;
        calls.nextPoll().answer().complete(Optional.of(snapshots.signed(5)));
        Poll next = calls.nextPoll();
        assertThat(calls.reports).isEmpty();

        calls.reportFailure = null;
        next.answer().complete(Optional.empty());
        calls.nextPoll();

        assertThat(calls.reports).containsExactly(new Report("5", SnapshotResult.ACK, null));
    }

    @Test
    void aReportThatFailsIsRetriedWithoutWaitingForTheNextAnswer() throws Exception {
        start(null);
        calls.reportFailure = UNREACHABLE;
        calls.nextPoll().answer().complete(Optional.of(snapshots.signed(5)));
        Poll held = calls.nextPoll(); // held by the control plane: no answer comes to carry the report
        assertThat(calls.reports).isEmpty();

        calls.reportFailure = null;
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(calls.reports).containsExactly(new Report("5", SnapshotResult.ACK, null)));
        assertThat(held.answer()).isNotDone();
    }

    @Test
    void registrationIsRefreshedAndAFailedOneDoesNotStopTheWatch() throws Exception {
        calls.registration = () -> Duration.ofSeconds(3); // refreshed every second
        start("orders");
        await().atMost(Duration.ofSeconds(10)).until(() -> calls.registrations.get() >= 2);

        calls.registration = () -> {
            throw ControlPlaneException.server("POST /v1/registrations", 404, "NotFound", "service shop/orders not found", null);
        };
        int before = calls.registrations.get();
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(watcher.state().lastError()).contains("registration of orders").contains("404 NotFound"));
        await().atMost(Duration.ofSeconds(10)).until(() -> calls.registrations.get() >= before + 2); // retried

        calls.nextPoll().answer().complete(Optional.of(snapshots.signed(4)));
        calls.nextPoll();
        assertThat(watcher.state().appliedVersion()).isEqualTo(4);
    }

    @Test
    void closeDeregistersARegisteredInstance() throws Exception {
        start("orders");
        await().atMost(Duration.ofSeconds(10)).until(() -> calls.registrations.get() >= 1);
        Poll inFlight = calls.nextPoll();

        watcher.close();

        assertThat(calls.deregistered).containsExactly("orders-1");
        assertThat(inFlight.answer()).isCancelled();
    }

    @Test
    void closeWithoutRegistrationDeregistersNothing() throws Exception {
        start(null);
        calls.nextPoll();

        watcher.close();

        assertThat(calls.deregistered).isEmpty();
        assertThat(calls.registrations).hasValue(0);
    }
}
