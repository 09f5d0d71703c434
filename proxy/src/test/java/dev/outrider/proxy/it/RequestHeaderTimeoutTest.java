package dev.outrider.proxy.it;

import dev.outrider.proxy.Sidecar;
import dev.outrider.proxy.tls.TestPki;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2Headers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code http.requestHeaderTimeout} on the inbound listener (mTLS, real sockets), set to 1 s here: a caller
 * that drips its header block, or sends half of it and stops, or completes the handshake and sends nothing,
 * gets 408 on HTTP/1.1 (GOAWAY on HTTP/2) and the connection closes; nothing reaches the application. A
 * keep-alive connection that waits idle between requests is not touched by it.
 */
class RequestHeaderTimeoutTest {
    private static final String ORDERS = "spiffe://cluster.local/ns/shop/sa/orders";
    private static final String FRONTEND = "spiffe://cluster.local/ns/shop/sa/frontend";
    private static final int GOAWAY = 0x7;

    private static TestBackend backend;
    private static TestPki.Ca root;
    private static Sidecar inbound;

    @BeforeAll
    static void start() throws Exception {
        backend = TestBackend.start();
        root = TestPki.root("header timeout root");
        TlsFiles files = TlsFiles.create(Files.createTempDirectory("outrider-header-timeout"), TlsFiles.Layout.FILES);
        files.write(root.leaf().spiffe(ORDERS).issue(), root);
        inbound = MeshSidecars.inbound("orders", backend.port(),
                files.yaml(System.getProperty("outrider.test.tlsProvider", "auto")),
                "http: {requestHeaderTimeout: 1s}");
    }

