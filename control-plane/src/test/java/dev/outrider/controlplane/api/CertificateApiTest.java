package dev.outrider.controlplane.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.outrider.controlplane.ControlPlaneFixture;
import dev.outrider.controlplane.testing.ApiClient;
import dev.outrider.controlplane.testing.TestMesh;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** {@code POST /v1/join-tokens} and {@code POST /v1/certificates} over real TLS with the JDK HttpClient. */
class CertificateApiTest {
    private static final String ORDERS = "spiffe://cluster.local/ns/shop/sa/orders";
    private static final String PAYMENTS = "spiffe://cluster.local/ns/shop/sa/payments";

    @TempDir
    static Path dir;
    static ControlPlaneFixture cp;

    @BeforeAll
    static void start() throws Exception {
        cp = ControlPlaneFixture.start(dir);
    }

    @AfterAll
    static void stop() {
        if (cp != null) {
            cp.close();
        }
    }

    private static String joinToken(String namespace, String serviceAccount) throws Exception {
        HttpResponse<String> r = cp.adminByToken().post("/v1/join-tokens",
                "{\"namespace\": \"" + namespace + "\", \"serviceAccount\": \"" + serviceAccount + "\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return ApiClient.json(r).get("token").asText();
    }

    private static String csrBody(KeyPair keys, String uriSan) throws Exception {
        return "{\"csr\": " + new ObjectMapper().writeValueAsString(TestMesh.csrPem(keys, uriSan)) + "}";
    }

    @Test
    void joinTokenIsIssuedForTheIdentityWithItsExpiry() throws Exception {
        HttpResponse<String> r = cp.adminByToken().post("/v1/join-tokens",
                "{\"namespace\": \"shop\", \"serviceAccount\": \"orders\", \"ttl\": \"30m\"}");

        assertThat(r.statusCode()).isEqualTo(201);
        JsonNode body = ApiClient.json(r);
        assertThat(body.get("identity").asText()).isEqualTo(ORDERS);
        assertThat(body.get("token").asText()).hasSize(43);
        assertThat(Instant.parse(body.get("expiresAt").asText()))
                .isCloseTo(Instant.now().plus(Duration.ofMinutes(30)), within(Duration.ofMinutes(1)));
    }

    @Test
    void csrWithAJoinTokenGetsACertificateForTheTokensIdentityOnce() throws Exception {
        String token = joinToken("shop", "orders");
        KeyPair keys = TestMesh.ec();
        ApiClient sidecar = cp.anonymous().withBearer(token);

        HttpResponse<String> r = sidecar.post("/v1/certificates", csrBody(keys, ORDERS));

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode body = ApiClient.json(r);
        assertThat(body.get("identity").asText()).isEqualTo(ORDERS);
        List<X509Certificate> chain = certificates(body.get("certificateChain").asText());
        assertThat(chain).hasSize(2);
        X509Certificate leaf = chain.getFirst();
        assertThat(leaf.getPublicKey()).isEqualTo(keys.getPublic());
        assertThat(leaf.getSubjectAlternativeNames()).containsExactly(List.of(6, ORDERS));
        assertThat(certificates(body.get("trustBundle").asText())).containsExactly(cp.mesh.caCertificate());
        validate(leaf, cp.mesh.caCertificate());
        assertThat(Instant.parse(body.get("notAfter").asText())).isEqualTo(leaf.getNotAfter().toInstant())
                .isCloseTo(Instant.now().plus(Duration.ofHours(24)), within(Duration.ofMinutes(2)));

        HttpResponse<String> again = sidecar.post("/v1/certificates", csrBody(TestMesh.ec(), null));
        assertThat(again.statusCode()).isEqualTo(401);
        assertThat(ApiClient.json(again).get("message").asText())
                .isEqualTo("join token refused: already used (single use)")
                .doesNotContain(token);
    }

    @Test
    void csrNamingAnotherIdentityIsForbidden() throws Exception {
        String token = joinToken("shop", "orders");

        HttpResponse<String> r = cp.anonymous().withBearer(token).post("/v1/certificates",
                csrBody(TestMesh.ec(), PAYMENTS));

        assertThat(r.statusCode()).isEqualTo(403);
        JsonNode body = ApiClient.json(r);
        assertThat(body.get("reason").asText()).isEqualTo("Forbidden");
        assertThat(body.get("message").asText()).contains(PAYMENTS).contains(ORDERS);
    }

    @Test
    void unreadableBodyDoesNotSpendTheJoinToken() throws Exception {
        String token = joinToken("shop", "orders");
        ApiClient sidecar = cp.anonymous().withBearer(token);

        HttpResponse<String> missing = sidecar.post("/v1/certificates", "{}");
        assertThat(missing.statusCode()).isEqualTo(400);
        assertThat(ApiClient.json(missing).get("field").asText()).isEqualTo("csr");

        assertThat(sidecar.post("/v1/certificates", csrBody(TestMesh.ec(), null)).statusCode()).isEqualTo(200);
    }

    @Test
    void refusedCsrLeavesTheJoinTokenUsable() throws Exception {
        String token = joinToken("shop", "orders");
        ApiClient sidecar = cp.anonymous().withBearer(token);
        KeyPair other = TestMesh.ec();
        String noProofOfPossession = TestMesh.pem(new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=test"),
                other.getPublic()).build(new JcaContentSignerBuilder("SHA256withECDSA").build(
                TestMesh.ec().getPrivate())));
        record Refused(String body, int status, String message) {
        }
        for (Refused c : List.of(
                new Refused("{\"csr\": \"garbage\"}", 400, "no PEM CERTIFICATE REQUEST found"),
                new Refused("{\"csr\": " + new ObjectMapper().writeValueAsString(noProofOfPossession) + "}", 400,
                        "CSR signature does not verify with its public key"),
                new Refused(csrBody(other, PAYMENTS), 403, PAYMENTS))) {
            HttpResponse<String> r = sidecar.post("/v1/certificates", c.body());
            assertThat(r.statusCode()).as(r.body()).isEqualTo(c.status());
            assertThat(ApiClient.json(r).get("message").asText()).contains(c.message());
        }

        HttpResponse<String> corrected = sidecar.post("/v1/certificates", csrBody(other, ORDERS));

        assertThat(corrected.statusCode()).as(corrected.body()).isEqualTo(200);
        assertThat(ApiClient.json(corrected).get("identity").asText()).isEqualTo(ORDERS);
        assertThat(sidecar.post("/v1/certificates", csrBody(TestMesh.ec(), null)).statusCode())
                .as("spent by the certificate it bought").isEqualTo(401);
    }

