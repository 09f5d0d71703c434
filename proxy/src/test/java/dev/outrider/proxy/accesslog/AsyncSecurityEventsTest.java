package dev.outrider.proxy.accesslog;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.outrider.proxy.config.SecurityEventsConfig;
import dev.outrider.proxy.metrics.Direction;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

class AsyncSecurityEventsTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String TOKEN = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2VjcmV0LXNpZ25hdHVyZQ";

    @TempDir
    Path dir;
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final AtomicLong clock = new AtomicLong(1_000);

    private AsyncSecurityEvents start(int rate, int burst, Duration summary, ByteArrayOutputStream out) {
        return AsyncSecurityEvents.start(new SecurityEventsConfig(true, "unused", rate, burst, summary), out,
                registry, clock::get);
    }

    private double dropped(String reason) {
        return registry.get("outrider_security_events_dropped").tag("reason", reason).counter().count();
    }

    private static List<JsonNode> lines(String text) throws IOException {
        List<JsonNode> nodes = new ArrayList<>();
        for (String line : text.lines().toList()) {
            nodes.add(MAPPER.readTree(line));
        }
        return nodes;
    }

    @Test
    void writesTheFieldsOfARequestRefusalAndNoSecret() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        AsyncSecurityEvents events = start(10, 10, Duration.ofHours(1), out);
        assertThat(events.admit()).isTrue();
        events.emit(new SecurityEvent(Duration.ofDays(20_000).toMillis() + 42, SecurityEvent.Type.AUTHN_REFUSED,
                Direction.INBOUND, "spiffe://cluster.local/ns/shop/sa/frontend", "127.0.0.1", null, "GET",
                "/api/orders/../x?access_token=" + TOKEN, "orders.shop", null, null, "token expired", "req-1",
                "https://idp.test", "k1"));
        events.close();

        String text = out.toString(StandardCharsets.UTF_8);
        assertThat(text).endsWith("\n").hasLineCount(1).doesNotContain(TOKEN).doesNotContain("?");
        JsonNode e = MAPPER.readTree(text);
        assertThat(e.get("time").asText()).isEqualTo("2024-10-04T00:00:00.042Z");
        assertThat(e.get("event").asText()).isEqualTo("authn_refused");
        assertThat(e.get("direction").asText()).isEqualTo("inbound");
        assertThat(e.get("peer").asText()).isEqualTo("spiffe://cluster.local/ns/shop/sa/frontend");
        assertThat(e.get("remote_address").asText()).isEqualTo("127.0.0.1");
        assertThat(e.get("method").asText()).isEqualTo("GET");
        assertThat(e.get("path").asText()).isEqualTo("/api/x");
        assertThat(e.get("authority").asText()).isEqualTo("orders.shop");
        assertThat(e.get("reason").asText()).isEqualTo("token expired");
        assertThat(e.get("request_id").asText()).isEqualTo("req-1");
        assertThat(e.get("jwt_issuer").asText()).isEqualTo("https://idp.test");
        assertThat(e.get("jwt_kid").asText()).isEqualTo("k1");
        assertThat(e.has("policy")).isFalse(); // unknown fields are left out, not written as null
        assertThat(e.has("service")).isFalse();
    }

    @Test
    void writesAConnectionRefusal() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        AsyncSecurityEvents events = start(10, 10, Duration.ofHours(1), out);
        assertThat(events.admit()).isTrue();
        events.emit(SecurityEvent.connection(SecurityEvent.Type.UPSTREAM_IDENTITY_MISMATCH, Direction.OUTBOUND,
                "spiffe://cluster.local/ns/shop/sa/billing", new InetSocketAddress("::1", 15006), "payments.shop",
                "upstream identity mismatch"));
        events.close();

        JsonNode e = MAPPER.readTree(out.toString(StandardCharsets.UTF_8));
        assertThat(e.get("event").asText()).isEqualTo("upstream_identity_mismatch");
        assertThat(e.get("direction").asText()).isEqualTo("outbound");
        assertThat(e.get("remote_address").asText()).isEqualTo("[0:0:0:0:0:0:0:1]:15006");
        assertThat(e.get("service").asText()).isEqualTo("payments.shop");
        assertThat(e.has("method")).isFalse();
        assertThat(e.has("path")).isFalse();
    }

    @Test
    void aFloodIsCutToTheBurstAndTheRestIsCountedAndSummarised() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        AsyncSecurityEvents events = start(2, 5, Duration.ofHours(1), out);
        int built = 0;
        for (int i = 0; i < 100; i++) {
            if (events.admit()) {
                events.emit(event(i));
                built++;
            }
        }
        assertThat(built).isEqualTo(5);
        clock.addAndGet(1_000_000_000L); // one second later: two more at 2 per second
        for (int i = 100; i < 110; i++) {
            if (events.admit()) {
                events.emit(event(i));
                built++;
            }
        }
        events.close();

        List<JsonNode> lines = lines(out.toString(StandardCharsets.UTF_8));
        assertThat(built).isEqualTo(7);
        assertThat(dropped("rate_limit")).isEqualTo(103);
        assertThat(dropped("queue_full")).isZero();
        assertThat(lines).hasSize(8);
        assertThat(lines.subList(0, 7)).allSatisfy(n -> assertThat(n.get("event").asText()).isEqualTo("authz_denied"));
        JsonNode summary = lines.get(7);
        assertThat(summary.get("event").asText()).isEqualTo("security_events_dropped");
        assertThat(summary.get("dropped").asLong()).isEqualTo(103);
        assertThat(summary.get("interval_ms").asLong()).isEqualTo(3_600_000);
    }

    @Test
    void aSummaryLineIsWrittenEachIntervalThatDroppedSome() throws IOException {
        Path file = dir.resolve("security.log");
        AsyncSecurityEvents events = AsyncSecurityEvents.start(new SecurityEventsConfig(true, file.toString(), 1, 1,
                Duration.ofMillis(100)), registry);
        try {
            for (int round = 1; round <= 2; round++) {
                int before = summaries(file).size();
                for (int i = 0; i < 50; i++) {
                    if (events.admit()) {
                        events.emit(event(i));
                    }
                }
                await().atMost(Duration.ofSeconds(10)).until(() -> summaries(file).size() > before);
            }
        } finally {
            events.close();
        }
        long summarised = summaries(file).stream().mapToLong(n -> n.get("dropped").asLong()).sum();
        assertThat(summarised).isEqualTo((long) dropped("rate_limit")).isGreaterThan(0);
    }

    private static List<JsonNode> summaries(Path file) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        String text = Files.exists(file) ? Files.readString(file) : "";
        for (String line : text.lines().toList()) {
            JsonNode n = MAPPER.readTree(line);
            if (n.get("event").asText().equals("security_events_dropped")) {
                out.add(n);
            }
        }
        return out;
    }

    @Test
    void disabledStreamAdmitsNothing() {
        SecurityEvents disabled = SecurityEvents.disabled();
        assertThat(disabled.admit()).isFalse();
        disabled.close();
    }

    @Test
    void anUnopenableFileNamesTheField() {
        String missing = dir.resolve("no/such/dir/security.log").toString();
        assertThatThrownBy(() -> AsyncSecurityEvents.start(new SecurityEventsConfig(true, missing, 1, 1,
                Duration.ofSeconds(1)), registry))
                .isInstanceOf(UncheckedIOException.class).hasMessageContaining("securityEvents.path")
                .hasMessageContaining(missing);
    }

    private static SecurityEvent event(int i) {
        return new SecurityEvent(0, SecurityEvent.Type.AUTHZ_DENIED, Direction.INBOUND, null, "127.0.0.1", null,
                "GET", "/admin/" + i, "orders", "shop/deny-admin", "0", "deny policy shop/deny-admin rule 0", null,
                null, null);
    }
}
