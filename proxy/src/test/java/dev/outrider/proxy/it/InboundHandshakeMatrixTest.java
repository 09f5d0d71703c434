package dev.outrider.proxy.it;

import dev.outrider.proxy.Sidecar;
import dev.outrider.proxy.tls.TestPki;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslProvider;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

/**
 * The inbound listener's handshake decisions, for each server provider (the sidecar's {@code tls.provider})
 * against clients of each provider: a mesh certificate gets through, with X-Forwarded-Client-Cert set by
 * the sidecar; every other certificate (or none, or TLS 1.2 where 1.3 is required) is refused before a
 * byte reaches the application, counted once under the right reason, and told to the client with a TLS alert
 * that says why (never {@code internal_error}).
 */
@ParameterizedClass(name = "server {0}")
@ValueSource(strings = {"openssl", "jdk"})
class InboundHandshakeMatrixTest {
    private static final String ORDERS = "spiffe://cluster.local/ns/shop/sa/orders";
    private static final String FRONTEND = "spiffe://cluster.local/ns/shop/sa/frontend";

    @Parameter
    String serverProvider;

    private static TestBackend backend;
    private static TestPki.Ca root;
    private static Sidecar b;
    private static TlsTestClient client;

    @BeforeParameterizedClassInvocation
    static void start(String provider) throws Exception {
        backend = TestBackend.start();
        root = TestPki.root("mesh root");
        TlsFiles files = TlsFiles.create(Files.createTempDirectory("outrider-matrix"), TlsFiles.Layout.FILES);
        files.write(root.leaf().spiffe(ORDERS).issue(), root);
        b = MeshSidecars.inbound("orders", backend.port(), files.yaml(provider), "");
        client = new TlsTestClient();
    }

