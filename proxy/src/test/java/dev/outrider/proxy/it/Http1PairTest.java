package dev.outrider.proxy.it;

import dev.outrider.proxy.tls.TestPki;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * HTTP/1.1 through the sidecar pair with the JDK client: routing, forwarding headers, hop-by-hop removal,
 * request bodies, Expect: 100-continue, local 404/400.
 * (Host, Connection and Upgrade are restricted headers in the JDK client; the surefire configuration allows
 * them through {@code jdk.httpclient.allowRestrictedHeaders}.)
 */
class Http1PairTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static TestBackend backend;
    private static SidecarPair pair;
    private static HttpClient client;

    @BeforeAll
    static void start() throws Exception {
        backend = TestBackend.start();
        pair = SidecarPair.start(backend.port(), "http1");
        client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(TIMEOUT).build();
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.close();
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

    private static HttpRequest.Builder get(InetSocketAddress at, String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + at.getPort() + path)).timeout(TIMEOUT);
    }

    private static HttpResponse<String> send(HttpRequest request) throws Exception {
        return client.send(request, HttpResponse.BodyHandlers.ofString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"orders", "orders.shop", "orders.shop.svc.cluster.local:80"})
    void hostHeaderRoutesThroughThePair(String host) throws Exception {
        HttpResponse<String> r = send(get(pair.outbound(), "/hello?x=1").header("Host", host).build());

        assertThat(r.statusCode()).isEqualTo(200);
        TestBackend.Received seen = backend.take();
        assertThat(seen.protocol()).isEqualTo("HTTP/1.1");
        assertThat(seen.uri()).isEqualTo("/hello?x=1");
        assertThat(seen.headers().get("x-request-id")).isNotBlank();
        assertThat(seen.headers().get("x-forwarded-for")).contains("127.0.0.1");
        assertThat(seen.headers().get("x-forwarded-proto")).as("B sets it from its own mTLS listener")
                .isEqualTo("https");
        assertThat(r.headers().firstValue("x-request-id")).isEmpty(); // only local responses carry it
    }

    @Test
    void explicitUpstreamPortRoutesWithoutHost() throws Exception {
        HttpResponse<String> r = send(get(new InetSocketAddress("127.0.0.1", pair.upstreamPort), "/by-port")
                .header("Host", "something-else").build());

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(backend.take().uri()).isEqualTo("/by-port");
    }

    @Test
    void hopByHopHeadersAreRemovedAndEndToEndOnesKept() throws Exception {
        HttpResponse<String> r = send(get(pair.outbound(), "/hop").header("Host", "orders")
                .header("Connection", "foo")
                .header("foo", "connection-scoped")
                .header("Keep-Alive", "timeout=5")
                .header("Upgrade", "websocket")
                .header("Proxy-Connection", "keep-alive")
                .header("TE", "gzip")
                .header("x-end-to-end", "kept")
                .header("x-request-id", "client-chosen-id")
                .build());

        assertThat(r.statusCode()).isEqualTo(200);
        var headers = backend.take().headers();
        assertThat(headers.contains("foo")).as("field named in Connection").isFalse();
        assertThat(headers.contains("keep-alive")).isFalse();
        assertThat(headers.contains("upgrade")).isFalse();
        assertThat(headers.contains("proxy-connection")).isFalse();
        assertThat(headers.contains("te")).isFalse();
        assertThat(headers.getAll("connection")).allSatisfy(v -> assertThat(v).doesNotContainIgnoringCase("foo"));
        assertThat(headers.get("x-end-to-end")).isEqualTo("kept");
        assertThat(headers.getAll("x-request-id")).containsExactly("client-chosen-id");
    }

    @Test
    void contentLengthUploadArrivesIntact() throws Exception {
        byte[] body = randomBytes(300_000, 1);
        HttpResponse<String> r = send(get(pair.outbound(), "/upload").header("Host", "orders")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build());

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo(body.length + " " + TestBackend.sha256(body));
        TestBackend.Received seen = backend.take();
        assertThat(seen.bodySha256()).isEqualTo(TestBackend.sha256(body));
    }

    @Test
    void chunkedUploadArrivesIntact() throws Exception {
        byte[] body = randomBytes(500_000, 2);
        // An InputStream publisher of unknown length makes the JDK client send Transfer-Encoding: chunked.
        HttpResponse<String> r = send(get(pair.outbound(), "/upload").header("Host", "orders")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> (InputStream) new ByteArrayInputStream(body)))
                .build());

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo(body.length + " " + TestBackend.sha256(body));
    }

    @Test
    void bigStreamedResponseArrivesIntact() throws Exception {
        int size = 3 * 1024 * 1024 + 17;
        HttpResponse<byte[]> r = client.send(get(pair.outbound(), "/big?bytes=" + size).header("Host", "orders")
                .build(), HttpResponse.BodyHandlers.ofByteArray());

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).hasSize(size);
        for (int i = 0; i < size; i += 4099) {
            assertThat(r.body()[i]).isEqualTo((byte) (i % 251));
        }
    }

    @Test
    void expectContinueGets100ThenTheResponse() throws Exception {
        try (RawHttp raw = new RawHttp(pair.outbound())) {
            raw.send("POST /continue HTTP/1.1\r\nHost: orders\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
            assertThat(RawHttp.status(raw.readHead())).isEqualTo(100);
            raw.send("hello");
            String head = raw.readHead();
            assertThat(RawHttp.status(head)).isEqualTo(200);
        }
        assertThat(backend.take().bodySha256()).isEqualTo(TestBackend.sha256("hello".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void connectionCloseFromTheCallerClosesAfterTheResponse() throws Exception {
        try (RawHttp raw = new RawHttp(pair.outbound())) {
            raw.send("GET /bye HTTP/1.1\r\nHost: orders\r\nConnection: close\r\n\r\n");
            String all = raw.readToEof();
            assertThat(all).startsWith("HTTP/1.1 200 ");
            assertThat(all.toLowerCase()).contains("connection: close");
        }
    }

    @Test
    void http10WithoutKeepAliveClosesAfterTheResponse() throws Exception {
        try (RawHttp raw = new RawHttp(pair.outbound())) {
            raw.send("GET /old HTTP/1.0\r\nHost: orders\r\n\r\n");
            assertThat(raw.readToEof()).startsWith("HTTP/1.1 200 ");
        }
    }

    @Test
    void unknownServiceGets404NamingIt() throws Exception {
        HttpResponse<String> r = send(get(pair.outbound(), "/").header("Host", "payments").build());

        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(r.body()).contains("no route to service 'payments.shop'");
        HttpResponse<String> shop = send(get(pair.outbound(), "/").header("Host", "payments.shop.svc").build());
        assertThat(shop.statusCode()).isEqualTo(404);
        assertThat(shop.body()).contains("payments.shop");
    }

    @Test
    void nameDotNamespaceOfANamespaceWithoutServicesHereIsRefusedAsEgress() throws Exception {
        // As a Host, payments.billing reads like github.com: no mesh service of this snapshot, no ServiceEntry.
        HttpResponse<String> r = send(get(pair.outbound(), "/").header("Host", "payments.billing").build());

        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(r.body()).contains("'payments.billing'").contains("no mesh service of that name")
                .contains("not in the egress allow-list");
    }

    @Test
    void theJdkClientsH2cOfferIsIgnoredAndAnsweredInHttp11() throws Exception {
        // HttpClient's default (HTTP/2) offers Upgrade: h2c on a first cleartext request: not refused, not forwarded
        try (HttpClient h2Preferring = HttpClient.newBuilder().connectTimeout(TIMEOUT).build()) {
            HttpResponse<String> r = h2Preferring.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + pair.upstreamPort + "/h2c-offer")).timeout(TIMEOUT).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
        }
        var headers = backend.take().headers();
        assertThat(headers.contains("upgrade")).isFalse();
        assertThat(headers.contains("http2-settings")).isFalse();
    }

    @Test
    void aConnectIsNeverForwardedNeitherByTheOutboundListenerNorByAnInboundOneWithoutTcpPorts() throws Exception {
        int before = backend.requestCount();
        try (RawHttp raw = new RawHttp(pair.outbound())) {
            raw.send("CONNECT orders:22 HTTP/1.1\r\nHost: orders:22\r\n\r\n");
            assertThat(RawHttp.status(raw.readHead())).isEqualTo(405);
        }
        try (RawHttp raw = RawHttp.mtls(pair.b.inboundAddress(), pair.ca.leaf()
                .spiffe(TestPki.spiffe("cluster.local", "shop", "frontend")).issue())) {
            raw.send("CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n");
            // no TCP port declared: no tunnel handler; path normalization refuses the authority-form target
            assertThat(RawHttp.status(raw.readHead())).isEqualTo(400);
        }
        assertThat(backend.requestCount()).as("nothing reached the application").isEqualTo(before);
    }

    @Test
    void missingHostOnHttp11Gets400AndClose() throws Exception {
        try (RawHttp raw = new RawHttp(pair.outbound())) {
            raw.send("GET / HTTP/1.1\r\n\r\n");
            assertThat(RawHttp.status(raw.readHead())).isEqualTo(400);
            raw.readToEof();
        }
    }

    @Test
    void clientsDisconnectingLeaveThePairWorking() throws Exception {
        try (RawHttp raw = new RawHttp(pair.outbound())) {
            raw.send("GET /delay?ms=200 HTTP/1.1\r\nHost: orders\r\n\r\n");
        }
        // The abandoned exchange's upstream connections must not be reused: its late response would be
        // taken for this one.
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> r = send(get(pair.outbound(), "/after").header("Host", "orders").build());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("0 " + TestBackend.sha256(new byte[0]));
        }
    }

    private static byte[] randomBytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }
}
