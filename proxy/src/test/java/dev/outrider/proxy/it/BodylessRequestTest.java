package dev.outrider.proxy.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A request without a body reaches the application without one: a GET (and a POST with {@code Content-Length: 0})
 * from an HTTP/1.1 caller, through A, over HTTP/2 between the sidecars, to an HTTP/1.1 application, arrives with
 * no {@code Transfer-Encoding} and no body bytes after its head (strict servers and WAFs refuse a chunked GET).
 * Between the sidecars the request goes as one HEADERS frame with END_STREAM, so B converts it to a request that
 * is complete and has nothing to chunk. The application is a raw socket so its bytes are seen as sent.
 */
class BodylessRequestTest {
    private static RawBackend backend;
    private static SidecarPair pair;

    @BeforeAll
    static void start() throws Exception {
        backend = new RawBackend();
        pair = SidecarPair.start(backend.port(), "http1");
    }

    @AfterAll
    static void stop() throws Exception {
        if (pair != null) {
            pair.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    @Test
    void getArrivesWithoutTransferEncodingOrBody() throws Exception {
        RawBackend.Seen seen = send("GET /items HTTP/1.1\r\nHost: orders\r\n\r\n");
        assertThat(seen.head()).startsWith("GET /items HTTP/1.1\r\n");
        assertThat(seen.head().toLowerCase()).doesNotContain("transfer-encoding").doesNotContain("content-length");
        assertThat(seen.afterHead()).as("bytes after the request head").isEmpty();
    }

    @Test
    void postWithContentLengthZeroArrivesWithoutTransferEncodingOrBody() throws Exception {
        RawBackend.Seen seen = send("POST /items HTTP/1.1\r\nHost: orders\r\nContent-Length: 0\r\n\r\n");
        assertThat(seen.head()).startsWith("POST /items HTTP/1.1\r\n");
        assertThat(seen.head().toLowerCase()).doesNotContain("transfer-encoding");
        assertThat(seen.afterHead()).as("bytes after the request head").isEmpty();
    }

    private static RawBackend.Seen send(String request) throws Exception {
        try (RawHttp client = new RawHttp(new InetSocketAddress("127.0.0.1", pair.upstreamPort))) {
            client.send(request);
            String head = client.readHead();
            assertThat(RawHttp.status(head)).as(head).isEqualTo(200);
        }
        RawBackend.Seen seen = backend.seen.poll(10, TimeUnit.SECONDS);
        assertThat(seen).as("the application saw the request").isNotNull();
        return seen;
    }

    /**
     * An HTTP/1.1 application on a plain socket: reads one request head per connection, answers 200 with
     * {@code Connection: close}, then keeps reading until the sidecar closes, so whatever came after the head
     * (a chunked terminator, a body) is recorded. Test-side parsing only finds the end of the head.
     */
    private static final class RawBackend implements AutoCloseable {
        record Seen(String head, String afterHead) {
        }

        final BlockingQueue<Seen> seen = new LinkedBlockingQueue<>();
        private final ServerSocket server;
        private final Thread thread;

        RawBackend() throws IOException {
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            thread = Thread.ofPlatform().daemon().name("raw-backend").start(this::serve);
        }

        int port() {
            return server.getLocalPort();
        }

        private void serve() {
            while (!server.isClosed()) {
                try (Socket s = server.accept()) {
                    s.setSoTimeout(5_000);
                    InputStream in = s.getInputStream();
                    String head = readHead(in);
                    s.getOutputStream().write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
                            .getBytes(StandardCharsets.US_ASCII));
                    s.getOutputStream().flush();
                    ByteArrayOutputStream rest = new ByteArrayOutputStream();
                    try {
                        in.transferTo(rest); // until the sidecar closes its side after the response
                    } catch (SocketTimeoutException e) {
                        rest.writeBytes("(connection left open)".getBytes(StandardCharsets.US_ASCII));
                    }
                    seen.add(new Seen(head, rest.toString(StandardCharsets.ISO_8859_1)));
                } catch (IOException e) {
                    if (!server.isClosed()) {
                        seen.add(new Seen("(failed: " + e + ")", ""));
                    }
                }
            }
        }

        private static String readHead(InputStream in) throws IOException {
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            int matched = 0;
            byte[] end = {'\r', '\n', '\r', '\n'};
            while (matched < 4) {
                int b = in.read();
                if (b < 0) {
                    throw new IOException("closed inside a request head: " + head);
                }
                head.write(b);
                matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
            }
            return head.toString(StandardCharsets.ISO_8859_1);
        }

        @Override
        public void close() throws Exception {
            server.close();
            thread.join(5_000);
        }
    }
}
