package dev.outrider.proxy.policy;

import dev.outrider.core.policy.PolicyDocument;
import dev.outrider.core.policy.PolicyDocuments;
import dev.outrider.proxy.authn.JwksCache;
import dev.outrider.proxy.config.DefaultAction;
import dev.outrider.proxy.config.JwtConfig;
import dev.outrider.proxy.config.NodeConfig;
import dev.outrider.proxy.config.PolicyConfig;
import dev.outrider.proxy.config.EscapedSlashes;
import dev.outrider.proxy.config.PathParameters;
import dev.outrider.proxy.ratelimit.RateLimiter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Readers on several threads read {@link PolicyStore#current()} continuously while one writer applies many
 * snapshots. Every snapshot is built so that its parts can be checked against its version: version
 * {@code v<i>} has {@code i} documents, source {@code src <i>}, and the {@code i % 8 + 1} policies (one rule
 * each) of the base snapshot for that count. A reader must only ever see whole snapshots, in the order they
 * were applied, and the last one applied is current at the end.
 */
class PolicyStoreConcurrencyTest {
    private static final int VARIANTS = 8;
    private static final int SNAPSHOTS = 200_000;
    private static final int READERS = Math.max(3, Math.min(8, Runtime.getRuntime().availableProcessors()));
    /** The writer pauses this many times until the readers have read the snapshot in force. */
    private static final int CHECKPOINTS = 20;

    private static final NodeConfig NODE = new NodeConfig("orders", "shop", "orders", "cluster.local",
            Map.of("app", "orders"));

    /** {@code count} ALLOW policies shop/p0.. with one rule each. */
    private static List<PolicyDocument> documents(int count) {
        StringBuilder yaml = new StringBuilder();
        for (int p = 0; p < count; p++) {
            yaml.append("""
                    apiVersion: outrider.dev/v1
                    kind: AuthorizationPolicy
                    metadata: {name: p%d, namespace: shop}
                    spec:
                      action: ALLOW
                      rules: [{to: [{operation: {paths: ["/p%d/*"]}}]}]
                    ---
                    """.formatted(p, p));
        }
        return PolicyDocuments.parse(yaml.toString(), "generated.yaml");
    }

    private static List<String> ids(int count) {
        List<String> ids = new ArrayList<>();
        for (int p = 0; p < count; p++) {
            ids.add("shop/p" + p);
        }
        return ids;
    }

    private static PolicySnapshot snapshot(PolicySnapshot[] bases, int i) {
        PolicySnapshot base = bases[i % VARIANTS];
        return new PolicySnapshot("v" + i, "src " + i, base.appliedAt(), i, base.policies(), base.authentication(),
                base.authorization(), base.meters(), base.rateLimits(), base.mtls(), null);
    }

    /** Null when {@code s} is whole, otherwise what is wrong with it. */
    private static String inconsistency(PolicySnapshot[] bases, PolicySnapshot s, int i) {
        PolicySnapshot base = bases[i % VARIANTS];
        int k = i % VARIANTS + 1;
        if (s.documents() != i || !s.source().equals("src " + i)) {
            return s.version() + ": documents " + s.documents() + ", source " + s.source();
        }
        if (s.authorization() != base.authorization() || s.authorization().ruleCount() != k) {
            return s.version() + ": authorization of another version (" + s.authorization().ruleCount() + " rules)";
        }
        if (!s.policies().equals(ids(k)) || s.meters() != base.meters()) {
            return s.version() + ": policies " + s.policies();
        }
        return null;
    }

    @Test
    void readersSeeWholeSnapshotsInOrderWhileAWriterAppliesMany() throws Exception {
        PolicySnapshot[] bases = new PolicySnapshot[VARIANTS];
        try (JwksCache jwks = new JwksCache(JwksCache.Config.defaults())) {
            WorkloadPolicyCompiler compiler = new WorkloadPolicyCompiler(NODE,
                    new PolicyConfig(null, DefaultAction.DENY, "outrider-system", EscapedSlashes.REJECT, PathParameters.REJECT,
                            Duration.ofSeconds(2)),
                    new JwtConfig(List.of("ES256"), Duration.ofSeconds(60), 16 * 1024, 0, Duration.ofMinutes(5)),
                    jwks, new PolicyMetrics(new SimpleMeterRegistry()),
                    new RateLimiter(10_000, Duration.ZERO, System::nanoTime, new SimpleMeterRegistry()));
            for (int v = 0; v < VARIANTS; v++) {
                bases[v] = compiler.compile("base", "test", documents(v + 1));
                assertThat(bases[v].authorization().ruleCount()).isEqualTo(v + 1);
            }
        }

        PolicyStore store = new PolicyStore(snapshot(bases, 0));
        AtomicBoolean writing = new AtomicBoolean(true);
        Queue<String> problems = new ConcurrentLinkedQueue<>();
        AtomicLong reads = new AtomicLong();
        AtomicLong versionChangesSeen = new AtomicLong();
        LongAdder liveReads = new LongAdder();
        CyclicBarrier go = new CyclicBarrier(READERS + 1);
        List<Thread> readers = new ArrayList<>();
        for (int r = 0; r < READERS; r++) {
            Thread t = Thread.ofPlatform().name("policy-reader-" + r).start(() -> {
                long n = 0;
                long changes = 0;
                int last = -1;
                try {
                    go.await();
                    boolean more = true;
                    while (more) {
                        more = writing.get(); // one more pass after the writer stops
                        PolicySnapshot s = store.current();
                        int i = Integer.parseInt(s.version().substring(1));
                        String problem = inconsistency(bases, s, i);
                        if (problem != null) {
                            problems.add(problem);
                            return;
                        }
                        if (i < last) {
                            problems.add("went back from v" + last + " to v" + i);
                            return;
                        }
                        if (i != last) {
                            changes++;
                        }
                        last = i;
                        n++;
                        liveReads.increment();
                    }
                } catch (Exception e) {
                    problems.add(e.toString());
                } finally {
                    reads.addAndGet(n);
                    versionChangesSeen.addAndGet(changes);
                }
            });
            readers.add(t);
        }

        go.await(30, TimeUnit.SECONDS);
        PolicySnapshot last = null;
        for (int i = 1; i <= SNAPSHOTS; i++) {
            PolicySnapshot next = snapshot(bases, i);
            PolicySnapshot previous = store.apply(next);
            if (!previous.version().equals("v" + (i - 1))) {
                problems.add("apply returned " + previous.version() + " instead of v" + (i - 1));
            }
            last = next;
            if (i % (SNAPSHOTS / CHECKPOINTS) == 0) {
                awaitReads(liveReads, problems);
            }
        }
        writing.set(false);
        for (Thread t : readers) {
            t.join(TimeUnit.SECONDS.toMillis(30));
            assertThat(t.isAlive()).as(t.getName() + " finished").isFalse();
        }

        assertThat(problems).isEmpty();
        assertThat(store.current()).isSameAs(last);
        assertThat(store.current().version()).isEqualTo("v" + SNAPSHOTS);
        assertThat(reads.get()).as("reads done").isGreaterThanOrEqualTo(READERS);
        // each checkpoint's version was read by some reader while the writer waited
        assertThat(versionChangesSeen.get()).as("readers saw the snapshots change")
                .isGreaterThanOrEqualTo(CHECKPOINTS);
    }

    /** Makes the reads overlap the writes: waits (bounded) until the readers have read READERS more times. */
    private static void awaitReads(LongAdder liveReads, Queue<String> problems) throws InterruptedException {
        long target = liveReads.sum() + READERS;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (liveReads.sum() < target) {
            if (System.nanoTime() > deadline || !problems.isEmpty()) {
                problems.add("readers stopped reading");
                return;
            }
            Thread.sleep(1);
        }
    }
}