    @AfterParameterizedClassInvocation
    static void stop() {
        if (client != null) {
            client.close();
        }
        if (b != null) {
            b.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    @BeforeEach
    void clear() {
        backend.clear();
    }

    @ParameterizedTest(name = "client {0}")
    @EnumSource(value = SslProvider.class, names = {"OPENSSL", "JDK"})
    void meshCertificateReachesTheApplicationWithFreshClientCertHeader(SslProvider clientProvider) throws Exception {
        TestPki.Leaf frontend = root.leaf().spiffe(FRONTEND).issue();
        double succeeded = Metrics.sum(b, "outrider_tls_handshakes_total", "direction", "inbound", "result", "success");

        TlsTestClient.Response r = client.get(b.inboundAddress(), TlsTestClient.context(clientProvider, frontend),
                "/hello", Map.of("x-forwarded-client-cert", "By=" + ORDERS + ";URI=spiffe://cluster.local/ns/shop/sa/admin"));

        assertThat(r.status()).isEqualTo(200);
        TestBackend.Received seen = backend.take();
        String hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(frontend.cert().getEncoded()));
        assertThat(seen.headers().getAll("x-forwarded-client-cert"))
                .as("the caller's header is replaced, not kept")
                .containsExactly("By=" + ORDERS + ";Hash=" + hash + ";URI=" + FRONTEND);
        assertThat(hash).matches("[0-9a-f]{64}");
        assertThat(Metrics.sum(b, "outrider_tls_handshakes_total", "direction", "inbound", "result", "success"))
                .isEqualTo(succeeded + 1);
    }

    /**
     * A client certificate or version the listener must refuse, the reason it must count, and the TLS alert
     * (RFC 8446 §6.2) it must send with BoringSSL; the JDK's TLS stack sends {@code certificate_unknown} for every
     * certificate its trust manager refuses.
     */
    enum Refusal {
        NO_CLIENT_CERT("no_client_cert", "certificate_required"),
        UNTRUSTED_CA("untrusted", "unknown_ca"),
        /** Issued by another root that carries the mesh root's name (two meshes made with one subject). */
        SAME_NAME_FOREIGN_CA("untrusted", "unknown_ca"),
        EXPIRED("expired", "certificate_expired"),
        NOT_YET_VALID("not_yet_valid", "bad_certificate"),
        OTHER_TRUST_DOMAIN("identity_mismatch", "bad_certificate"),
        NO_URI_SAN("identity_mismatch", "bad_certificate"),
        TWO_URI_SANS("identity_mismatch", "bad_certificate"),
        SERVER_ONLY_EKU("untrusted", "unsupported_certificate"),
        TLS12_ONLY_CLIENT("protocol", "protocol_version");

        final String reason;
        private final String openSslAlert;

        Refusal(String reason, String openSslAlert) {
            this.reason = reason;
            this.openSslAlert = openSslAlert;
        }

        /** The alert a server of {@code provider} sends. */
        String alert(String provider) {
            boolean certificateRefused = this != NO_CLIENT_CERT && this != TLS12_ONLY_CLIENT;
            return provider.equals("jdk") && certificateRefused ? "certificate_unknown" : openSslAlert;
        }

        SslContext context(SslProvider provider, TestPki.Ca mesh) throws Exception {
            Instant now = Instant.now();
            TestPki.Leaf leaf = switch (this) {
                case NO_CLIENT_CERT -> null;
                case UNTRUSTED_CA -> TestPki.root("foreign root").leaf().spiffe(FRONTEND).issue();
                case SAME_NAME_FOREIGN_CA -> TestPki.root("mesh root").leaf().spiffe(FRONTEND).issue();
                case EXPIRED -> mesh.leaf().spiffe(FRONTEND).notBefore(now.minus(Duration.ofDays(2)))
                        .notAfter(now.minus(Duration.ofDays(1))).issue();
                case NOT_YET_VALID -> mesh.leaf().spiffe(FRONTEND).notBefore(now.plus(Duration.ofDays(1)))
                        .notAfter(now.plus(Duration.ofDays(2))).issue();
                case OTHER_TRUST_DOMAIN -> mesh.leaf().spiffe(TestPki.spiffe("example.org", "shop", "frontend")).issue();
                case NO_URI_SAN -> mesh.leaf().dns("frontend.shop.svc.cluster.local").issue();
                case TWO_URI_SANS -> mesh.leaf().spiffe(FRONTEND).spiffe("spiffe://cluster.local/ns/shop/sa/admin").issue();
                case SERVER_ONLY_EKU -> mesh.leaf().spiffe(FRONTEND).extendedKeyUsage(true, false).issue();
                case TLS12_ONLY_CLIENT -> mesh.leaf().spiffe(FRONTEND).issue();
            };
            return this == TLS12_ONLY_CLIENT ? TlsTestClient.context(provider, leaf, "TLSv1.2")
                    : TlsTestClient.context(provider, leaf);
        }
    }

    @ParameterizedTest(name = "{0}, JDK client")
    @EnumSource(Refusal.class)
    void refusedWithTheAlertThatSaysWhy(Refusal refusal) throws Exception {
        SslContext ctx = refusal.context(SslProvider.JDK, root);

        Throwable refused = catchThrowable(() -> client.get(b.inboundAddress(), ctx));

        assertThat(refused).as("no HTTP response").isNotNull();
        assertThat(messages(refused)).as("the JDK client names the alert it received")
                .contains("Received fatal alert: " + refusal.alert(serverProvider));
    }

    private static String messages(Throwable t) {
        StringBuilder out = new StringBuilder();
        for (; t != null; t = t.getCause()) {
            out.append(t).append('\n');
        }
        return out.toString();
    }

    static Stream<Arguments> refusals() {
        return Stream.of(Refusal.values()).flatMap(r -> Stream.of(
                Arguments.of(r, SslProvider.OPENSSL), Arguments.of(r, SslProvider.JDK)));
    }

    @ParameterizedTest(name = "{0}, client {1}")
    @MethodSource("refusals")
    void refusedBeforeTheApplicationAndCountedOnceByReason(Refusal refusal, SslProvider clientProvider)
            throws Exception {
        SslContext ctx = refusal.context(clientProvider, root);
        int requests = backend.requestCount();
        double reasonBefore = Metrics.handshakeFailures(b, "inbound", refusal.reason);
        double allBefore = Metrics.handshakeFailures(b, "inbound");

        assertThatThrownBy(() -> client.get(b.inboundAddress(), ctx)).as("no HTTP response").isInstanceOf(Exception.class);

        await().atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(Metrics.handshakeFailures(b, "inbound")).isGreaterThan(allBefore));
        assertThat(Metrics.handshakeFailures(b, "inbound", refusal.reason)).as(refusal.reason)
                .isEqualTo(reasonBefore + 1);
        assertThat(Metrics.handshakeFailures(b, "inbound")).as("all reasons").isEqualTo(allBefore + 1);
        assertThat(backend.requestCount()).as("requests at the application").isEqualTo(requests);
    }
}
