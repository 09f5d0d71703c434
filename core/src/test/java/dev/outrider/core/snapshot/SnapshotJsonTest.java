package dev.outrider.core.snapshot;

import dev.outrider.core.model.ServiceName;
import dev.outrider.core.model.ServiceProtocol;
import dev.outrider.core.model.SpiffeId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;

import static dev.outrider.core.snapshot.Snapshots.ORDERS;
import static dev.outrider.core.snapshot.Snapshots.PAYMENTS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The snapshot payload's endpoint protocol: written, read back, read from an older control plane, refused. */
class SnapshotJsonTest {
    private static final Instant T = Instant.parse("2025-06-01T12:00:00Z");
    private static final ServiceName PAYMENTS_SERVICE = new ServiceName("payments", "shop");
    private static final ServiceName CATALOG_SERVICE = new ServiceName("catalog", "store");
    private static final SpiffeId CATALOG = SpiffeId.parse("spiffe://cluster.local/ns/store/sa/catalog");
    private static final String HEAD = """
            {"version":"1","workload":"spiffe://cluster.local/ns/shop/sa/orders","issuedAt":"2025-06-01T12:00:00Z",\
            "policies":"","endpoints":[""";
    private static final String PAYMENTS_ENDPOINT = """
            {"service":"payments","namespace":"shop","address":"10.0.0.7:8443",\
            "identity":"spiffe://cluster.local/ns/shop/sa/payments\"""";

    private static WorkloadSnapshot read(String json) {
        return SnapshotJson.read(json.getBytes(StandardCharsets.UTF_8));
    }

    private static String written(WorkloadSnapshot snapshot) {
        return new String(SnapshotJson.write(snapshot), StandardCharsets.UTF_8);
    }

    @ParameterizedTest
    @EnumSource(ServiceProtocol.class)
    void eachProtocolRoundTrips(ServiceProtocol protocol) {
        WorkloadSnapshot snapshot = new WorkloadSnapshot("3", ORDERS, T, "", List.of(
                new SnapshotEndpoint(PAYMENTS_SERVICE, "10.0.0.7:8443", PAYMENTS, protocol),
                new SnapshotEndpoint(PAYMENTS_SERVICE, "10.0.0.8:8443", PAYMENTS, protocol),
                new SnapshotEndpoint(CATALOG_SERVICE, "10.0.1.7:8443", CATALOG, ServiceProtocol.HTTP1)));

        WorkloadSnapshot back = SnapshotJson.read(SnapshotJson.write(snapshot));

        assertThat(back).isEqualTo(snapshot);
        assertThat(back.endpoints()).extracting(SnapshotEndpoint::protocol)
                .containsExactly(protocol, protocol, ServiceProtocol.HTTP1);
    }

    @Test
    void theProtocolFollowsTheIdentityAndAutoIsLeftOut() {
        String json = written(new WorkloadSnapshot("1", ORDERS, T, "", List.of(
                new SnapshotEndpoint(PAYMENTS_SERVICE, "10.0.0.7:8443", PAYMENTS, ServiceProtocol.HTTP2),
                new SnapshotEndpoint(CATALOG_SERVICE, "10.0.1.7:8443", CATALOG, ServiceProtocol.AUTO))));

        assertThat(json).isEqualTo(HEAD + PAYMENTS_ENDPOINT + ",\"protocol\":\"http2\"},"
                + "{\"service\":\"catalog\",\"namespace\":\"store\",\"address\":\"10.0.1.7:8443\","
                + "\"identity\":\"spiffe://cluster.local/ns/store/sa/catalog\"}]}");
    }

