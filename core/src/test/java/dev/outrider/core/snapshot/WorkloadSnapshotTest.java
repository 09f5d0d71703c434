package dev.outrider.core.snapshot;

import dev.outrider.core.model.ServiceName;
import dev.outrider.core.model.ServiceProtocol;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static dev.outrider.core.snapshot.Snapshots.ORDERS;
import static dev.outrider.core.snapshot.Snapshots.PAYMENTS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class WorkloadSnapshotTest {
    private static final Instant T = Instant.parse("2025-06-01T12:00:00Z");
    private static final ServiceName PAYMENTS_SERVICE = new ServiceName("payments", "shop");

    private static WorkloadSnapshot withVersion(String version) {
        return new WorkloadSnapshot(version, ORDERS, T, "", List.of());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "-1", "+1", "01", "1.0", " 1", "1e3", "0x10", "9223372036854775808", "12345678901234567890"})
    void versionMustBeCanonicalNonNegativeLong(String version) {
        assertThatThrownBy(() -> withVersion(version))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("version '" + version + "'");
    }

    @Test
    void versionsOrderAsNumbers() {
        assertThat(withVersion("0").versionNumber()).isZero();
        assertThat(withVersion("9223372036854775807").versionNumber()).isEqualTo(Long.MAX_VALUE);
        assertThat(withVersion("9").isOlderThan(10)).isTrue();
        assertThat(withVersion("10").isOlderThan(9)).isFalse();
        assertThat(withVersion("10").isOlderThan(10)).isFalse();
    }

    @Test
    void endpointsAreCopiedAndImmutable() {
        List<SnapshotEndpoint> endpoints = new ArrayList<>();
        endpoints.add(new SnapshotEndpoint(PAYMENTS_SERVICE, "10.0.0.7:8443", PAYMENTS));
        WorkloadSnapshot snapshot = new WorkloadSnapshot("1", ORDERS, T, "", endpoints);
        endpoints.clear();

        assertThat(snapshot.endpoints()).hasSize(1);
        assertThatThrownBy(() -> snapshot.endpoints().add(snapshot.endpoints().getFirst()))
                .isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void sameEndpointTwiceIsRefused() {
        SnapshotEndpoint e = new SnapshotEndpoint(PAYMENTS_SERVICE, "10.0.0.7:8443", PAYMENTS);

        assertThatThrownBy(() -> new WorkloadSnapshot("1", ORDERS, T, "", List.of(e, e)))
                .hasMessage("endpoint 10.0.0.7:8443 of service payments.shop is listed twice");
    }

    @Test
    void endpointsOfOneServiceMustAgreeOnTheProtocol() {
        SnapshotEndpoint h2 = new SnapshotEndpoint(PAYMENTS_SERVICE, "10.0.0.7:8443", PAYMENTS, ServiceProtocol.HTTP2);
        SnapshotEndpoint h1 = new SnapshotEndpoint(PAYMENTS_SERVICE, "10.0.0.8:8443", PAYMENTS, ServiceProtocol.HTTP1);
        SnapshotEndpoint other = new SnapshotEndpoint(new ServiceName("catalog", "shop"), "10.0.0.9:8443", PAYMENTS,
                ServiceProtocol.HTTP1);

        assertThatThrownBy(() -> new WorkloadSnapshot("1", ORDERS, T, "", List.of(h2, other, h1)))
                .hasMessage("endpoint 10.0.0.8:8443 of service payments.shop has protocol http1,"
                        + " another of its endpoints http2");
        assertThat(new WorkloadSnapshot("1", ORDERS, T, "", List.of(h2, other)).endpoints()).hasSize(2);
    }

    @Test
    void nullsAreRefusedByName() {
        assertThatThrownBy(() -> new WorkloadSnapshot("1", ORDERS, T, null, List.of())).hasMessage("policies");
        assertThatThrownBy(() -> new SnapshotEndpoint(PAYMENTS_SERVICE, "a:1", null)).hasMessage("identity");
        assertThatThrownBy(() -> new SnapshotEndpoint(PAYMENTS_SERVICE, "a:1", PAYMENTS, null)).hasMessage("protocol");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "10.0.0.7:8443 | 10.0.0.7 | 8443",
            "payments.shop.svc.cluster.local:15006 | payments.shop.svc.cluster.local | 15006",
            "[fd00::8]:443 | [fd00::8] | 443",
    })
    void addressIsHostAndPort(String address, String host, int port) {
        SnapshotEndpoint e = new SnapshotEndpoint(PAYMENTS_SERVICE, address, PAYMENTS);

        assertThat(e.host()).isEqualTo(host);
        assertThat(e.port()).isEqualTo(port);
    }

    @ParameterizedTest
    @ValueSource(strings = {"10.0.0.7", "10.0.0.7:0", "10.0.0.7:65536", "fd00::8:443", "user@host:80", "host:80/path",
            "host:80?q", "ho st:80", ":80", "host:", "under_score:80"})
    void badAddressIsRefused(String address) {
        assertThatThrownBy(() -> new SnapshotEndpoint(PAYMENTS_SERVICE, address, PAYMENTS))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("endpoint address '" + address + "' ");
    }
}
