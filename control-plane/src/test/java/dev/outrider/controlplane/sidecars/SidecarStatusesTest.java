package dev.outrider.controlplane.sidecars;

import dev.outrider.controlplane.ca.WorkloadIdentity;
import dev.outrider.controlplane.testing.MutableClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalLong;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SidecarStatusesTest {
    private static final WorkloadIdentity ORDERS = new WorkloadIdentity("cluster.local", "shop", "orders");
    private static final WorkloadIdentity FRONTEND = new WorkloadIdentity("cluster.local", "shop", "frontend");
    private static final Duration TTL = Duration.ofSeconds(60);

    private final MutableClock clock = new MutableClock();
    private final SidecarStatuses statuses = new SidecarStatuses(clock, () -> TTL);
    private final Map<WorkloadIdentity, Long> latest = new HashMap<>();
    private final Function<WorkloadIdentity, OptionalLong> latestVersion =
            w -> latest.containsKey(w) ? OptionalLong.of(latest.get(w)) : OptionalLong.empty();

    @Test
    void followsAnInstanceFromRegistrationThroughAckAndNack() {
        latest.put(ORDERS, 5L);
        statuses.seen(ORDERS, "orders-1", "orders", "10.0.0.5:15006");
        assertThat(statuses.list(latestVersion)).containsExactly(new SidecarView(
                "spiffe://cluster.local/ns/shop/sa/orders", "orders-1", "orders", "10.0.0.5:15006", clock.instant(),
                5L, null, "PENDING", null, null, null));

        clock.advance(Duration.ofSeconds(1));
        statuses.report(ORDERS, "orders-1", "5", "ACK", null);
        SidecarView acked = statuses.list(latestVersion).getFirst();
        assertThat(acked.state()).isEqualTo("ACK");
        assertThat(acked.appliedVersion()).isEqualTo(5L);
        assertThat(acked.lastSeen()).isEqualTo(clock.instant());

        latest.put(ORDERS, 7L);
        assertThat(statuses.list(latestVersion).getFirst().state()).isEqualTo("PENDING");

        statuses.report(ORDERS, "orders-1", "7", "NACK", "policies: spec.rules[0]: bad");
        SidecarView nacked = statuses.list(latestVersion).getFirst();
        assertThat(nacked.state()).isEqualTo("NACK");
        assertThat(nacked.error()).isEqualTo("policies: spec.rules[0]: bad");
        assertThat(nacked.appliedVersion()).isEqualTo(5L);
        assertThat(nacked.latestVersion()).isEqualTo(7L);

        latest.put(ORDERS, 8L); // a fix is out, not yet reported on
        assertThat(statuses.list(latestVersion).getFirst()).extracting(SidecarView::state, SidecarView::error)
                .containsExactly("PENDING", null);
        statuses.report(ORDERS, "orders-1", "8", "ACK", "");
        assertThat(statuses.list(latestVersion).getFirst()).extracting(SidecarView::state, SidecarView::appliedVersion,
                SidecarView::error).containsExactly("ACK", 8L, null);
    }

    @Test
    void thePlaintextCountRidesOnTheAckAndRecordsWhenItLastGrew() {
        latest.put(ORDERS, 5L);
        statuses.acknowledged(ORDERS, "orders-1", 5, -1);
        assertThat(statuses.list(latestVersion).getFirst()).extracting(SidecarView::plaintextConnections,
                SidecarView::plaintextLastGrew).containsExactly(null, null);

        clock.advance(Duration.ofSeconds(1));
        statuses.acknowledged(ORDERS, "orders-1", 5, 0);
        assertThat(statuses.list(latestVersion).getFirst()).extracting(SidecarView::plaintextConnections,
                SidecarView::plaintextLastGrew).containsExactly(0L, null);

        clock.advance(Duration.ofSeconds(1));
        java.time.Instant grew = clock.instant();
        statuses.acknowledged(ORDERS, "orders-1", 5, 3);
        clock.advance(Duration.ofSeconds(30));
        statuses.acknowledged(ORDERS, "orders-1", 5, 3); // no news: the time it grew stays
        SidecarView view = statuses.list(latestVersion).getFirst();
        assertThat(view.plaintextConnections()).isEqualTo(3L);
        assertThat(view.plaintextLastGrew()).isEqualTo(grew);
        assertThat(view.state()).isEqualTo("ACK");

        clock.advance(Duration.ofSeconds(1));
        statuses.acknowledged(ORDERS, "orders-1", 5, 1); // restarted, one plaintext connection since
        assertThat(statuses.list(latestVersion).getFirst()).extracting(SidecarView::plaintextConnections,
                SidecarView::plaintextLastGrew).containsExactly(1L, clock.instant());
        clock.advance(Duration.ofSeconds(1));
        Instant last = statuses.list(latestVersion).getFirst().plaintextLastGrew();
        statuses.acknowledged(ORDERS, "orders-1", 5, 0); // restarted again, none since
        assertThat(statuses.list(latestVersion).getFirst()).extracting(SidecarView::plaintextConnections,
                SidecarView::plaintextLastGrew).containsExactly(0L, last);
        // a registration or a report keeps it
        statuses.seen(ORDERS, "orders-1", "orders", "10.0.0.5:15006");
        statuses.report(ORDERS, "orders-1", "6", "NACK", "bad");
        assertThat(statuses.list(latestVersion).getFirst().plaintextLastGrew()).isEqualTo(last);
    }

    @Test
    void theStoredRecordKeepsThePlaintextCountAndReadsOldRecords() {
        Instant now = clock.instant();
        SidecarStatuses.Status status = new SidecarStatuses.Status("orders", "10.0.0.5:15006", now, 5L, null, null,
                new SidecarStatuses.Plaintext(4, now.minusSeconds(10)));
        StatusRecord read = StatusRecord.parse(StatusRecord.write(ORDERS, "orders-1", status));
        assertThat(read.status()).isEqualTo(status);

        StatusRecord old = StatusRecord.parse(("{\"identity\":\"spiffe://cluster.local/ns/shop/sa/orders\","
                + "\"instance\":\"orders-1\",\"lastSeen\":\"" + now + "\",\"appliedVersion\":\"5\"}")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
        assertThat(old.status().plaintext()).isNull();
        // two replicas' knowledge: the newer count, the latest growth
        SidecarStatuses.Status older = new SidecarStatuses.Status(null, null, now.minusSeconds(5), 5L, null, null,
                new SidecarStatuses.Plaintext(9, now.minusSeconds(5)));
        SidecarStatuses.Status merged = SidecarStatuses.Status.merge(status, older);
        assertThat(merged.plaintext()).isEqualTo(new SidecarStatuses.Plaintext(4, now.minusSeconds(5)));
        assertThat(SidecarStatuses.Status.merge(older, status)).isEqualTo(merged);
    }

    @Test
    void aLateNackOfAnOlderVersionDoesNotHideTheAck() {
        latest.put(ORDERS, 9L);
        statuses.report(ORDERS, "orders-1", "9", "ACK", null);
        statuses.report(ORDERS, "orders-1", "8", "NACK", "old");
        statuses.report(ORDERS, "orders-1", "7", "ACK", null);
        assertThat(statuses.list(latestVersion).getFirst()).extracting(SidecarView::state, SidecarView::appliedVersion)
                .containsExactly("ACK", 9L);
    }

    @Test
    void withoutACompiledVersionTheLastReportDecides() {
        statuses.report(ORDERS, "orders-1", "3", "ACK", null);
        statuses.report(FRONTEND, "frontend-1", "4", "NACK", null);
        statuses.seen(FRONTEND, "frontend-2", "frontend", "[fd00::2]:15006");
        assertThat(statuses.list(latestVersion)).extracting(SidecarView::instance, SidecarView::state,
                SidecarView::error, SidecarView::service).containsExactly(
                org.assertj.core.groups.Tuple.tuple("frontend-1", "NACK", "", null),
                org.assertj.core.groups.Tuple.tuple("frontend-2", "PENDING", null, "frontend"),
                org.assertj.core.groups.Tuple.tuple("orders-1", "ACK", null, null));
    }

    @ParameterizedTest
    @CsvSource(nullValues = "null", value = {
            "Orders_1, 5, ACK, null, instance: 'Orders_1' is not an RFC 1123 label",
            "null, 5, ACK, null, instance: is required",
            "orders-1, 05, ACK, null, version: '05' is not a snapshot version",
            "orders-1, -1, ACK, null, version: '-1' is not a snapshot version",
            "orders-1, abc, ACK, null, version: 'abc' is not a snapshot version",
            "orders-1, null, ACK, null, version: is required",
            "orders-1, 9999999999999999999, ACK, null, version: '9999999999999999999' is greater than",
            "orders-1, 5, ack, null, result: 'ack' is not ACK or NACK",
            "orders-1, 5, null, null, result: is required",
            "orders-1, 5, ACK, oops, error: only a NACK carries an error"})
    void refusesMalformedReportsNamingTheField(String instance, String version, String result, String error,
                                               String message) {
        assertThatThrownBy(() -> statuses.report(ORDERS, instance, version, result, error))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith(message);
        assertThat(statuses.list(latestVersion)).isEmpty();
    }

    @Test
    void longErrorsAreCut() {
        statuses.report(ORDERS, "orders-1", "5", "NACK", "x".repeat(5_000));
        String error = statuses.list(latestVersion).getFirst().error();
        assertThat(error).hasSize(SidecarStatuses.MAX_ERROR_LENGTH).endsWith("... (cut)").startsWith("xxx");

        statuses.report(ORDERS, "orders-2", "5", "NACK", "x".repeat(990) + "\uD83D\uDE00".repeat(10));
        String emoji = statuses.list(latestVersion).get(1).error();
        assertThat(emoji.length()).isLessThanOrEqualTo(SidecarStatuses.MAX_ERROR_LENGTH);
        assertThat(emoji.codePoints()).doesNotContain(0xD83D); // no half character before the marker
    }

    @Test
    void forgetsInstancesNotSeenForTenTtls() {
        statuses.seen(ORDERS, "orders-1", "orders", "10.0.0.5:15006");
        clock.advance(TTL.multipliedBy(5));
        statuses.seen(ORDERS, "orders-2", "orders", "10.0.0.6:15006");
        clock.advance(TTL.multipliedBy(5).minusSeconds(1));
        assertThat(statuses.list(latestVersion)).extracting(SidecarView::instance).containsExactly("orders-1", "orders-2");

        clock.advance(Duration.ofSeconds(1));
        assertThat(statuses.list(latestVersion)).extracting(SidecarView::instance).containsExactly("orders-2");
        statuses.report(ORDERS, "orders-2", "1", "ACK", null);
        clock.advance(TTL.multipliedBy(10));
        assertThat(statuses.list(latestVersion)).isEmpty();
    }

    @Test
    void beyondTheCapTheInstanceSeenLongestAgoIsForgotten() {
        SidecarStatuses small = new SidecarStatuses(clock, () -> TTL, 3);
        for (int i = 1; i <= 3; i++) {
            small.seen(ORDERS, "orders-" + i, "orders", "10.0.0." + i + ":15006");
            clock.advance(Duration.ofSeconds(1));
        }
        small.report(ORDERS, "orders-1", "1", "ACK", null); // orders-1 is now the most recent
        clock.advance(Duration.ofSeconds(1));
        small.seen(ORDERS, "orders-4", "orders", "10.0.0.4:15006");
        assertThat(small.list(latestVersion)).extracting(SidecarView::instance)
                .containsExactly("orders-1", "orders-3", "orders-4");
    }
}
