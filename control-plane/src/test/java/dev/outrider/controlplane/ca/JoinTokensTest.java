package dev.outrider.controlplane.ca;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class JoinTokensTest {
    private static final WorkloadIdentity ORDERS = new WorkloadIdentity("cluster.local", "shop", "orders");
    private static final WorkloadIdentity FRONTEND = new WorkloadIdentity("cluster.local", "shop", "frontend");

    private final TestPki.MutableClock clock = new TestPki.MutableClock(Instant.parse("2026-03-01T10:00:00Z"));
    private final JoinTokens tokens = new JoinTokens(clock);

    @Test
    void issuedTokenAuthenticatesAsItsIdentityUntilItExpires() throws Exception {
        JoinTokens.Grant grant = tokens.issue(ORDERS, Duration.ofHours(1), false);
        String token = grant.token().value();

        assertThat(token).matches("[A-Za-z0-9_-]{43}"); // 256 bits, base64url, no padding
        assertThat(grant.identity()).isEqualTo(ORDERS);
        assertThat(grant.expiresAt()).isEqualTo(Instant.parse("2026-03-01T11:00:00Z"));
        assertThat(tokens.spend(token)).isEqualTo(ORDERS);
        assertThat(tokens.authenticate(grant.token())).isEqualTo(ORDERS);
        assertThat(tokens.spend(token)).as("not single use").isEqualTo(ORDERS);

        clock.advance(Duration.ofMinutes(59));
        assertThat(tokens.spend(token)).isEqualTo(ORDERS);
        clock.advance(Duration.ofMinutes(1));
        assertThatThrownBy(() -> tokens.spend(token))
                .isInstanceOfSatisfying(CaException.class, e -> {
                    assertThat(e.reason()).isEqualTo(CaException.Reason.UNAUTHENTICATED);
                    assertThat(e.getMessage()).isEqualTo("join token refused: expired at 2026-03-01T11:00:00Z");
                });
    }

    @Test
    void eachTokenIsBoundToItsOwnIdentity() throws Exception {
        String a = tokens.issue(ORDERS, Duration.ofHours(1), false).token().value();
        String b = tokens.issue(FRONTEND, Duration.ofHours(1), false).token().value();

        assertThat(a).isNotEqualTo(b);
        assertThat(tokens.spend(a)).isEqualTo(ORDERS);
        assertThat(tokens.spend(b)).isEqualTo(FRONTEND);
    }

    @Test
    void unknownTokenIsRefusedWithoutEchoingIt() {
        String issued = tokens.issue(ORDERS, Duration.ofHours(1), false).token().value();
        String guess = issued.substring(0, 42) + (issued.charAt(42) == 'A' ? 'B' : 'A');

        for (String presented : List.of(guess, "", "not-a-token")) {
            assertThatThrownBy(() -> tokens.spend(presented))
                    .isInstanceOfSatisfying(CaException.class, e -> {
                        assertThat(e.reason()).isEqualTo(CaException.Reason.UNAUTHENTICATED);
                        assertThat(e.getMessage()).isEqualTo("join token refused: unknown");
                    });
        }
    }

    @Test
    void singleUseTokenWorksOnce() throws Exception {
        String token = tokens.issue(ORDERS, Duration.ofHours(1), true).token().value();

        assertThat(tokens.spend(token)).isEqualTo(ORDERS);
        assertThatThrownBy(() -> tokens.spend(token))
                .isInstanceOf(CaException.class)
                .hasMessage("join token refused: already used (single use)");
    }

    @Test
    void checkingASingleUseTokenSpendsNothing() throws Exception {
        JoinTokens.Grant grant = tokens.issue(ORDERS, Duration.ofHours(1), true);
        String token = grant.token().value();

        assertThat(tokens.check(token)).isEqualTo(ORDERS);
        assertThat(tokens.authenticate(grant.token())).isEqualTo(ORDERS);
        assertThat(tokens.check(token)).isEqualTo(ORDERS);
        tokens.spend(grant.token());
        assertThatThrownBy(() -> tokens.check(token)).isInstanceOf(CaException.class)
                .hasMessage("join token refused: already used (single use)");
        assertThatThrownBy(() -> tokens.spend(grant.token())).isInstanceOf(CaException.class)
                .hasMessage("join token refused: already used (single use)");
    }

    @Test
    void aSpendTheStoreCannotRecordLeavesTheTokenUnused(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        var store = dev.outrider.controlplane.store.FileStore.open(dir);
        JoinTokens durable = new JoinTokens(clock, store);
        String token = durable.issue(ORDERS, Duration.ofHours(1), true).token().value();
        store.close(); // every write fails from now on

        assertThatThrownBy(() -> durable.spend(token)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("is closed");
        assertThat(durable.check(token)).as("not durably spent: still usable").isEqualTo(ORDERS);
    }

    @Test
    void singleUseTokenPresentedConcurrentlySucceedsOnce() throws Exception {
        String token = tokens.issue(ORDERS, Duration.ofHours(1), true).token().value();
        int threads = 8;
        CountDownLatch start = new CountDownLatch(1);
        List<Future<Boolean>> results = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            for (int i = 0; i < threads; i++) {
                results.add(pool.submit(() -> {
                    start.await();
                    try {
                        tokens.spend(token);
                        return true;
                    } catch (CaException e) {
                        return false;
                    }
                }));
            }
            start.countDown();
            int successes = 0;
            for (Future<Boolean> r : results) {
                successes += r.get() ? 1 : 0;
            }
            assertThat(successes).isEqualTo(1);
        }
    }

    @Test
    void onlyTheSha256OfEachTokenIsStored() {
        String token = tokens.issue(ORDERS, Duration.ofHours(1), false).token().value();

        assertThat(tokens.storedHashes())
                .containsExactly(HexFormat.of().formatHex(JoinTokens.sha256(token)))
                .doesNotContain(token);
    }

    @Test
    void tokenNeverAppearsInToString() {
        JoinTokens.Grant grant = tokens.issue(ORDERS, Duration.ofHours(1), true);
        String token = grant.token().value();

        assertThat(grant.token().toString()).isEqualTo("JoinToken[redacted]");
        assertThat(grant.toString()).doesNotContain(token).contains("spiffe://cluster.local/ns/shop/sa/orders");
        assertThat(tokens.toString()).doesNotContain(token).isEqualTo("JoinTokens[entries=1]");
    }

    @Test
    void expiredEntriesArePurgedOnIssue() {
        tokens.issue(ORDERS, Duration.ofMinutes(10), false);
        clock.advance(Duration.ofMinutes(10));
        tokens.issue(FRONTEND, Duration.ofMinutes(10), false);

        assertThat(tokens.storedHashes()).hasSize(1);
    }

    @Test
    void ttlMustBePositiveAndBounded() {
        assertThatThrownBy(() -> tokens.issue(ORDERS, Duration.ZERO, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must be positive");
        assertThatThrownBy(() -> tokens.issue(ORDERS, JoinTokens.MAX_TTL.plusSeconds(1), false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at most PT720H");
    }

    @Test
    void workloadIdentityIsTheServiceAccountSpiffeId() {
        assertThat(ORDERS.spiffeId().toString()).isEqualTo("spiffe://cluster.local/ns/shop/sa/orders");
        assertThatThrownBy(() -> new WorkloadIdentity("cluster.local", "Shop", "orders"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("namespace 'Shop'");
        assertThatThrownBy(() -> new WorkloadIdentity("cluster.local", "shop", "a/b"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("service account 'a/b'");
        assertThatThrownBy(() -> new WorkloadIdentity("Cluster.Local", "shop", "orders"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("trust domain");
    }

    @Test
    void withAStoreTokensSurviveARestartAndUsedOnesStayUsed(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        try (var store = dev.outrider.controlplane.store.FileStore.open(dir)) {
            JoinTokens first = new JoinTokens(clock, store);
            String reusable = first.issue(ORDERS, Duration.ofHours(1), false).token().value();
            String once = first.issue(FRONTEND, Duration.ofHours(1), true).token().value();
            String shortLived = first.issue(ORDERS, Duration.ofMinutes(5), true).token().value();
            assertThat(first.spend(once)).isEqualTo(FRONTEND);
            String stored = new String(store.list(JoinTokens.KIND, null).getFirst().document(),
                    java.nio.charset.StandardCharsets.UTF_8);
            assertThat(stored).doesNotContain(reusable).doesNotContain(once).doesNotContain(shortLived);

            clock.advance(Duration.ofMinutes(10));
            JoinTokens restarted = new JoinTokens(clock, store); // a new process over the same store
            assertThat(restarted.spend(reusable)).isEqualTo(ORDERS);
            assertThatThrownBy(() -> restarted.spend(once)).isInstanceOf(CaException.class)
                    .hasMessage("join token refused: already used (single use)");
            assertThatThrownBy(() -> restarted.spend(shortLived)).isInstanceOf(CaException.class)
                    .hasMessage("join token refused: unknown");
            assertThat(store.list(JoinTokens.KIND, null)).as("the expired one is gone from the store").hasSize(2);
        }
    }
}
