package dev.outrider.proxy.it;

import dev.outrider.core.testing.RedisServer;
import dev.outrider.proxy.Sidecar;
import dev.outrider.proxy.config.BootstrapLoader;
import dev.outrider.proxy.tls.TestPki;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * TCP ports through a real sidecar pair on loopback, with real servers behind B and real clients in front of A:
 * <pre>
 * client ──▶ A's TCP upstream port ══mTLS, CONNECT orders.shop:port══▶ B inbound ──▶ 127.0.0.1:port
 * </pre>
 * A Redis server (Debian's redis-server, driven by Lettuce), a server that speaks first and last (SMTP-like) and
 * an echo server. B declares their ports in {@code inbound.tcp.ports}; its policies allow frontend (A's identity)
 * on them, only another identity on the "denied" port, and, on the "http-only" port, a rule with {@code methods}
 * (which matches no TCP connection, as in Istio).
 */
class TcpPairTest {
    private static final String FRONTEND = "cluster.local/ns/shop/sa/frontend";
    private static final int MAX_PER_SOURCE = 4;

    @TempDir
    static Path dir;
    private static RedisServer redis;
    private static TcpTestServers greeting;
    private static TcpTestServers echo;
    private static TcpTestServers denied;
    private static TcpTestServers httpOnly;
    private static Pair pair;

    /** A and B, and A's TCP upstream port for each of B's ports. */
    record Pair(Sidecar a, Sidecar b, int redisPort, int greetingPort, int echoPort, int deniedPort,
                int httpOnlyPort) implements AutoCloseable {
        @Override
        public void close() {
            try {
                a.close();
            } finally {
                b.close();
            }
        }
    }

    @BeforeAll
    static void start() throws Exception {
        redis = RedisServer.start(dir.resolve("redis"));
        greeting = TcpTestServers.greeting();
        echo = TcpTestServers.echo();
        denied = TcpTestServers.greeting();
        httpOnly = TcpTestServers.greeting();
        pair = startPair(dir.resolve("pair"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (pair != null) {
            pair.close();
        }
        for (AutoCloseable c : new AutoCloseable[]{greeting, echo, denied, httpOnly, redis}) {
            if (c != null) {
                c.close();
            }
        }
    }

    static Pair startPair(Path where) throws Exception {
        Files.createDirectories(where);
        TestPki.Ca ca = TestPki.root("tcp pair root");
        ca.writeBundle(where.resolve("bundle.pem"));
        Path policies = Files.createDirectories(where.resolve("policies"));
        Files.writeString(policies.resolve("tcp.yaml"), """
                apiVersion: outrider.dev/v1
                kind: AuthorizationPolicy
                metadata: {name: tcp, namespace: shop}
                spec:
                  action: ALLOW
                  rules:
                    - from: [{source: {principals: ["%s"]}}]
                      to: [{operation: {ports: ["%d", "%d", "%d"]}}]
                    - from: [{source: {principals: ["cluster.local/ns/shop/sa/payments"]}}]
                      to: [{operation: {ports: ["%d"]}}]
                    - to: [{operation: {methods: [GET], ports: ["%d"]}}]
                """.formatted(FRONTEND, redis.port(), greeting.port(), echo.port(), denied.port(),
                httpOnly.port()));
        Sidecar b = Sidecar.start(BootstrapLoader.parse("""
                node: {service: orders, namespace: shop}
                inbound:
                  listen: 127.0.0.1:0
                  application: 127.0.0.1:1
                  tcp: {ports: [%d, %d, %d, %d, %d], maxConnectionsPerSource: %d}
                outbound: {listen: 127.0.0.1:0}
                health: {listen: 127.0.0.1:0}
                admin: {listen: 127.0.0.1:0}
                accessLog: {enabled: false}
                runtime: {eventLoops: 2, drainTimeout: 3s}
                policies: {directory: '%s', reloadInterval: 100ms}
                %s
                """.formatted(redis.port(), greeting.port(), echo.port(), denied.port(), httpOnly.port(),
                MAX_PER_SOURCE, policies, SidecarPair.tls(ca, where, "orders")), "sidecar-b"));
        try {
            int[] ports = new int[5];
            StringBuilder upstreams = new StringBuilder();
            int[] targets = {redis.port(), greeting.port(), echo.port(), denied.port(), httpOnly.port()};
            for (int i = 0; i < 5; i++) {
                ports[i] = SidecarPair.freePort();
                upstreams.append("    - {service: orders, port: %d, protocol: tcp, targetPort: %d}\n"
                        .formatted(ports[i], targets[i]));
            }
            Sidecar a = Sidecar.start(BootstrapLoader.parse("""
                    node: {service: frontend, namespace: shop}
                    inbound: {listen: 127.0.0.1:0, application: 127.0.0.1:1}
                    outbound:
                      listen: 127.0.0.1:0
                      upstreams:
                    %s
                    services:
                      - name: orders
                        namespace: shop
                        endpoints: ["127.0.0.1:%d"]
                    health: {listen: 127.0.0.1:0}
                    admin: {listen: 127.0.0.1:0}
                    accessLog: {enabled: false}
                    runtime: {eventLoops: 2, drainTimeout: 3s}
                    policies: {defaultAction: allow}
                    %s
                    """.formatted(upstreams, b.inboundAddress().getPort(),
                    SidecarPair.tls(ca, where, "frontend")), "sidecar-a"));
            return new Pair(a, b, ports[0], ports[1], ports[2], ports[3], ports[4]);
        } catch (Exception | Error e) {
            b.close();
            throw e;
        }
    }

    static Socket connect(int port) throws IOException {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
        s.setSoTimeout(10_000);
        return s;
    }

    static String readLine(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        for (int c; (c = in.read()) >= 0; ) {
            if (c == '\n') {
                return b.toString().strip();
            }
            b.append((char) c);
        }
        return b.isEmpty() ? null : b.toString();
    }

    static void send(OutputStream out, String line) throws IOException {
        out.write((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    @Test
    void redisThroughThePairWithLettuce() {
        double opened = Metrics.sum(pair.b(), "outrider_tcp_connections_opened_total", "direction", "inbound",
                "port", Integer.toString(redis.port()));
        RedisClient client = RedisClient.create("redis://127.0.0.1:" + pair.redisPort());
        try (StatefulRedisConnection<String, String> c = client.connect()) {
            assertThat(c.sync().ping()).isEqualTo("PONG");
            c.sync().set("tcp:key", "through the sidecars");
            assertThat(c.sync().get("tcp:key")).isEqualTo("through the sidecars");
        } finally {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        }
        assertThat(Metrics.sum(pair.b(), "outrider_tcp_connections_opened_total", "direction", "inbound",
                "port", Integer.toString(redis.port()))).isEqualTo(opened + 1);
        await().atMost(5, TimeUnit.SECONDS).untilAsserted(() -> {
            assertThat(Metrics.sum(pair.b(), "outrider_tcp_connections_closed_total", "direction", "inbound",
                    "port", Integer.toString(redis.port()))).isEqualTo(opened + 1);
            assertThat(Metrics.sum(pair.a(), "outrider_tcp_received_bytes_total", "direction", "outbound",
                    "port", Integer.toString(redis.port()))).isPositive();
            assertThat(Metrics.sum(pair.a(), "outrider_tcp_sent_bytes_total", "direction", "outbound",
                    "port", Integer.toString(redis.port()))).isPositive();
        });
    }

    @Test
    void serverSpeaksFirstAndLastWithHalfClose() throws Exception {
        try (Socket s = connect(pair.greetingPort())) {
            InputStream in = s.getInputStream();
            assertThat(readLine(in)).as("the server's greeting, before the client said anything")
                    .isEqualTo("220 ready");
            send(s.getOutputStream(), "helo outrider");
            assertThat(readLine(in)).isEqualTo("HELO OUTRIDER");
            send(s.getOutputStream(), "quit soon");
            s.shutdownOutput(); // FIN: the server answers what it got, then has the last word
            assertThat(readLine(in)).isEqualTo("QUIT SOON");
            assertThat(readLine(in)).isEqualTo("221 bye");
            assertThat(in.read()).as("then the server closes").isEqualTo(-1);
        }
    }

    @Test
    void clientBytesSentBeforeTheTunnelIsUpAreKept() throws Exception {
        try (Socket s = connect(pair.echoPort())) {
            OutputStream out = s.getOutputStream();
            out.write("early bytes".getBytes(StandardCharsets.US_ASCII)); // at once, before the CONNECT's 200
            out.flush();
            s.shutdownOutput();
            assertThat(new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII))
                    .isEqualTo("early bytes");
        }
    }

    @Test
    void largeTransferBothWaysWithBackpressure() throws Exception {
        byte[] data = new byte[12 * 1024 * 1024];
        new Random(23).nextBytes(data);
        try (Socket s = connect(pair.echoPort())) {
            s.setSoTimeout(60_000);
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    OutputStream out = s.getOutputStream();
                    for (int off = 0; off < data.length; off += 65536) {
                        out.write(data, off, Math.min(65536, data.length - off));
                    }
                    out.flush();
                    s.shutdownOutput();
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            MessageDigest got = MessageDigest.getInstance("SHA-256");
            long n = 0;
            InputStream in = s.getInputStream();
            byte[] buf = new byte[65536];
            for (int r; (r = in.read(buf)) >= 0; ) {
                got.update(buf, 0, r);
                n += r;
                if (n < 4 * 1024 * 1024) {
                    Thread.sleep(0, 100_000); // a slow reader for a while: the writer must wait, not the heap
                }
            }
            writer.get(60, TimeUnit.SECONDS);
            assertThat(n).isEqualTo(data.length);
            assertThat(got.digest()).isEqualTo(MessageDigest.getInstance("SHA-256").digest(data));
        }
        await().atMost(5, TimeUnit.SECONDS).untilAsserted(() -> assertThat(Metrics.sum(pair.b(),
                "outrider_tcp_received_bytes_total", "direction", "inbound", "port", Integer.toString(echo.port())))
                .isGreaterThanOrEqualTo(data.length));
    }

    @Test
    void anotherIdentitysPortIsRefusedAndNothingReachesTheServer() throws Exception {
        double refusedB = Metrics.sum(pair.b(), "outrider_tcp_connections_refused_total", "reason", "authz");
        double refusedA = Metrics.sum(pair.a(), "outrider_tcp_connections_refused_total", "reason",
                "upstream_refused");
        try (Socket s = connect(pair.deniedPort())) {
            assertThat(s.getInputStream().read()).as("the client sees a close").isEqualTo(-1);
        }
        assertThat(denied.accepted()).as("nothing reached the server").isZero();
        assertThat(Metrics.sum(pair.b(), "outrider_tcp_connections_refused_total", "reason", "authz"))
                .isEqualTo(refusedB + 1);
        assertThat(Metrics.sum(pair.a(), "outrider_tcp_connections_refused_total", "reason", "upstream_refused"))
                .isEqualTo(refusedA + 1);
    }

    @Test
    void anAllowRuleWithAnHttpOnlyFieldDoesNotMatchTcp() throws Exception {
        try (Socket s = connect(pair.httpOnlyPort())) {
            assertThat(s.getInputStream().read()).isEqualTo(-1);
        }
        assertThat(httpOnly.accepted()).isZero();
    }

    @Test
    void connectionsPerSourceAreLimited() throws Exception {
        double refused = Metrics.sum(pair.b(), "outrider_tcp_connections_refused_total", "reason", "source_limit");
        List<Socket> open = new ArrayList<>();
        try {
            for (int i = 0; i < MAX_PER_SOURCE; i++) {
                Socket s = connect(pair.greetingPort());
                open.add(s);
                assertThat(readLine(s.getInputStream())).isEqualTo("220 ready");
            }
            try (Socket over = connect(pair.greetingPort())) {
                assertThat(over.getInputStream().read()).as("one over the limit is closed").isEqualTo(-1);
            }
            assertThat(Metrics.sum(pair.b(), "outrider_tcp_connections_refused_total", "reason", "source_limit"))
                    .isEqualTo(refused + 1);
            open.removeFirst().close();
            await().atMost(5, TimeUnit.SECONDS).untilAsserted(() -> {
                try (Socket again = connect(pair.greetingPort())) {
                    assertThat(readLine(again.getInputStream())).as("a place was freed").isEqualTo("220 ready");
                }
            });
        } finally {
            for (Socket s : open) {
                s.close();
            }
        }
    }

    @Test
    void drainLeavesAnOpenConnectionWorkingUntilItCloses() throws Exception {
        try (Pair own = startPair(dir.resolve("drain"));
             Socket s = connect(own.greetingPort())) {
            InputStream in = s.getInputStream();
            assertThat(readLine(in)).isEqualTo("220 ready");
            own.b().drain();
            own.a().drain();
            await().atMost(2, TimeUnit.SECONDS).until(() -> own.a().isDraining() && own.b().isDraining());
            send(s.getOutputStream(), "still there");
            assertThat(readLine(in)).as("the tunnel keeps working during the drain").isEqualTo("STILL THERE");
            assertThat(own.b().terminated()).as("the drain waits for it").isNotDone();
            s.shutdownOutput();
            assertThat(readLine(in)).isEqualTo("221 bye");
            own.b().terminated().get(10, TimeUnit.SECONDS);
            own.a().terminated().get(10, TimeUnit.SECONDS);
        }
    }
}
