package dev.outrider.proxy.process;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * SIGTERM to a real sidecar process with a request in flight: readiness turns false, the listener stops
 * accepting, an idle keep-alive connection is closed, the in-flight request completes (with
 * {@code Connection: close}) and the process exits 0.
 */
class DrainProcessTest {
    private HttpServer backend;
    private final CountDownLatch slowArrived = new CountDownLatch(1);
    private final CountDownLatch releaseSlow = new CountDownLatch(1);

    @BeforeEach
    void startBackend() throws IOException {
        backend = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        backend.setExecutor(Executors.newFixedThreadPool(4));
        backend.createContext("/slow", ex -> {
            slowArrived.countDown();
            try {
                releaseSlow.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            byte[] body = "done".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        });
        backend.createContext("/fast", ex -> {
            byte[] body = "fast".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        });
        backend.start();
    }

    @AfterEach
    void stopBackend() {
        releaseSlow.countDown();
        backend.stop(0);
    }

    @Test
    void sigtermFinishesInFlightRequestClosesIdleConnectionsAndExitsZero(@TempDir Path dir) throws Exception {
        try (SidecarProcess sidecar = SidecarProcess.start(dir, backend.getAddress().getPort(),
                "runtime: {drainTimeout: 20s}\n", List.of("-Xmx64m"))) {
            // An idle keep-alive connection: one request answered, connection left open.
            try (Socket idle = new Socket("127.0.0.1", sidecar.inboundPort)) {
                idle.setSoTimeout(15_000);
                idle.getOutputStream().write("GET /fast HTTP/1.1\r\nHost: app\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                String first = readResponse(idle.getInputStream());
                assertThat(first).startsWith("HTTP/1.1 200").endsWith("fast");

                HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                        .connectTimeout(Duration.ofSeconds(5)).build();
                CompletableFuture<HttpResponse<String>> inFlight = client.sendAsync(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sidecar.inboundPort + "/slow"))
                                .timeout(Duration.ofSeconds(30)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(slowArrived.await(15, TimeUnit.SECONDS)).as("slow request reached the backend").isTrue();

                sidecar.terminate();

                await().atMost(Duration.ofSeconds(10)).until(() -> sidecar.readyStatus() != 200);
                await().atMost(Duration.ofSeconds(10)).until(() -> !accepts(sidecar.inboundPort));
                // The idle keep-alive connection is closed by the sidecar, not left to time out.
                assertThat(idle.getInputStream().read()).isEqualTo(-1);
                assertThat(inFlight).isNotDone();

                releaseSlow.countDown();
                HttpResponse<String> response = inFlight.get(15, TimeUnit.SECONDS);
                assertThat(response.statusCode()).isEqualTo(200);
                assertThat(response.body()).isEqualTo("done");
                assertThat(response.headers().firstValue("connection")).hasValue("close");
            }
            assertThat(sidecar.awaitExit(Duration.ofSeconds(20))).as(sidecar.logText()).isZero();
            assertThat(sidecar.logText()).contains("draining").contains("drained");
            sidecar.assertNoLeaks();
        }
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Reads one response with a Content-Length body (test helper; the proxy never parses HTTP by hand). */
    static String readResponse(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            head.append((char) b);
        }
        int length = 0;
        for (String line : head.toString().split("\r\n")) {
            if (line.toLowerCase().startsWith("content-length:")) {
                length = Integer.parseInt(line.substring(15).strip());
            }
        }
        byte[] body = in.readNBytes(length);
        return head + new String(body, StandardCharsets.UTF_8);
    }
}
