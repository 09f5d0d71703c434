package dev.outrider.proxy.it;

import dev.outrider.proxy.Sidecar;
import dev.outrider.proxy.tls.TestPki;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The caller's sidecar checks who answers: an upstream proving another identity than the service's, or a
 * certificate outside the mesh trust bundle, gets no request; the caller gets a 503 that says why, and the
 * outbound handshake failure is counted once under its reason. For each provider of the calling sidecar.
 * <pre>
 * client ──▶ frontend outbound ──mTLS──▶ billing inbound (service "orders" expects sa/orders)  ──▶ backend
 *                              └─mTLS──▶ payments inbound (certificate from a foreign root)   ──▶ backend
 * </pre>
 */
@ParameterizedClass(name = "caller {0}")
@ValueSource(strings = {"openssl", "jdk"})
class OutboundIdentityTest {
    /** The calling sidecar's {@code tls.provider}. */
    @Parameter
    String callerProvider;

    private static TestBackend backend;
    private static Sidecar billing;
    private static Sidecar foreign;
    private static Sidecar frontend;
    private static HttpClient client;

    @BeforeParameterizedClassInvocation
    static void start(String provider) throws Exception {
        backend = TestBackend.start();
        TestPki.Ca mesh = TestPki.root("mesh root");
        TestPki.Ca other = TestPki.root("foreign root");
        Path dir = Files.createTempDirectory("outrider-outbound");
        TlsFiles billingFiles = TlsFiles.create(dir.resolve("billing"), TlsFiles.Layout.FILES);
        billingFiles.write(mesh.leaf().spiffe(TestPki.spiffe("cluster.local", "shop", "billing")).issue(), mesh);
        TlsFiles foreignFiles = TlsFiles.create(dir.resolve("payments"), TlsFiles.Layout.FILES);
        foreignFiles.write(other.leaf().spiffe(TestPki.spiffe("cluster.local", "shop", "payments")).issue(), other,
                mesh);
        TlsFiles frontendFiles = TlsFiles.create(dir.resolve("frontend"), TlsFiles.Layout.FILES);
        frontendFiles.write(mesh.leaf().spiffe(TestPki.spiffe("cluster.local", "shop", "frontend")).issue(), mesh);
        billing = MeshSidecars.inbound("billing", backend.port(), billingFiles.yaml("auto"), "");
        foreign = MeshSidecars.inbound("payments", backend.port(), foreignFiles.yaml("auto"), "");
        frontend = MeshSidecars.outbound("frontend", """
                - {name: orders, namespace: shop, endpoints: ["127.0.0.1:%d"]}
                - {name: payments, namespace: shop, endpoints: ["127.0.0.1:%d"]}
                """.formatted(billing.inboundAddress().getPort(), foreign.inboundAddress().getPort()),
                frontendFiles.yaml(provider));
        client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    }

    @AfterParameterizedClassInvocation
    static void stop() {
        if (client != null) {
            client.close();
        }
        for (Sidecar s : new Sidecar[] {frontend, foreign, billing}) {
            if (s != null) {
                s.close();
            }
        }
        if (backend != null) {
            backend.close();
        }
    }

    @BeforeEach
    void clear() {
        backend.clear();
    }

    private static HttpResponse<String> get(String host) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + frontend.outboundAddress().getPort()
                + "/pay")).header("Host", host).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void upstreamWithAnotherIdentityGets503AndNoRequest() throws Exception {
        int requests = backend.requestCount();
        double mismatches = Metrics.handshakeFailures(frontend, "outbound", "identity_mismatch");
        double all = Metrics.handshakeFailures(frontend, "outbound");

        HttpResponse<String> r = get("orders");

        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.body()).contains("upstream connect error: service orders.shop")
                .contains("upstream identity mismatch")
                .contains("got spiffe://cluster.local/ns/shop/sa/billing")
                .contains("expected spiffe://cluster.local/ns/shop/sa/orders");
        assertThat(Metrics.handshakeFailures(frontend, "outbound", "identity_mismatch")).isEqualTo(mismatches + 1);
        assertThat(Metrics.handshakeFailures(frontend, "outbound")).isEqualTo(all + 1);
        assertThat(backend.requestCount()).isEqualTo(requests);
    }

    @Test
    void upstreamOutsideTheTrustBundleGets503AndNoRequest() throws Exception {
        int requests = backend.requestCount();
        double untrusted = Metrics.handshakeFailures(frontend, "outbound", "untrusted");
        double all = Metrics.handshakeFailures(frontend, "outbound");

        HttpResponse<String> r = get("payments");

        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.body()).contains("upstream connect error: service payments.shop")
                .contains("upstream TLS handshake failed").contains("(untrusted)");
        assertThat(Metrics.handshakeFailures(frontend, "outbound", "untrusted")).isEqualTo(untrusted + 1);
        assertThat(Metrics.handshakeFailures(frontend, "outbound")).isEqualTo(all + 1);
        assertThat(backend.requestCount()).isEqualTo(requests);
    }
}
