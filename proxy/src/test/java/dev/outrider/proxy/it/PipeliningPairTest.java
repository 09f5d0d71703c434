package dev.outrider.proxy.it;

import dev.outrider.proxy.Sidecar;
import dev.outrider.proxy.tls.TestPki;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * HTTP/1.1 pipelining: requests sent back to back in one write, without waiting for responses, are all
 * forwarded, one after another, and answered in order on the same connection; the connection stays usable
 * afterwards (or closes when the last request asks for it). What the sidecar answers itself (400 for a
 * malformed request, 100 Continue, 403 from B's policy) comes in its request's turn too. On A's outbound
 * listener (plaintext, from the application) and on an inbound listener (mTLS, HTTP/1.1 by ALPN fallback,
 * default allow with a DENY rule for {@code /denied-path}).
 */
class PipeliningPairTest {
    private static final String ORDERS = "spiffe://cluster.local/ns/shop/sa/orders";
    private static final String FRONTEND = "spiffe://cluster.local/ns/shop/sa/frontend";

    private static TestBackend backend;
    private static SidecarPair pair;
    private static TestPki.Ca inboundRoot;
    private static Sidecar inbound;

    @BeforeAll
    static void start() throws Exception {
        backend = TestBackend.start();
        pair = SidecarPair.start(backend.port(), "http1");
        inboundRoot = TestPki.root("pipelining root");
        TlsFiles files = TlsFiles.create(Files.createTempDirectory("outrider-pipelining"), TlsFiles.Layout.FILES);
        files.write(inboundRoot.leaf().spiffe(ORDERS).issue(), inboundRoot);
        Path policies = Files.createTempDirectory("outrider-pipelining-policies");
        Files.writeString(policies.resolve("deny.yaml"), """
                apiVersion: outrider.dev/v1
                kind: AuthorizationPolicy
                metadata: {name: deny-path, namespace: shop}
                spec:
                  action: DENY
                  rules:
                    - to: [{operation: {paths: ["/denied-path"]}}]
                """);
        inbound = MeshSidecars.inbound("orders", backend.port(), files.yaml("auto"),
                "policies: {directory: '" + policies + "', defaultAction: allow}");
    }

    @AfterAll
    static void stop() {
        if (inbound != null) {
            inbound.close();
        }
        if (pair != null) {
            pair.close();
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
    void twoPipelinedGetsAreAnsweredInOrder() throws Exception {
        try (RawHttp raw = new RawHttp(pair.outbound())) {
            raw.send(get("/status/200", false) + get("/status/201", true));

            List<Response> responses = Response.parseAll(raw.readToEof());

            assertThat(responses).extracting(Response::status).containsExactly(200, 201);
            assertThat(responses.getLast().header("connection")).isEqualTo("close");
        }
        assertThat(backend.take().uri()).isEqualTo("/status/200");
        assertThat(backend.take().uri()).isEqualTo("/status/201");
    }

    @Test
    void threePipelinedGetsAreAnsweredInOrder() throws Exception {
        try (RawHttp raw = new RawHttp(pair.outbound())) {
            raw.send(get("/status/200", false) + get("/status/201", false) + get("/status/202", true));

            List<Response> responses = Response.parseAll(raw.readToEof());

            assertThat(responses).extracting(Response::status).containsExactly(200, 201, 202);
            assertThat(responses).extracting(Response::body).containsExactly("status\n", "status\n", "status\n");
        }
        assertThat(backend.take().uri()).isEqualTo("/status/200");
        assertThat(backend.take().uri()).isEqualTo("/status/201");
        assertThat(backend.take().uri()).isEqualTo("/status/202");
    }

    @Test
    void postWithBodyThenPipelinedGet() throws Exception {
        try (RawHttp raw = new RawHttp(pair.outbound())) {
            raw.send("POST /echo HTTP/1.1\r\nHost: orders\r\nContent-Length: 5\r\n\r\nhello"
                    + get("/status/201", true));

            List<Response> responses = Response.parseAll(raw.readToEof());

            assertThat(responses).extracting(Response::status).containsExactly(200, 201);
            assertThat(responses.get(0).body()).isEqualTo("5 " + sha256("hello"));
        }
        TestBackend.Received post = backend.take();
        assertThat(post.method()).isEqualTo("POST");
        assertThat(post.uri()).isEqualTo("/echo");
        assertThat(post.bodyLength()).isEqualTo(5);
        assertThat(post.bodySha256()).isEqualTo(sha256("hello"));
        TestBackend.Received get = backend.take();
        assertThat(get.method()).isEqualTo("GET");
        assertThat(get.uri()).isEqualTo("/status/201");
    }

    @Test
    void pipelinedBodiesOfSeveralRequestsStayWithTheirRequests() throws Exception {
        try (RawHttp raw = new RawHttp(pair.outbound())) {
            raw.send("POST /a HTTP/1.1\r\nHost: orders\r\nContent-Length: 3\r\n\r\nabc"
                    + "POST /b HTTP/1.1\r\nHost: orders\r\nTransfer-Encoding: chunked\r\n\r\n4\r\ndefg\r\n0\r\n\r\n"
                    + "POST /c HTTP/1.1\r\nHost: orders\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi");

            List<Response> responses = Response.parseAll(raw.readToEof());

            assertThat(responses).extracting(Response::body)
                    .containsExactly("3 " + sha256("abc"), "4 " + sha256("defg"), "2 " + sha256("hi"));
        }
        assertThat(backend.take().bodySha256()).isEqualTo(sha256("abc"));
        assertThat(backend.take().bodySha256()).isEqualTo(sha256("defg"));
        assertThat(backend.take().bodySha256()).isEqualTo(sha256("hi"));
    }

    @Test
    void connectionStaysUsableAfterAPipelinedBatch() throws Exception {
        try (RawHttp raw = new RawHttp(pair.outbound())) {
            raw.send(get("/status/200", false) + get("/status/201", false));
            Response first = Response.read(raw);
            Response second = Response.read(raw);
            assertThat(first.status()).isEqualTo(200);
            assertThat(second.status()).isEqualTo(201);
            assertThat(second.header("connection")).isNotEqualTo("close");

            raw.send(get("/status/202", false) + get("/status/203", true));
            List<Response> rest = Response.parseAll(raw.readToEof());
            assertThat(rest).extracting(Response::status).containsExactly(202, 203);
        }
        for (String uri : List.of("/status/200", "/status/201", "/status/202", "/status/203")) {
            assertThat(backend.take().uri()).isEqualTo(uri);
        }
    }

    @Test
    void pipelinedRequestAfterALocalResponse() throws Exception {
        try (RawHttp raw = new RawHttp(pair.outbound())) {
            raw.send(get("/status/200", false)
                    + "GET /x HTTP/1.1\r\nHost: unknown-service\r\n\r\n"
                    + get("/status/201", true));

            List<Response> responses = Response.parseAll(raw.readToEof());

            // The second has no route: answered by the sidecar, in its place; the third still reaches the backend.
            assertThat(responses).extracting(Response::status).containsExactly(200, 404, 201);
        }
        assertThat(backend.take().uri()).isEqualTo("/status/200");
        assertThat(backend.take().uri()).isEqualTo("/status/201");
    }

    /**
     * The sidecar holds at most 16 requests behind the one in progress
     * ({@code Http1PipeliningHandler.MAX_HELD_REQUESTS}): the requests after those are dropped, unseen by the
     * backend, and the connection closes after the response to the last held one, which says so. 40 short
     * requests in one write arrive in one read (or a few), so between 17 and 39 are answered.
     */
    @Test
    void tooDeepAPipelineIsAnsweredInPartThenClosed() throws Exception {
        int sent = 40;
        StringBuilder batch = new StringBuilder();
        for (int i = 0; i < sent; i++) {
            batch.append(get("/status/200?i=" + i, i == sent - 1));
        }
        int before = backend.requestCount();
        List<Response> responses;
        try (RawHttp raw = new RawHttp(pair.outbound())) {
            raw.send(batch.toString());
            responses = Response.parseAll(raw.readToEof());
        }
        assertThat(responses).hasSizeBetween(17, sent - 1);
        assertThat(responses).extracting(Response::status).containsOnly(200);
        assertThat(responses.subList(0, responses.size() - 1)).extracting(r -> r.header("connection"))
                .doesNotContain("close");
        assertThat(responses.getLast().header("connection")).isEqualTo("close");
        for (int i = 0; i < responses.size(); i++) {
            assertThat(backend.take().uri()).isEqualTo("/status/200?i=" + i);
        }
        assertThat(backend.requestCount() - before).isEqualTo(responses.size());
    }

    @Test
    void inboundListenerAnswersPipelinedRequestsInOrder() throws Exception {
        String all = inboundExchange(get("/status/200", false)
                + "POST /echo HTTP/1.1\r\nHost: orders\r\nContent-Length: 5\r\n\r\nhello"
                + get("/status/202", true));

        List<Response> responses = Response.parseAll(all);

        assertThat(responses).extracting(Response::status).containsExactly(200, 200, 202);
        assertThat(responses.get(1).body()).isEqualTo("5 " + sha256("hello"));
        assertThat(backend.take().uri()).isEqualTo("/status/200");
        assertThat(backend.take().uri()).isEqualTo("/echo");
        assertThat(backend.take().uri()).isEqualTo("/status/202");
    }

    // ---- local answers to a pipelined request come after the response to the request before it

    /**
     * A malformed request behind a slow one: the guard's 400 (and the close) waits for the slow response, so
     * the client does not take the 400 for the answer to its first request (RFC 9112 §9.3.2).
     */
    @Test
    void malformedPipelinedRequestIsRefusedAfterTheResponseBeforeIt() throws Exception {
        int before = backend.requestCount();
        try (RawHttp raw = new RawHttp(pair.outbound())) {
            raw.send(get("/delay?ms=300", false) + "GET /next HTTP/1.1\r\nHost: orders\r\nBad Header: x\r\n\r\n");

            List<Response> responses = Response.parseAll(raw.readToEof());

            assertThat(responses).extracting(Response::status).containsExactly(200, 400);
            assertThat(responses.get(0).body()).isEqualTo("late\n");
            assertThat(responses.get(1).header("connection")).isEqualTo("close");
        }
        assertThat(backend.take().uri()).isEqualTo("/delay?ms=300");
        assertThat(backend.requestCount() - before).as("the malformed request is not forwarded").isEqualTo(1);
    }

    /** {@code 100 Continue} answers the pipelined request: it is sent when that request's turn comes. */
    @Test
    void continueForAPipelinedRequestComesAfterTheResponseBeforeIt() throws Exception {
        try (RawHttp raw = new RawHttp(pair.outbound())) {
            raw.send(get("/delay?ms=300", false)
                    + "POST /echo HTTP/1.1\r\nHost: orders\r\nExpect: 100-continue\r\nContent-Length: 5\r\n"
                    + "Connection: close\r\n\r\nhello");

            List<Response> responses = Response.parseAll(raw.readToEof());

            assertThat(responses).extracting(Response::status).containsExactly(200, 100, 200);
            assertThat(responses.get(0).body()).isEqualTo("late\n");
            assertThat(responses.get(2).body()).isEqualTo("5 " + sha256("hello"));
        }
        assertThat(backend.take().uri()).isEqualTo("/delay?ms=300");
        TestBackend.Received post = backend.take();
        assertThat(post.uri()).isEqualTo("/echo");
        assertThat(post.bodySha256()).isEqualTo(sha256("hello"));
    }

    /**
     * Inbound: a request B's policy denies, behind a slow allowed one: 200 then 403, and the connection goes
     * on with the next request.
     */
    @Test
    void deniedPipelinedRequestIsAnsweredAfterTheResponseBeforeIt() throws Exception {
        int before = backend.requestCount();
        String all = inboundExchange(get("/delay?ms=300", false) + get("/denied-path", false)
                + get("/status/202", true));

        List<Response> responses = Response.parseAll(all);

        assertThat(responses).extracting(Response::status).containsExactly(200, 403, 202);
        assertThat(responses.get(0).body()).isEqualTo("late\n");
        assertThat(backend.take().uri()).isEqualTo("/delay?ms=300");
        assertThat(backend.take().uri()).isEqualTo("/status/202");
        assertThat(backend.requestCount() - before).as("the denied request is not forwarded").isEqualTo(2);
    }

    /** Sends {@code requests} in one write to the inbound listener (mTLS as frontend, HTTP/1.1); reads to EOF. */
    private static String inboundExchange(String requests) throws IOException {
        try (RawHttp raw = RawHttp.mtls(inbound.inboundAddress(), inboundRoot.leaf().spiffe(FRONTEND).issue())) {
            raw.send(requests);
            return raw.readToEof();
        }
    }

    private static String get(String path, boolean close) {
        return "GET " + path + " HTTP/1.1\r\nHost: orders\r\n" + (close ? "Connection: close\r\n" : "") + "\r\n";
    }

    private static String sha256(String s) {
        return TestBackend.sha256(s.getBytes(StandardCharsets.UTF_8));
    }

    /** One HTTP/1.1 response: status, headers (lower-case names, last value wins), body (de-chunked). */
    record Response(int status, Map<String, String> headers, String body) {
        String header(String name) {
            return headers.get(name);
        }

        /** Reads one response from the connection (Content-Length framing; what the sidecar sends here). */
        static Response read(RawHttp raw) throws IOException {
            String head = raw.readHead();
            Response r = parseHead(head, "");
            String length = r.header("content-length");
            assertThat(length).as("Content-Length in\n%s", head).isNotNull();
            return new Response(r.status(), r.headers(), raw.readBytes(Integer.parseInt(length)));
        }

        /** Every response in {@code text}, which must end exactly after the last one. */
        static List<Response> parseAll(String text) {
            List<Response> responses = new ArrayList<>();
            int at = 0;
            while (at < text.length()) {
                int headEnd = text.indexOf("\r\n\r\n", at);
                assertThat(headEnd).as("a complete response head at %d in\n%s", at, text).isGreaterThan(0);
                Response r = parseHead(text.substring(at, headEnd + 4), "");
                at = headEnd + 4;
                String length = r.header("content-length");
                StringBuilder body = new StringBuilder();
                if (length != null) {
                    int n = Integer.parseInt(length);
                    body.append(text, at, at + n);
                    at += n;
                } else if ("chunked".equals(r.header("transfer-encoding"))) {
                    while (true) {
                        int lineEnd = text.indexOf("\r\n", at);
                        int size = Integer.parseInt(text.substring(at, lineEnd).trim(), 16);
                        at = lineEnd + 2;
                        if (size == 0) {
                            at = text.indexOf("\r\n\r\n", at - 2) + 4; // no trailers expected
                            break;
                        }
                        body.append(text, at, at + size);
                        at += size + 2;
                    }
                }
                responses.add(new Response(r.status(), r.headers(), body.toString()));
            }
            return responses;
        }

        private static Response parseHead(String head, String body) {
            String[] lines = head.split("\r\n");
            assertThat(lines[0]).startsWith("HTTP/1.1 ");
            Map<String, String> headers = new LinkedHashMap<>();
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                if (colon > 0) {
                    headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT),
                            lines[i].substring(colon + 1).trim());
                }
            }
            return new Response(RawHttp.status(lines[0]), headers, body);
        }
    }
}
