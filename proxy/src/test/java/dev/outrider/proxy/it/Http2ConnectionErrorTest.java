package dev.outrider.proxy.it;

import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.outrider.proxy.Sidecar;
import dev.outrider.proxy.tls.TestPki;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A peer that sends malformed HTTP/2 (a SETTINGS frame whose length is not a multiple of 6: FRAME_SIZE_ERROR,
 * RFC 9113 §6.5) over and over, on new connections: over mTLS with ALPN h2 to the inbound listener, and as h2c
 * to the outbound listener. Each connection ends with GOAWAY and is counted; the log gets one line per
 * listener per interval, never a stack trace.
 */
class Http2ConnectionErrorTest {
    private static final int FLOOD = 25;
    /** Seconds between two lines of one listener (Http2ConnectionErrorHandler.LOG_INTERVAL_SECONDS). */
    private static final long LOG_INTERVAL_SECONDS = 10;
    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    /** A SETTINGS frame header announcing 5 payload bytes, and the 5 bytes. */
    private static final byte[] BAD_SETTINGS = {0, 0, 5, 0x4, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5};

    @Test
    void aFloodOfMalformedConnectionsIsCountedAndLoggedOneLineAtATime(@TempDir Path dir) throws Exception {
        TestPki.Ca mesh = TestPki.root("mesh root");
        TlsFiles files = TlsFiles.create(dir.resolve("orders"), TlsFiles.Layout.FILES);
        files.write(mesh.leaf().spiffe(TestPki.spiffe("cluster.local", "shop", "orders")).issue(), mesh);
        SSLContext caller = TlsTestClient.jdkSocketContext(
                mesh.leaf().spiffe(TestPki.spiffe("cluster.local", "shop", "frontend")).issue());
        String provider = System.getProperty("outrider.test.tlsProvider", "auto");
        try (TestBackend backend = TestBackend.start();
             Sidecar orders = MeshSidecars.inbound("orders", backend.port(), files.yaml(provider), "")) {
            List<ILoggingEvent> events;
            long elapsedSeconds;
            try (LogCapture logs = LogCapture.start()) {
                long start = System.nanoTime();
                for (int i = 0; i < FLOOD; i++) {
                    badHttp2OverMtls(orders.inboundAddress(), caller);
                    badH2c(orders.outboundAddress());
                }
                elapsedSeconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
                events = logs.events();
            }

            assertThat(events).as("no stack trace in the log")
                    .allSatisfy(e -> assertThat(e.getThrowableProxy()).as(e.getFormattedMessage()).isNull());
            long maxLinesPerListener = 1 + elapsedSeconds / LOG_INTERVAL_SECONDS;
            for (String direction : List.of("inbound", "outbound")) {
                List<String> lines = events.stream().map(ILoggingEvent::getFormattedMessage)
                        .filter(m -> m.startsWith(direction + " HTTP/2")).toList();
                assertThat(lines).as(direction).hasSizeBetween(1, (int) maxLinesPerListener)
                        .allSatisfy(line -> assertThat(line).matches(direction + " HTTP/2 connection error from "
                                + "/127\\.0\\.0\\.1:\\d+: FRAME_SIZE_ERROR Frame length 5 invalid\\.( \\(\\d+ more "
                                + "HTTP/2 connection errors not logged\\))?"));
            }
            assertThat(events).as("every line is about these connections").hasSizeLessThanOrEqualTo(
                    (int) (2 * maxLinesPerListener));

            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                assertThat(Metrics.sum(orders, "outrider_http2_connection_errors_total", "direction", "inbound",
                        "error_code", "frame_size_error")).isEqualTo(FLOOD);
                assertThat(Metrics.sum(orders, "outrider_http2_connection_errors_total", "direction", "outbound",
                        "error_code", "frame_size_error")).isEqualTo(FLOOD);
            });
            assertThat(Metrics.sum(orders, "outrider_http2_connection_errors_total")).isEqualTo(2 * FLOOD);
            assertThat(backend.requestCount()).isZero();
        }
    }

    /** mTLS, ALPN h2, then the preface and the malformed frame; reads until the sidecar closes. */
    private static void badHttp2OverMtls(InetSocketAddress to, SSLContext context) throws IOException {
        try (RawHttp s = RawHttp.overTls(to, context, "h2")) {
            assertThat(s.applicationProtocol()).isEqualTo("h2");
            sendAndReadToEnd(s);
        }
    }

    private static void badH2c(InetSocketAddress to) throws IOException {
        try (RawHttp s = new RawHttp(to)) {
            sendAndReadToEnd(s);
        }
    }

    /**
     * Sends the preface and the bad frame; reads the sidecar's SETTINGS and GOAWAY(FRAME_SIZE_ERROR) up to the
     * end (a reset after the GOAWAY is an end too; a timeout is not).
     */
    private static void sendAndReadToEnd(RawHttp s) throws IOException {
        s.send(PREFACE);
        s.send(BAD_SETTINGS);
        s.readToEofOrReset();
    }
}
