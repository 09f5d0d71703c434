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
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.zip.CRC32;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Bodies stream: a 1 GiB upload and a 1 GiB download pass through a sidecar process whose heap is 64 MiB
 * (and whose direct memory is therefore 64 MiB too). A proxy that buffered a body would die of
 * OutOfMemoryError ({@code -XX:+ExitOnOutOfMemoryError}) or fail the request.
 */
class LargeBodyProcessTest {
    private static final long SIZE = 1L << 30;
    private HttpServer backend;

    @BeforeEach
    void startBackend() throws IOException {
        backend = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        backend.setExecutor(Executors.newFixedThreadPool(2));
        backend.createContext("/upload", ex -> {
            CRC32 crc = new CRC32();
            long n = 0;
            byte[] buf = new byte[65536];
            try (InputStream in = ex.getRequestBody()) {
                int r;
                while ((r = in.read(buf)) > 0) {
                    crc.update(buf, 0, r);
                    n += r;
                }
            }
            byte[] body = (n + " " + crc.getValue()).getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        });
        backend.createContext("/download", ex -> {
            ex.sendResponseHeaders(200, SIZE);
            try (OutputStream out = ex.getResponseBody(); InputStream in = new PatternStream(SIZE)) {
                in.transferTo(out);
            }
        });
        backend.start();
    }

    @AfterEach
    void stopBackend() {
        backend.stop(0);
    }

    @Test
    void oneGibUploadAndDownloadThroughA64MiBHeapSidecar(@TempDir Path dir) throws Exception {
        try (SidecarProcess sidecar = SidecarProcess.start(dir, backend.getAddress().getPort(),
                "upstream: {requestTimeout: 120s}\n",
                List.of("-Xmx64m", "-XX:+ExitOnOutOfMemoryError", "-XX:+UseSerialGC",
                        "-Dio.netty.leakDetection.level=paranoid"))) {
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(5)).build();
            String base = "http://127.0.0.1:" + sidecar.inboundPort;

            HttpResponse<String> up = client.send(HttpRequest.newBuilder(URI.create(base + "/upload"))
                    .timeout(Duration.ofMinutes(3))
                    .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new PatternStream(SIZE)))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(up.statusCode()).as(sidecar.logText()).isEqualTo(200);
            assertThat(up.body()).isEqualTo(SIZE + " " + PatternStream.crcOf(SIZE));

            HttpResponse<InputStream> down = client.send(HttpRequest.newBuilder(URI.create(base + "/download"))
                    .timeout(Duration.ofMinutes(3)).build(), HttpResponse.BodyHandlers.ofInputStream());
            assertThat(down.statusCode()).isEqualTo(200);
            CRC32 crc = new CRC32();
            long n = 0;
            byte[] buf = new byte[65536];
            try (InputStream in = down.body()) {
                int r;
                while ((r = in.read(buf)) > 0) {
                    crc.update(buf, 0, r);
                    n += r;
                }
            }
            assertThat(n).isEqualTo(SIZE);
            assertThat(crc.getValue()).isEqualTo(PatternStream.crcOf(SIZE));
            assertThat(sidecar.process.isAlive()).as(sidecar.logText()).isTrue();
            sidecar.assertNoLeaks();
        }
    }

    /** A deterministic, non-repeating-looking byte stream of a given length. */
    static final class PatternStream extends InputStream {
        private final long size;
        private long pos;

        PatternStream(long size) {
            this.size = size;
        }

        static long crcOf(long size) throws IOException {
            CRC32 crc = new CRC32();
            byte[] buf = new byte[65536];
            try (PatternStream in = new PatternStream(size)) {
                int r;
                while ((r = in.read(buf)) > 0) {
                    crc.update(buf, 0, r);
                }
            }
            return crc.getValue();
        }

        private static byte at(long i) {
            return (byte) ((i * 31) ^ (i >>> 11));
        }

        @Override
        public int read() {
            return pos < size ? at(pos++) & 0xFF : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (pos >= size) {
                return -1;
            }
            int n = (int) Math.min(len, size - pos);
            for (int i = 0; i < n; i++) {
                b[off + i] = at(pos + i);
            }
            pos += n;
            return n;
        }
    }
}
