package dev.outrider.controlplane.api;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.outrider.controlplane.ControlPlaneConfig;
import dev.outrider.controlplane.ControlPlaneFixture;
import dev.outrider.controlplane.testing.ApiClient;
import dev.outrider.controlplane.testing.KubernetesIssuer;
import dev.outrider.controlplane.testing.KubernetesIssuer.SigningKey;
import dev.outrider.controlplane.testing.TestMesh;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;

import static dev.outrider.controlplane.api.CertificateApiTest.certificates;
import static dev.outrider.controlplane.api.CertificateApiTest.validate;
import static dev.outrider.controlplane.testing.KubernetesIssuer.claims;
import static dev.outrider.controlplane.testing.KubernetesIssuer.sign;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code POST /v1/certificates} with a Kubernetes projected service-account token, over real TLS with the JDK
 * HttpClient: one control plane with {@code --k8s-issuer}/{@code --k8s-jwks}, one without. No token ever
 * reaches a log line.
 */
class ServiceAccountTokenApiTest {
    private static final String ORDERS = "spiffe://cluster.local/ns/shop/sa/orders";
    private static final String BILLING = "spiffe://cluster.local/ns/payments/sa/billing";

    @TempDir
    static Path dir;
    static SigningKey issuerKey;
    static ControlPlaneFixture k8s;
    static ControlPlaneFixture plain;
    static final ListAppender<ILoggingEvent> logs = new ListAppender<>();
    static final List<String> tokens = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        logs.start();
        root().addAppender(logs);
        issuerKey = KubernetesIssuer.rsa("cluster-key-1");
        Path jwks = KubernetesIssuer.writeJwks(dir.resolve("jwks.json"), issuerKey, KubernetesIssuer.ec("cluster-key-2"));
        k8s = ControlPlaneFixture.start(dir.resolve("k8s"),
                new ControlPlaneConfig.Kubernetes(KubernetesIssuer.ISSUER, jwks, KubernetesIssuer.AUDIENCE));
        plain = ControlPlaneFixture.start(dir.resolve("plain"));
    }

    @AfterAll
    static void stop() {
        try {
            for (ControlPlaneFixture cp : new ControlPlaneFixture[] {k8s, plain}) {
                if (cp != null) {
                    cp.close();
                }
            }
            // Every token sent by this class, refused or accepted: none is in any log line (nor its signature).
            for (ILoggingEvent e : logs.list) {
                String line = e.getFormattedMessage() + (e.getThrowableProxy() == null ? ""
                        : e.getThrowableProxy().getMessage());
                for (String token : tokens) {
                    assertThat(line).doesNotContain(token).doesNotContain(token.substring(token.lastIndexOf('.') + 1));
                }
            }
            assertThat(tokens).hasSizeGreaterThan(3);
        } finally {
            root().detachAppender(logs);
        }
    }

    private static Logger root() {
        return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    }

    private static String token(String namespace, String serviceAccount) {
        return remember(sign(issuerKey, claims(namespace, serviceAccount, serviceAccount + "-5d8f-x2x", Instant.now())
                .build()));
    }

    private static String remember(String token) {
        tokens.add(token);
        return token;
    }

    private static String csrBody(KeyPair keys, String uriSan) throws Exception {
        return "{\"csr\": " + new ObjectMapper().writeValueAsString(TestMesh.csrPem(keys, uriSan)) + "}";
    }

    /** The log so far; appends happen on the server's threads, under the appender's lock. */
    private static List<String> logLines() {
        synchronized (logs) {
            return logs.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
        }
    }

    @Test
    void aGoodTokenGetsACertificateForItsServiceAccount() throws Exception {
        KeyPair keys = TestMesh.ec();
        ApiClient sidecar = k8s.anonymous().withBearer(token("shop", "orders"));

        HttpResponse<String> r = sidecar.post("/v1/certificates", csrBody(keys, ORDERS));

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode body = ApiClient.json(r);
        assertThat(body.get("identity").asText()).isEqualTo(ORDERS);
        X509Certificate leaf = certificates(body.get("certificateChain").asText()).getFirst();
        assertThat(leaf.getPublicKey()).isEqualTo(keys.getPublic());
        assertThat(leaf.getSubjectAlternativeNames()).containsExactly(List.of(6, ORDERS));
        validate(leaf, k8s.mesh.caCertificate());
        assertThat(logLines()).anyMatch(l -> l.equals("service-account token accepted for " + ORDERS
                + " (pod 'orders-5d8f-x2x', key 'cluster-key-1')"));

        // Not single use: the pod presents its (rotating) token again at its next restart.
        HttpResponse<String> again = sidecar.post("/v1/certificates", csrBody(TestMesh.ec(), null));
        assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
        assertThat(ApiClient.json(again).get("identity").asText()).isEqualTo(ORDERS);
    }

    @Test
    void aCsrForAnotherNamespaceIsForbidden() throws Exception {
        HttpResponse<String> r = k8s.anonymous().withBearer(token("shop", "orders"))
                .post("/v1/certificates", csrBody(TestMesh.ec(), BILLING));

        assertThat(r.statusCode()).as(r.body()).isEqualTo(403);
        assertThat(ApiClient.json(r).get("message").asText())
                .isEqualTo("CSR asks for identity '" + BILLING + "' but the bootstrap credential proves " + ORDERS);
    }

    @Test
    void refusedTokensAre401WithTheReasonLoggedWithoutTheToken() throws Exception {
        String expired = remember(sign(issuerKey, claims("shop", "orders", "orders-1", Instant.now().minusSeconds(7200))
                .build()));
        String wrongAudience = remember(sign(issuerKey, claims("shop", "orders", "orders-1", Instant.now())
                .audience("https://kubernetes.default.svc").build()));
        String unknownKey = remember(sign(KubernetesIssuer.rsa("cluster-key-9"),
                claims("shop", "orders", "orders-1", Instant.now()).build()));
        String noExpiry = remember(sign(issuerKey, claims("shop", "orders", "orders-1", Instant.now())
                .expirationTime((Date) null).build()));

        for (String[] c : new String[][] {
                {expired, "service-account token refused: expired (expired at "},
                {wrongAudience, "service-account token refused: wrong audience (aud '[https://kubernetes.default.svc]'"},
                {unknownKey, "service-account token refused: unknown key (no RS256 key with kid 'cluster-key-9'"},
                {noExpiry, "service-account token refused: missing or invalid claims (no exp claim)"}}) {
            HttpResponse<String> r = k8s.anonymous().withBearer(c[0]).post("/v1/certificates", csrBody(TestMesh.ec(), null));
            assertThat(r.statusCode()).as(r.body()).isEqualTo(401);
            JsonNode body = ApiClient.json(r);
            assertThat(body.get("reason").asText()).isEqualTo("Unauthenticated");
            assertThat(body.get("message").asText()).startsWith(c[1]);
            assertThat(logLines()).anyMatch(l -> l.startsWith("certificate refused: " + c[1]));
        }
    }

    @Test
    void withoutTheFlagsServiceAccountTokensAreNotEnabled() throws Exception {
        HttpResponse<String> r = plain.anonymous().withBearer(token("shop", "orders"))
                .post("/v1/certificates", csrBody(TestMesh.ec(), null));

        assertThat(r.statusCode()).isEqualTo(401);
        assertThat(ApiClient.json(r).get("message").asText()).isEqualTo("service-account token refused: Kubernetes"
                + " service-account tokens are not enabled on this control plane (start it with --k8s-issuer and"
                + " --k8s-jwks)");
    }

    @Test
    void aServiceAccountTokenOpensNoOtherRoute() throws Exception {
        HttpResponse<String> r = k8s.anonymous().withBearer(token("shop", "orders")).get("/v1/snapshots/shop/orders");

        assertThat(r.statusCode()).isEqualTo(401);
        assertThat(ApiClient.json(r).get("message").asText()).isEqualTo("bearer token refused: it is not the admin"
                + " token (a service-account token is accepted only by POST /v1/certificates)");
    }

    @Test
    void joinTokensStillWorkNextToServiceAccountTokens() throws Exception {
        HttpResponse<String> grant = k8s.adminByToken().post("/v1/join-tokens",
                "{\"namespace\": \"payments\", \"serviceAccount\": \"billing\"}");
        String joinToken = ApiClient.json(grant).get("token").asText();

        HttpResponse<String> r = k8s.anonymous().withBearer(joinToken).post("/v1/certificates",
                csrBody(TestMesh.ec(), BILLING));

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(ApiClient.json(r).get("identity").asText()).isEqualTo(BILLING);
    }
}
