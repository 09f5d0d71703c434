package dev.outrider.proxy.it;

import dev.outrider.proxy.Sidecar;
import dev.outrider.proxy.config.BootstrapLoader;
import dev.outrider.proxy.tls.TestPki;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The connection limits, with real sockets: on the inbound listener (mTLS) at most
 * {@code inbound.maxConnections} connections, and at most {@code inbound.maxConnectionsPerPeer} of one caller
 * identity; on the outbound listener at most {@code outbound.maxConnections}. The connection over a limit is
 * closed (before TLS for a listener limit, right after the handshake for the identity limit) and counted in
 * {@code outrider_connections_refused_total{direction, reason}}; once connections close, new ones are
 * accepted again (nothing leaks). The tests share one sidecar; each leaves no connection open.
 */
class ConnectionLimitTest {
    private static final String ORDERS = "spiffe://cluster.local/ns/shop/sa/orders";
    private static final String FRONTEND = "spiffe://cluster.local/ns/shop/sa/frontend";
    private static final String BILLING = "spiffe://cluster.local/ns/shop/sa/billing";
    private static final String REFUSED = "outrider_connections_refused_total";

    private static TestBackend backend;
    private static TestPki.Ca root;
    private static Sidecar sidecar;
    private static Path securityEvents;

    @BeforeAll
    static void start() throws Exception {
        backend = TestBackend.start();
        root = TestPki.root("limits root");
        Path dir = Files.createTempDirectory("outrider-limits");
        securityEvents = dir.resolve("security.log");
        TlsFiles files = TlsFiles.create(dir, TlsFiles.Layout.FILES);
        files.write(root.leaf().spiffe(ORDERS).issue(), root);
        sidecar = Sidecar.start(BootstrapLoader.parse("""
                node: {service: orders, namespace: shop}
                inbound:
                  listen: 127.0.0.1:0
                  application: 127.0.0.1:%d
                  maxConnections: 3
                  maxConnectionsPerPeer: 2
                outbound: {listen: 127.0.0.1:0, maxConnections: 2}
                health: {listen: 127.0.0.1:0}
                admin: {listen: 127.0.0.1:0}
                runtime: {eventLoops: 2, drainTimeout: 1s}
                accessLog: {enabled: false}
                policies: {defaultAction: allow}
                securityEvents: {path: '%s'}
                %s
                """.formatted(backend.port(), securityEvents, files.yaml(System.getProperty("outrider.test.tlsProvider", "auto"))),
                "sidecar-limits"));
    }

    @AfterAll
    static void stop() {
        if (sidecar != null) {
            sidecar.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    @Test
    void perIdentityLimitRefusesTheNextConnectionOfThatIdentityOnly() throws Exception {
        TestPki.Leaf frontend = root.leaf().spiffe(FRONTEND).issue();
        double before = refused("inbound", "peer_limit");
        List<RawHttp> open = new ArrayList<>();
        try {
            for (int i = 0; i < 2; i++) {
                open.add(RawHttp.mtls(inbound(), frontend));
                assertThat(open.getLast().served()).as("connection %d of the identity", i + 1).isTrue();
            }
            try (RawHttp third = connectOrNull(frontend)) {
                assertThat(third == null || !third.served()).as("the identity's third connection is refused").isTrue();
            }
            assertThat(refused("inbound", "peer_limit")).isEqualTo(before + 1);
            await().untilAsserted(() -> assertThat(Files.exists(securityEvents)
                    ? Files.readAllLines(securityEvents) : List.<String>of()).anySatisfy(line -> assertThat(line)
                    .contains("\"event\":\"connection_refused\"").contains("\"peer\":\"" + FRONTEND + "\"")
                    .contains("\"reason\":\"peer_limit: ").contains("\"remote_address\":\"127.0.0.1:")));
            try (RawHttp other = RawHttp.mtls(inbound(), root.leaf().spiffe(BILLING).issue())) {
                assertThat(other.served()).as("another identity is not affected").isTrue();
            }

            open.removeFirst().close();
            awaitActive(1); // one frontend connection left (billing's is closed too)
            try (RawHttp again = RawHttp.mtls(inbound(), frontend)) {
                assertThat(again.served()).as("accepted again once one closed").isTrue();
            }
        } finally {
            closeAll(open);
        }
        awaitActive(0);
    }

    @Test
    void listenerLimitRefusesTheConnectionBeyondItAtAccept() throws Exception {
        double before = refused("inbound", "listener_limit");
        List<RawHttp> open = new ArrayList<>();
        try {
            String[] identities = {FRONTEND, BILLING, FRONTEND};
            for (String id : identities) {
                open.add(RawHttp.mtls(inbound(), root.leaf().spiffe(id).issue()));
                assertThat(open.getLast().served()).isTrue();
            }
            try (RawHttp fourth = connectOrNull(root.leaf().spiffe(BILLING).issue())) {
                assertThat(fourth == null || !fourth.served()).as("the listener's fourth connection is refused").isTrue();
            }
            assertThat(refused("inbound", "listener_limit")).isEqualTo(before + 1);

            open.removeFirst().close();
            awaitActive(2);
            try (RawHttp again = RawHttp.mtls(inbound(), root.leaf().spiffe(BILLING).issue())) {
                assertThat(again.served()).as("accepted again once one closed").isTrue();
            }
        } finally {
            closeAll(open);
        }
        awaitActive(0);
    }

    @Test
    void outboundListenerLimit() throws Exception {
        double before = refused("outbound", "listener_limit");
        InetSocketAddress outbound = sidecar.outboundAddress();
        try (RawHttp first = new RawHttp(outbound); RawHttp second = new RawHttp(outbound)) {
            assertThat(answered(first)).isTrue();
            assertThat(answered(second)).isTrue();
            try (RawHttp third = new RawHttp(outbound)) {
                assertThat(answered(third)).as("the outbound listener's third connection is refused").isFalse();
            }
            assertThat(refused("outbound", "listener_limit")).isEqualTo(before + 1);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> active("outbound") == 0);
        try (RawHttp again = new RawHttp(outbound)) {
            assertThat(answered(again)).as("accepted again once the others closed").isTrue();
        }
    }

    private static InetSocketAddress inbound() {
        return sidecar.inboundAddress();
    }

    /** Connects; null when the server closed the connection during the handshake. */
    private static RawHttp connectOrNull(TestPki.Leaf leaf) {
        try {
            return RawHttp.mtls(inbound(), leaf);
        } catch (IOException e) {
            return null;
        }
    }

    /** A request on the outbound listener gets any HTTP response (no route is configured: an error status). */
    private static boolean answered(RawHttp raw) {
        try {
            raw.send("GET / HTTP/1.1\r\nHost: nowhere\r\n\r\n");
            String head = raw.readHead();
            raw.readBytes(RawHttp.contentLength(head));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static double refused(String direction, String reason) {
        return Metrics.sum(sidecar, REFUSED, "direction", direction, "reason", reason);
    }

    private static double active(String direction) {
        return Metrics.sum(sidecar, "outrider_active_connections", "direction", direction);
    }

    private static void awaitActive(int n) {
        await().atMost(Duration.ofSeconds(10)).until(() -> active("inbound") == n);
    }

    private static void closeAll(List<RawHttp> sockets) throws IOException {
        for (RawHttp s : sockets) {
            s.close();
        }
    }
}