    @Test
    void joinTokenPresentedConcurrentlyBuysOneCertificate() throws Exception {
        String token = joinToken("shop", "orders");
        int requests = 8;
        List<String> bodies = new ArrayList<>();
        for (int i = 0; i < requests; i++) {
            bodies.add(csrBody(TestMesh.ec(), null));
        }
        CountDownLatch go = new CountDownLatch(1);
        List<Future<HttpResponse<String>>> responses = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(requests)) {
            for (String body : bodies) {
                ApiClient sidecar = cp.anonymous().withBearer(token); // a connection each
                responses.add(pool.submit(() -> {
                    go.await();
                    return sidecar.post("/v1/certificates", body);
                }));
            }
            go.countDown();
            List<Integer> statuses = new ArrayList<>();
            for (Future<HttpResponse<String>> f : responses) {
                HttpResponse<String> r = f.get(60, TimeUnit.SECONDS);
                statuses.add(r.statusCode());
                if (r.statusCode() == 401) {
                    assertThat(ApiClient.json(r).get("message").asText())
                            .isEqualTo("join token refused: already used (single use)");
                }
            }
            assertThat(statuses).as("statuses").containsOnly(200, 401).filteredOn(s -> s == 200).hasSize(1);
        }
    }

    @Test
    void unknownJoinTokenIsUnauthenticated() throws Exception {
        HttpResponse<String> r = cp.anonymous().withBearer("not-a-token-at-all").post("/v1/certificates",
                csrBody(TestMesh.ec(), null));

        assertThat(r.statusCode()).isEqualTo(401);
        assertThat(ApiClient.json(r).get("message").asText()).isEqualTo("join token refused: unknown");
    }

    @Test
    void workloadRenewsItsOwnCertificateWithItsClientCertificate() throws Exception {
        ApiClient orders = cp.workload("shop", "orders");
        KeyPair next = TestMesh.ec();

        HttpResponse<String> r = orders.post("/v1/certificates", csrBody(next, null));

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        X509Certificate leaf = certificates(ApiClient.json(r).get("certificateChain").asText()).getFirst();
        assertThat(leaf.getSubjectAlternativeNames()).containsExactly(List.of(6, ORDERS));
        assertThat(leaf.getPublicKey()).isEqualTo(next.getPublic());

        HttpResponse<String> other = orders.post("/v1/certificates", csrBody(TestMesh.ec(), PAYMENTS));
        assertThat(other.statusCode()).isEqualTo(403);
    }

    @Test
    void adminTokenProvesNoIdentityToCertify() throws Exception {
        HttpResponse<String> r = cp.adminByToken().post("/v1/certificates", csrBody(TestMesh.ec(), null));

        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(ApiClient.json(r).get("message").asText()).contains("admin token proves no workload identity");
    }

    @Test
    void badCsrIsInvalidNamingTheField() throws Exception {
        HttpResponse<String> r = cp.workload("shop", "orders").post("/v1/certificates", "{\"csr\": \"garbage\"}");

        assertThat(r.statusCode()).isEqualTo(400);
        JsonNode body = ApiClient.json(r);
        assertThat(body.get("field").asText()).isEqualTo("csr");
        assertThat(body.get("message").asText()).isEqualTo("no PEM CERTIFICATE REQUEST found");
    }

    @Test
    void joinTokenRequestsAreValidatedFieldByField() throws Exception {
        ApiClient admin = cp.adminByToken();
        record Case(String body, String field, String message) {
        }
        for (Case c : List.of(
                new Case("{\"serviceAccount\": \"orders\"}", "namespace", "field 'namespace' is required"),
                new Case("{\"namespace\": \"Shop\", \"serviceAccount\": \"orders\"}", "namespace",
                        "field 'namespace' must be an RFC 1123 label"),
                new Case("{\"namespace\": \"shop\", \"serviceAccount\": 7}", "serviceAccount",
                        "field 'serviceAccount' must be a string, not a number"),
                new Case("{\"namespace\": \"shop\", \"serviceAccount\": \"orders\", \"ttl\": \"2d\"}", "ttl",
                        "field 'ttl' must lie between 1s and 24h, not 2d"),
                new Case("{\"namespace\": \"shop\", \"serviceAccount\": \"orders\", \"ttl\": \"soon\"}", "ttl",
                        "field 'ttl' must be a duration such as 90s, 30m, 1h or 1d, not 'soon'"),
                new Case("{\"namespace\": \"shop\", \"serviceAccount\": \"orders\", \"extra\": 1}", "extra",
                        "unknown field 'extra'; expected namespace, serviceAccount, ttl"))) {
            HttpResponse<String> r = admin.post("/v1/join-tokens", c.body());
            assertThat(r.statusCode()).as(c.body()).isEqualTo(400);
            JsonNode body = ApiClient.json(r);
            assertThat(body.get("status").asInt()).isEqualTo(400);
            assertThat(body.get("reason").asText()).isEqualTo("Invalid");
            assertThat(body.get("field").asText()).as(c.body()).isEqualTo(c.field());
            assertThat(body.get("message").asText()).as(c.body()).startsWith(c.message());
        }
    }

    static List<X509Certificate> certificates(String pem) throws Exception {
        List<X509Certificate> out = new ArrayList<>();
        for (var c : CertificateFactory.getInstance("X.509")
                .generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))) {
            out.add((X509Certificate) c);
        }
        return out;
    }

    static void validate(X509Certificate leaf, X509Certificate root) throws Exception {
        PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(root, null)));
        params.setRevocationEnabled(false);
        CertPathValidator.getInstance("PKIX").validate(
                CertificateFactory.getInstance("X.509").generateCertPath(List.of(leaf)), params);
    }
}
