package dev.outrider.proxy.it;

import dev.outrider.proxy.Sidecar;
import dev.outrider.proxy.tls.TestPki;
import io.netty.handler.ssl.SslProvider;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Certificate rotation while requests flow through the pair, with no failed request: a re-issued leaf for
 * the receiving sidecar, then a CA rotation in the documented order (add the new root to every bundle, move
 * every leaf to the new root, remove the old root). After each step both sidecars have reloaded and a new
 * connection to the receiving sidecar shows the new material. Files are replaced by rename, or swapped as a
 * Kubernetes secret volume does (all three at once, so no reload is ever refused there).
 */
class RotationUnderLoadTest {
    private static final String ORDERS = TestPki.spiffe("cluster.local", "shop", "orders");
    private static final String FRONTEND = TestPki.spiffe("cluster.local", "shop", "frontend");

    @ParameterizedTest(name = "{0}")
    @EnumSource(TlsFiles.Layout.class)
    void rotationsLoseNoRequest(TlsFiles.Layout layout, @TempDir Path dir) throws Exception {
        String provider = System.getProperty("outrider.test.tlsProvider", "auto");
        TestPki.Ca oldRoot = TestPki.root("old root");
        TestPki.Ca newRoot = TestPki.root("new root");
        TlsFiles ordersFiles = TlsFiles.create(dir.resolve("orders"), layout);
        TlsFiles frontendFiles = TlsFiles.create(dir.resolve("frontend"), layout);
        TestPki.Leaf ordersLeaf = oldRoot.leaf().spiffe(ORDERS).issue();
        ordersFiles.write(ordersLeaf, oldRoot);
        frontendFiles.write(oldRoot.leaf().spiffe(FRONTEND).issue(), oldRoot);

        try (TestBackend backend = TestBackend.start();
             Sidecar orders = MeshSidecars.inbound("orders", backend.port(), ordersFiles.yaml(provider), "");
             Sidecar frontend = MeshSidecars.outbound("frontend",
                     "- {name: orders, namespace: shop, endpoints: [\"127.0.0.1:%d\"]}"
                             .formatted(orders.inboundAddress().getPort()), frontendFiles.yaml(provider));
             TlsTestClient direct = new TlsTestClient();
             Load load = new Load(frontend)) {
            load.start();
            load.awaitMore();

            // 1. A new leaf for orders (new serial, same root).
            TestPki.Leaf reissued = oldRoot.leaf().spiffe(ORDERS).issue();
            step(orders, () -> ordersFiles.write(reissued, oldRoot));
            awaitServerSerial(direct, orders, oldRoot.leaf().spiffe(FRONTEND).issue(), reissued.cert().getSerialNumber());
            load.awaitMore();

            // 2a. Both bundles trust the new root too.
            step(orders, frontend, () -> {
                ordersFiles.write(reissued, oldRoot, newRoot);
                frontendFiles.write(oldRoot.leaf().spiffe(FRONTEND).issue(), oldRoot, newRoot);
            });
            TestPki.Leaf callerOnNewRoot = newRoot.leaf().spiffe(FRONTEND).issue();
            assertThat(direct.get(orders.inboundAddress(), TlsTestClient.context(SslProvider.JDK, callerOnNewRoot))
                    .status()).as("a caller on the new root is trusted once the bundle has it").isEqualTo(200);
            load.awaitMore();

            // 2b. Every leaf moves to the new root.
            TestPki.Leaf ordersOnNewRoot = newRoot.leaf().spiffe(ORDERS).issue();
            step(orders, frontend, () -> {
                ordersFiles.write(ordersOnNewRoot, oldRoot, newRoot);
                frontendFiles.write(newRoot.leaf().spiffe(FRONTEND).issue(), oldRoot, newRoot);
            });
            awaitServerSerial(direct, orders, callerOnNewRoot, ordersOnNewRoot.cert().getSerialNumber());
            assertThat(direct.get(orders.inboundAddress(), TlsTestClient.context(SslProvider.JDK, callerOnNewRoot))
                    .serverCertificate().getIssuerX500Principal()).isEqualTo(newRoot.cert().getSubjectX500Principal());
            load.awaitMore();

            // 2c. The old root leaves the bundles: a caller still on it is refused from now on.
            step(orders, frontend, () -> {
                ordersFiles.write(ordersOnNewRoot, newRoot);
                frontendFiles.write(newRoot.leaf().spiffe(FRONTEND).issue(), newRoot);
            });
            TestPki.Leaf callerOnOldRoot = oldRoot.leaf().spiffe(FRONTEND).issue();
            assertThatThrownBy(() -> direct.get(orders.inboundAddress(),
                    TlsTestClient.context(SslProvider.JDK, callerOnOldRoot))).isInstanceOf(Exception.class);
            assertThat(direct.get(orders.inboundAddress(), TlsTestClient.context(SslProvider.JDK, callerOnNewRoot))
                    .status()).isEqualTo(200);
            load.awaitMore();

            load.stop();
            assertThat(load.failures).as("failed requests during the rotations").isEmpty();
            assertThat(load.succeeded.get()).isPositive();
            if (layout == TlsFiles.Layout.KUBERNETES) {
                assertThat(Metrics.reloadFailures(orders)).as("refused reloads, orders").isZero();
                assertThat(Metrics.reloadFailures(frontend)).as("refused reloads, frontend").isZero();
            }
        }
    }