    @Test
    void anEndpointWithoutAProtocolFromAnOlderControlPlaneIsAuto() {
        WorkloadSnapshot snapshot = read(HEAD + PAYMENTS_ENDPOINT + "}]}");

        assertThat(snapshot.endpoints()).extracting(SnapshotEndpoint::protocol).containsExactly(ServiceProtocol.AUTO);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "http1 | HTTP1",
            "http2 | HTTP2",
            "auto | AUTO",
    })
    void eachSpellingIsRead(String wire, ServiceProtocol protocol) {
        WorkloadSnapshot snapshot = read(HEAD + PAYMENTS_ENDPOINT + ",\"protocol\":\"" + wire + "\"}]}");

        assertThat(snapshot.endpoints().getFirst().protocol()).isEqualTo(protocol);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "\"grpc\" | endpoints[0].protocol: 'grpc' is not a protocol; use http1, http2, auto",
            "\"HTTP2\" | endpoints[0].protocol: 'HTTP2' is not a protocol; use http1, http2, auto",
            "\"h2c\" | endpoints[0].protocol: 'h2c' is not a protocol; use http1, http2, auto",
            "2 | endpoints[0].protocol: must be a string",
            "null | endpoints[0].protocol: must be a string",
    })
    void aBadProtocolIsRefusedNamingTheField(String value, String message) {
        assertThatThrownBy(() -> read(HEAD + PAYMENTS_ENDPOINT + ",\"protocol\":" + value + "}]}"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(message);
    }

    @Test
    void endpointsOfOneServiceThatDisagreeOnTheProtocolAreRefused() {
        assertThatThrownBy(() -> read(HEAD + PAYMENTS_ENDPOINT + ",\"protocol\":\"http1\"},"
                + PAYMENTS_ENDPOINT.replace("10.0.0.7", "10.0.0.8") + "}]}"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("snapshot: endpoint 10.0.0.8:8443 of service payments.shop has protocol auto,"
                        + " another of its endpoints http1");
    }

    @Test
    void theRedisOfGlobalRateLimitsRoundTripsAndIsLeftOutWhenNone() {
        RedisSettings redis = new RedisSettings(java.net.URI.create("rediss://outrider@redis.shop:6380/2"),
                java.nio.file.Path.of("/run/secrets/redis"), java.time.Duration.ofMillis(20));
        WorkloadSnapshot snapshot = new WorkloadSnapshot("4", ORDERS, T, "", List.of(), redis);

        String json = written(snapshot);
        assertThat(json).endsWith("\"endpoints\":[],\"rateLimitRedis\":{\"uri\":\"rediss://outrider@redis.shop:6380/2\","
                + "\"passwordFile\":\"/run/secrets/redis\",\"timeout\":\"20ms\"}}");
        assertThat(read(json)).isEqualTo(snapshot);
        assertThat(written(new WorkloadSnapshot("4", ORDERS, T, "", List.of()))).doesNotContain("rateLimitRedis");
        WorkloadSnapshot noPassword = new WorkloadSnapshot("5", ORDERS, T, "", List.of(),
                new RedisSettings(java.net.URI.create("redis://redis:6379"), null, RedisSettings.DEFAULT_TIMEOUT));
        assertThat(read(written(noPassword))).isEqualTo(noPassword);
        WorkloadSnapshot cluster = new WorkloadSnapshot("6", ORDERS, T, "", List.of(),
                new RedisSettings(java.net.URI.create("redis://redis-0.redis:6379"), null, RedisSettings.DEFAULT_TIMEOUT,
                        true));
        assertThat(written(cluster)).endsWith(",\"timeout\":\"5ms\",\"cluster\":true}}");
        assertThat(read(written(cluster))).isEqualTo(cluster);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "{\"uri\":\"http://redis\",\"timeout\":\"5ms\"}|rateLimitRedis: 'http://redis' is not a Redis URI",
            "{\"uri\":\"redis://redis\"}|rateLimitRedis.timeout: must be a string",
            "{\"uri\":\"redis://redis\",\"timeout\":\"0s\"}|rateLimitRedis: timeout PT0S must be positive",
            "{\"uri\":\"redis://redis\",\"timeout\":\"5ms\",\"password\":\"x\"}|rateLimitRedis.password: unknown field",
            "{\"uri\":\"redis://redis\",\"timeout\":\"5ms\",\"cluster\":\"yes\"}|rateLimitRedis.cluster: must be true or false",
            "\"redis://redis\"|rateLimitRedis: must be an object"})
    void aBadRedisIsRefusedNamingTheField(String value, String message) {
        assertThatThrownBy(() -> read(HEAD + "],\"rateLimitRedis\":" + value + "}"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith(message);
    }
}
