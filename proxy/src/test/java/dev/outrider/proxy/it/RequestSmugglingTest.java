package dev.outrider.proxy.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Ambiguous or malformed HTTP/1.1 framing sent on a raw socket to the outbound listener: each shape gets its
 * status and the connection closed (read returns -1 after the response), and nothing reaches the backend.
 * Limits: http.maxInitialLineLength 256 → 414, maxHeaderSize 1024 → 431, maxHeaderCount 10 → 431.
 */
class RequestSmugglingTest {
    private static TestBackend backend;
    private static SidecarPair pair;

    @BeforeAll
    static void start() throws Exception {
        backend = TestBackend.start();
        pair = SidecarPair.start(backend.port(), "http1", """
                http: {maxInitialLineLength: 256, maxHeaderSize: 1024, maxHeaderCount: 10}
                """, "");
    }

    @AfterAll
    static void stop() {
        if (pair != null) {
            pair.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    static Stream<Arguments> shapes() {
        String h = "POST /s HTTP/1.1\r\nHost: orders\r\n";
        return Stream.of(
                Arguments.of("Content-Length with Transfer-Encoding: chunked",
                        h + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
                Arguments.of("two differing Content-Length headers",
                        h + "Content-Length: 4\r\nContent-Length: 5\r\n\r\nabcde", 400),
                Arguments.of("comma-separated differing Content-Length",
                        h + "Content-Length: 4, 5\r\n\r\nabcde", 400),
                Arguments.of("space in a header name",
                        h + "Bad Header: x\r\nContent-Length: 0\r\n\r\n", 400),
                Arguments.of("space before the colon",
                        h + "Content-Length : 0\r\n\r\n", 400),
                Arguments.of("control character in a header name",
                        h + "X\u0001: y\r\nContent-Length: 0\r\n\r\n", 400),
                Arguments.of("control character in a header value",
                        h + "X-Ok: a\u0001b\r\nContent-Length: 0\r\n\r\n", 400),
                Arguments.of("bare LF line endings",
                        "POST /s HTTP/1.1\nHost: orders\nContent-Length: 0\n\n", 400),
                Arguments.of("bare LF inside the header block",
                        h + "X-A: 1\nContent-Length: 0\r\n\r\n", 400),
                Arguments.of("Transfer-Encoding: chunked, identity",
                        h + "Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", 400),
                Arguments.of("Transfer-Encoding: xchunked",
                        h + "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", 400),
                Arguments.of("two Transfer-Encoding headers, chunked not last",
                        h + "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n", 400),
                Arguments.of("request line over maxInitialLineLength",
                        "GET /" + "a".repeat(400) + " HTTP/1.1\r\nHost: orders\r\n\r\n", 414),
                Arguments.of("header block over maxHeaderSize",
                        h + "X-Big: " + "b".repeat(1200) + "\r\nContent-Length: 0\r\n\r\n", 431),
                Arguments.of("more header fields than maxHeaderCount",
                        h + "X-N: 1\r\n".repeat(12) + "Content-Length: 0\r\n\r\n", 431));
    }

    /**
     * RFC 9112 §5.2: a server MUST reject obs-fold (or replace it with SP). Netty's decoder unfolds it
     * silently; {@code Http1ServerCodec}'s decoder refuses it.
     */
    static Stream<Arguments> obsFold() {
        String h = "POST /s HTTP/1.1\r\nHost: orders\r\n";
        return Stream.of(
                Arguments.of("obs-fold (space continuation)",
                        h + "X-Folded: a\r\n b\r\nContent-Length: 0\r\n\r\n", 400),
                Arguments.of("obs-fold (tab continuation)",
                        h + "X-Folded: a\r\n\tb\r\nContent-Length: 0\r\n\r\n", 400));
    }

    @ParameterizedTest(name = "{0} → {2}")
    @MethodSource("obsFold")
    void obsFoldRejectedAndConnectionClosed(String name, String request, int status) throws Exception {
        rejectedAndConnectionClosed(name, request, status);
    }

    @ParameterizedTest(name = "{0} → {2}")
    @MethodSource("shapes")
    void rejectedAndConnectionClosed(String name, String request, int status) throws Exception {
        int forwardedBefore = backend.requestCount();
        String response;
        try (RawHttp raw = new RawHttp(pair.outbound())) {
            // Whatever follows a rejected request on the same connection must not be parsed as a request.
            // Sent in the same write, so the sidecar has read it all when it closes (unread bytes would make
            // the close a reset, which may discard the response before the client reads it).
            raw.send(request + "GET /smuggled HTTP/1.1\r\nHost: orders\r\n\r\n");
            response = raw.readToEof();
        }
        assertThat(response).startsWith("HTTP/1.1 " + status + " ");
        assertThat(response).as("exactly one response").containsOnlyOnce("HTTP/1.1 ");
        assertThat(response.toLowerCase()).contains("connection: close");
        assertThat(backend.requestCount()).as("nothing forwarded").isEqualTo(forwardedBefore);
    }

    @Test
    void wellFormedRequestOnTheSameListenerIsForwarded() throws Exception {
        backend.clear();
        try (RawHttp raw = new RawHttp(pair.outbound())) {
            raw.send("POST /ok HTTP/1.1\r\nHost: orders\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                    + "3\r\nabc\r\n0\r\n\r\n");
            assertThat(raw.readToEof()).startsWith("HTTP/1.1 200 ");
        }
        assertThat(backend.take().bodyLength()).isEqualTo(3);
    }

    @Test
    void theErrorResponseSurvivesAClientThatKeepsSending() throws Exception {
        try (RawHttp raw = new RawHttp(pair.outbound())) {
            // A body the sidecar will never forward: the request is rejected on its headers.
            raw.send("POST /s HTTP/1.1\r\nHost: orders\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\n");
            String head = raw.readHead();
            assertThat(RawHttp.status(head)).isEqualTo(400);
            // The client goes on sending after the response: a plain close would answer with a reset.
            raw.send("x".repeat(256 * 1024));
            assertThat(raw.readToEof()).contains("malformed request");
        }
    }
}
