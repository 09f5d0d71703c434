package dev.outrider.proxy.it;

import dev.outrider.proxy.Sidecar;
import dev.outrider.proxy.tls.TestPki;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * New material that cannot be used is refused and the material in use stays: each kind of bad update is
 * counted once under its reason, nothing is counted as a reload, and new connections are still served with
 * the original certificate. Updates are Kubernetes-style swaps, so each is seen whole.
 */
class ReloadRefusalTest {
    private static final String ORDERS = TestPki.spiffe("cluster.local", "shop", "orders");

    private static Path dir;
    private static TestPki.Ca mesh;
    private static TlsFiles files;
    private static BigInteger original;
    private static TestBackend backend;
    private static Sidecar orders;
    private static TlsTestClient client;
    private static SslContext caller;

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("outrider-refusal");
        mesh = TestPki.root("mesh root");
        files = TlsFiles.create(dir.resolve("orders"), TlsFiles.Layout.KUBERNETES);
        TestPki.Leaf leaf = mesh.leaf().spiffe(ORDERS).issue();
        original = leaf.cert().getSerialNumber();
        files.write(leaf, mesh);
        backend = TestBackend.start();
        orders = MeshSidecars.inbound("orders", backend.port(),
                files.yaml(System.getProperty("outrider.test.tlsProvider", "auto")), "");
        client = new TlsTestClient();
        caller = TlsTestClient.context(SslProvider.JDK,
                mesh.leaf().spiffe(TestPki.spiffe("cluster.local", "shop", "frontend")).issue());
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.close();
        }
        if (orders != null) {
            orders.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    enum BadUpdate {
        KEY_MISMATCH("key_mismatch"),
        EXPIRED("expired"),
        OTHER_IDENTITY("wrong_identity"),
        FOREIGN_ROOT("untrusted"),
        GARBAGE_PEM("bad_pem");

        final String reason;

        BadUpdate(String reason) {
            this.reason = reason;
        }

        void write() throws Exception {
            Instant now = Instant.now();
            switch (this) {
                case KEY_MISMATCH -> {
                    Path scratch = Files.createTempDirectory(dir, "scratch");
                    mesh.leaf().spiffe(ORDERS).issue().writeTo(scratch.resolve("c"), scratch.resolve("unused"));
                    mesh.leaf().spiffe(ORDERS).issue().writeTo(scratch.resolve("unused"), scratch.resolve("k"));
                    mesh.writeBundle(scratch.resolve("b"));
                    files.writeRaw(Files.readAllBytes(scratch.resolve("c")), Files.readAllBytes(scratch.resolve("k")),
                            Files.readAllBytes(scratch.resolve("b")));
                }
                case EXPIRED -> files.write(mesh.leaf().spiffe(ORDERS).notBefore(now.minus(Duration.ofDays(2)))
                        .notAfter(now.minus(Duration.ofMinutes(1))).issue(), mesh);
                case OTHER_IDENTITY -> files.write(
                        mesh.leaf().spiffe(TestPki.spiffe("cluster.local", "shop", "billing")).issue(), mesh);
                case FOREIGN_ROOT -> files.write(TestPki.root("foreign").leaf().spiffe(ORDERS).issue(), mesh);
                case GARBAGE_PEM -> files.writeRaw(
                        "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n"
                                .getBytes(StandardCharsets.US_ASCII),
                        "garbage".getBytes(StandardCharsets.US_ASCII),
                        files.read(files.trustBundle()));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(BadUpdate.class)
    void refusedCountedOnceAndTheOldMaterialStays(BadUpdate update) throws Exception {
        double reason = Metrics.reloadFailures(orders, update.reason);
        double all = Metrics.reloadFailures(orders);
        double reloads = Metrics.reloads(orders);

        update.write();

        await().atMost(Duration.ofSeconds(10)).until(() -> Metrics.reloadFailures(orders) > all);
        assertThat(Metrics.reloadFailures(orders, update.reason)).as(update.reason).isEqualTo(reason + 1);
        assertThat(Metrics.reloadFailures(orders)).as("all reasons").isEqualTo(all + 1);
        assertThat(Metrics.reloads(orders)).as("reloads").isEqualTo(reloads);
        TlsTestClient.Response r = client.get(orders.inboundAddress(), caller);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.serverCertificate().getSerialNumber()).as("certificate in use").isEqualTo(original);
    }
}