    @AfterAll
    static void stop() {
        if (inbound != null) {
            inbound.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    @BeforeEach
    void clear() {
        backend.clear();
    }

    @Test
    void headerBlockDrippedAByteAtATimeGets408AndClose() throws Exception {
        int before = backend.requestCount();
        try (RawHttp s = connect()) {
            s.send("GET /slow HTTP/1.1\r\nHost: orders\r\nX-Slow: ");
            AtomicBoolean stop = new AtomicBoolean();
            Thread drip = Thread.ofVirtual().start(() -> {
                try {
                    for (int i = 0; i < 40 && !stop.get(); i++) { // bounded: 12 s at most
                        Thread.sleep(300);
                        s.send("a");
                    }
                } catch (IOException | InterruptedException e) {
                    // the server closed the connection: the drip is over
                }
            });
            String answer;
            try {
                answer = new String(s.readToEofOrReset(), StandardCharsets.ISO_8859_1);
            } finally {
                stop.set(true);
                drip.join();
            }
            assertThat(answer).startsWith("HTTP/1.1 408 ");
            assertThat(answer).containsIgnoringCase("connection: close");
        }
        assertThat(backend.requestCount()).isEqualTo(before);
    }

    @Test
    void halfSentHeaderBlockGets408AndClose() throws Exception {
        int before = backend.requestCount();
        try (RawHttp s = connect()) {
            s.send("GET /half HTTP/1.1\r\nHost: orders\r\nX-Half: abc");
            String answer = new String(s.readToEofOrReset(), StandardCharsets.ISO_8859_1);
            assertThat(answer).startsWith("HTTP/1.1 408 ");
        }
        assertThat(backend.requestCount()).isEqualTo(before);
    }

    @Test
    void connectionThatSendsNothingAfterTheHandshakeGets408AndClose() throws Exception {
        try (RawHttp s = connect()) {
            String answer = new String(s.readToEofOrReset(), StandardCharsets.ISO_8859_1);
            assertThat(answer).startsWith("HTTP/1.1 408 ");
        }
    }

    @Test
    void keepAliveConnectionIdleBetweenRequestsIsNotClosedByTheHeaderTimeout() throws Exception {
        int before = backend.requestCount();
        try (RawHttp s = connect()) {
            assertThat(s.served()).isTrue();
            Thread.sleep(2_500); // idle for longer than the header timeout: only http.idleTimeout applies
            s.send("GET /again HTTP/1.1\r\nHost: orders\r\n\r\n");
            assertThat(s.readHead()).startsWith("HTTP/1.1 200 ");
        }
        assertThat(backend.requestCount() - before).isEqualTo(2);
    }

    @Test
    void http2ConnectionWhoseFirstHeadersNeverComeIsClosedWithGoaway() throws Exception {
        int before = backend.requestCount();
        try (RawHttp s = connect("h2")) {
            s.send(concat(PREFACE, frame(0x4, 0, 0, new byte[0])));
            List<Integer> types = frameTypes(s.readToEofOrReset());
            assertThat(types).contains(GOAWAY);
        }
        assertThat(backend.requestCount()).isEqualTo(before);
    }

    @Test
    void http2HeaderBlockDrippedInContinuationFramesIsClosedWithGoaway() throws Exception {
        int before = backend.requestCount();
        try (RawHttp s = connect("h2")) {
            // a complete request first: the connection's first request is not what is timed here
            s.send(concat(PREFACE, frame(0x4, 0, 0, new byte[0]),
                    frame(0x1, 0x1 | 0x4, 1, headerBlock(1, "/first")))); // END_STREAM | END_HEADERS
            // HEADERS without END_HEADERS, then one CONTINUATION (END_HEADERS) whose payload comes a byte at a
            // time and never completes. (Netty itself refuses more than 16 small CONTINUATION frames per block;
            // what it cannot bound is the time one frame takes.)
            byte[] block = headerBlock(3, "/dripped");
            byte[] rest = Arrays.copyOfRange(block, 1, block.length);
            byte[] continuation = frame(0x9, 0x4, 3, rest);
            s.send(concat(frame(0x1, 0x1, 3, Arrays.copyOf(block, 1)), Arrays.copyOf(continuation, 9)));
            AtomicBoolean stop = new AtomicBoolean();
            Thread drip = Thread.ofVirtual().start(() -> {
                try {
                    for (int i = 9; i < continuation.length - 1 && i < 49 && !stop.get(); i++) { // never the last byte
                        Thread.sleep(300);
                        s.send(new byte[] {continuation[i]});
                    }
                } catch (IOException | InterruptedException e) {
                    // closed by the server
                }
            });
            List<Integer> types;
            try {
                types = frameTypes(s.readToEofOrReset());
            } finally {
                stop.set(true);
                drip.join();
            }
            assertThat(types).contains(GOAWAY);
        }
        assertThat(backend.requestCount() - before).as("only the complete request").isEqualTo(1);
    }

    private static RawHttp connect(String... alpn) throws IOException {
        InetSocketAddress at = inbound.inboundAddress();
        return RawHttp.mtls(at, root.leaf().spiffe(FRONTEND).issue(), alpn);
    }

    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    /** An HPACK-encoded request header block (RFC 7541), made by Netty's encoder. */
    private static byte[] headerBlock(int streamId, String path) throws Exception {
        Http2Headers headers = new DefaultHttp2Headers().method("GET").scheme("https").authority("orders")
                .path(path).add("x-padding", "p".repeat(40));
        ByteBuf buf = Unpooled.buffer();
        try {
            new DefaultHttp2HeadersEncoder().encodeHeaders(streamId, headers, buf);
            return ByteBufUtil.getBytes(buf);
        } finally {
            buf.release();
        }
    }

    /** One HTTP/2 frame (RFC 9113 §4.1): 24-bit length, type, flags, stream id, payload. */
    private static byte[] frame(int type, int flags, int streamId, byte[] payload) {
        byte[] f = new byte[9 + payload.length];
        f[0] = (byte) (payload.length >>> 16);
        f[1] = (byte) (payload.length >>> 8);
        f[2] = (byte) payload.length;
        f[3] = (byte) type;
        f[4] = (byte) flags;
        f[5] = (byte) (streamId >>> 24);
        f[6] = (byte) (streamId >>> 16);
        f[7] = (byte) (streamId >>> 8);
        f[8] = (byte) streamId;
        System.arraycopy(payload, 0, f, 9, payload.length);
        return f;
    }

    /** The types of the frames in what the server sent, in order (a truncated last frame is left out). */
    private static List<Integer> frameTypes(byte[] bytes) {
        List<Integer> types = new ArrayList<>();
        int i = 0;
        while (i + 9 <= bytes.length) {
            int length = (bytes[i] & 0xff) << 16 | (bytes[i + 1] & 0xff) << 8 | (bytes[i + 2] & 0xff);
            types.add(bytes[i + 3] & 0xff);
            i += 9 + length;
        }
        return types;
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