    /** Runs {@code change} and waits until {@code sidecars} have all loaded new material. */
    private static void step(Sidecar sidecar, Runnable change) {
        step(new Sidecar[] {sidecar}, change);
    }

    private static void step(Sidecar a, Sidecar b, Runnable change) {
        step(new Sidecar[] {a, b}, change);
    }

    private static void step(Sidecar[] sidecars, Runnable change) {
        double[] before = new double[sidecars.length];
        for (int i = 0; i < sidecars.length; i++) {
            before[i] = Metrics.reloads(sidecars[i]);
        }
        change.run();
        for (int i = 0; i < sidecars.length; i++) {
            Sidecar s = sidecars[i];
            double was = before[i];
            await().atMost(Duration.ofSeconds(10)).until(() -> Metrics.reloads(s) > was);
        }
    }

    private static void awaitServerSerial(TlsTestClient direct, Sidecar orders, TestPki.Leaf caller, BigInteger serial)
            throws Exception {
        var ctx = TlsTestClient.context(SslProvider.JDK, caller);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(
                direct.get(orders.inboundAddress(), ctx).serverCertificate().getSerialNumber()).isEqualTo(serial));
    }

    /** One client thread sending requests through the pair until stopped (at most 30 s). */
    private static final class Load implements AutoCloseable {
        final AtomicInteger succeeded = new AtomicInteger();
        final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        private final HttpRequest request;
        private final Thread thread;

        Load(Sidecar frontend) {
            request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + frontend.outboundAddress().getPort()
                    + "/rotation")).header("Host", "orders").timeout(Duration.ofSeconds(5)).build();
            thread = Thread.ofPlatform().name("rotation-load").unstarted(this::run);
        }

        void start() {
            thread.start();
        }

        private void run() {
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (running.get() && System.nanoTime() < deadline) {
                try {
                    HttpResponse<String> r = client.send(request, HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() == 200) {
                        succeeded.incrementAndGet();
                    } else {
                        failures.add(r.statusCode() + " " + r.body());
                    }
                } catch (Exception e) {
                    failures.add(e.toString());
                }
            }
        }

        /** Waits until a few more requests succeeded (traffic kept flowing across the last step). */
        void awaitMore() {
            int now = succeeded.get();
            await().atMost(Duration.ofSeconds(10)).until(() -> succeeded.get() >= now + 5 || !failures.isEmpty());
            assertThat(List.copyOf(failures)).isEmpty();
        }

        void stop() throws InterruptedException {
            running.set(false);
            thread.join(10_000);
        }

        @Override
        public void close() throws InterruptedException {
            stop();
            client.close();
        }
    }
}
