package dev.outrider.proxy.accesslog;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.outrider.proxy.config.AccessLogConfig;
import dev.outrider.proxy.metrics.Direction;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AsyncAccessLogTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void inboundEntriesCarryTheCallerAndTheAuthorizationOutcome() throws IOException {
        Path file = dir.resolve("audit.log");
        AsyncAccessLog accessLog = AsyncAccessLog.start(new AccessLogConfig(true, file.toString(), 16),
                new SimpleMeterRegistry());
        accessLog.log(new AccessLogEntry(0, Direction.INBOUND, "HTTP/2", "GET", "/admin", 403, 0, 0, 90, null,
                "r", null, new AccessLogEntry.Auth("cluster.local/ns/shop/sa/frontend", null,
                "deny policy shop/deny-admin rule 0", "shop/audit-all rule 0", "dry-run deny policy shop/x rule 1")));
        accessLog.log(new AccessLogEntry(0, Direction.INBOUND, "HTTP/2", "GET", "/api", 401, 0, 0, 90, null,
                "r", null, new AccessLogEntry.Auth(null, "token expired", null, null, null)));
        accessLog.close();

        List<String> lines = Files.readAllLines(file);
        JsonNode denied = MAPPER.readTree(lines.get(0));
        assertThat(denied.get("peer").asText()).isEqualTo("cluster.local/ns/shop/sa/frontend");
        assertThat(denied.get("authz").asText()).isEqualTo("deny policy shop/deny-admin rule 0");
        assertThat(denied.get("audit").asText()).isEqualTo("shop/audit-all rule 0");
        assertThat(denied.get("authz_dry_run").asText()).isEqualTo("dry-run deny policy shop/x rule 1");
        assertThat(denied.has("authn")).isFalse();
        JsonNode unauthenticated = MAPPER.readTree(lines.get(1));
        assertThat(unauthenticated.get("authn").asText()).isEqualTo("token expired");
        assertThat(unauthenticated.has("peer")).isFalse();
    }

    @Test
    void writesOneJsonLinePerEntryToAnAppendedFile() throws IOException {
        Path file = dir.resolve("access.log");
        Files.writeString(file, "{\"earlier\":true}\n");
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        AsyncAccessLog accessLog = AsyncAccessLog.start(new AccessLogConfig(true, file.toString(), 16), registry);

        accessLog.log(new AccessLogEntry(1_700_000_000_123L, Direction.INBOUND, "HTTP/1.1", "GET",
                "/api/./v1//users?token=s3cret&password=hunter2", 200, 1_234_567, 10, 2048,
                "127.0.0.1:8080", "req-1", "orders"));
        accessLog.log(new AccessLogEntry(1_700_000_001_000L, Direction.OUTBOUND, "HTTP/2", "POST",
                "http://payments.svc:80/charge?card=4111", 503, 999, 0, 0, null, null, null));
        accessLog.close();

        List<String> lines = Files.readAllLines(file);
        assertThat(lines).hasSize(3);
        assertThat(lines.get(0)).isEqualTo("{\"earlier\":true}");

        JsonNode first = MAPPER.readTree(lines.get(1));
        assertThat(first.get("time").asText()).isEqualTo("2023-11-14T22:13:20.123Z");
        assertThat(first.get("direction").asText()).isEqualTo("inbound");
        assertThat(first.get("protocol").asText()).isEqualTo("HTTP/1.1");
        assertThat(first.get("method").asText()).isEqualTo("GET");
        assertThat(first.get("path").asText()).isEqualTo("/api/v1/users");
        assertThat(first.get("status").asInt()).isEqualTo(200);
        assertThat(first.get("duration_ms").isNumber()).isTrue();
        assertThat(first.get("duration_ms").decimalValue()).isEqualByComparingTo("1.235");
        assertThat(first.get("request_bytes").asLong()).isEqualTo(10);
        assertThat(first.get("response_bytes").asLong()).isEqualTo(2048);
        assertThat(first.get("upstream").asText()).isEqualTo("127.0.0.1:8080");
        assertThat(first.get("request_id").asText()).isEqualTo("req-1");
        assertThat(first.get("service").asText()).isEqualTo("orders");
        assertThat(lines.get(1)).contains("\"duration_ms\":1.235");

        JsonNode second = MAPPER.readTree(lines.get(2));
        assertThat(second.get("direction").asText()).isEqualTo("outbound");
        assertThat(second.get("path").asText()).isEqualTo("/charge");
        assertThat(second.get("status").asInt()).isEqualTo(503);
        assertThat(lines.get(2)).contains("\"duration_ms\":0.001");
        assertThat(second.get("upstream").isNull()).isTrue();
        assertThat(second.get("request_id").isNull()).isTrue();
        assertThat(second.get("service").isNull()).isTrue();

        String all = Files.readString(file);
        assertThat(all).doesNotContain("?").doesNotContain("s3cret").doesNotContain("hunter2")
                .doesNotContain("4111");
        assertThat(registry.get("outrider.access.log.dropped").counter().count()).isZero();
    }

    @Test
    void escapesWhatItWritesAsJson() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        AsyncAccessLog accessLog = AsyncAccessLog.start(out, false, 4, new SimpleMeterRegistry());
        accessLog.log(new AccessLogEntry(0, Direction.INBOUND, "HTTP/1.1", "G\"ET\n", "/a\"b\\c", 200, 0, 0, 0,
                null, "id\u0001", "svc"));
        accessLog.close();

        String text = out.toString(StandardCharsets.UTF_8);
        assertThat(text).endsWith("\n").hasLineCount(1);
        JsonNode node = MAPPER.readTree(text);
        assertThat(node.get("method").asText()).isEqualTo("G\"ET\n");
        assertThat(node.get("path").asText()).isEqualTo("/a\"b\\c");
        assertThat(node.get("request_id").asText()).isEqualTo("id\u0001");
    }

    @Test
    void dropsAndCountsWhenTheQueueIsFull() throws Exception {
        StallingStream out = new StallingStream();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        AsyncAccessLog accessLog = AsyncAccessLog.start(out, false, 1, registry);

        // The writer takes the first entry, runs the queue empty, flushes and stalls in the stream.
        accessLog.log(entry(0));
        assertThat(out.entered.await(10, TimeUnit.SECONDS)).isTrue();
        int offered = 1;
        for (int i = 1; i <= 100; i++) {
            accessLog.log(entry(i));
            offered++;
        }
        double droppedWhileStalled = registry.get("outrider.access.log.dropped").counter().count();
        // One slot in the queue: exactly one of the hundred fits.
        assertThat(droppedWhileStalled).isEqualTo(99);

        out.release.countDown();
        accessLog.close();
        accessLog.log(entry(101));
        offered++;

        List<String> lines = out.lines();
        double dropped = registry.get("outrider.access.log.dropped").counter().count();
        assertThat(lines).hasSize(2);
        assertThat(lines.size() + dropped).isEqualTo(offered);
        for (String line : lines) {
            assertThat(MAPPER.readTree(line).get("path").asText()).startsWith("/item/");
        }
    }

    @Test
    void rejectsBadConfigAtStart() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        assertThatThrownBy(() -> AsyncAccessLog.start(new AccessLogConfig(true, "-", 0), registry))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("accessLog.queueSize");
        String missing = dir.resolve("no/such/dir/access.log").toString();
        assertThatThrownBy(() -> AsyncAccessLog.start(new AccessLogConfig(true, missing, 8), registry))
                .isInstanceOf(UncheckedIOException.class).hasMessageContaining("accessLog.path")
                .hasMessageContaining(missing);
    }

    @Test
    void disabledLogAcceptsAndIgnores() {
        AccessLog disabled = AccessLog.disabled();
        disabled.log(entry(1));
        disabled.close();
        assertThat(AccessLog.disabled()).isSameAs(disabled);
    }

    private static AccessLogEntry entry(int i) {
        return new AccessLogEntry(0, Direction.OUTBOUND, "HTTP/1.1", "GET", "/item/" + i + "?secret=x", 200,
                1_000, 0, 0, null, null, null);
    }

    /** Blocks the first write until released, and keeps what is written. */
    private static final class StallingStream extends OutputStream {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            entered.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(e);
            }
            synchronized (bytes) {
                bytes.write(b, off, len);
            }
        }

        List<String> lines() {
            synchronized (bytes) {
                return new ArrayList<>(bytes.toString(StandardCharsets.UTF_8).lines().toList());
            }
        }
    }
}
