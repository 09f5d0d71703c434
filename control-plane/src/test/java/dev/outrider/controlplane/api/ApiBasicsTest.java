package dev.outrider.controlplane.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.jwk.JWKSet;
import dev.outrider.controlplane.ControlPlaneFixture;
import dev.outrider.controlplane.testing.ApiClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLSocket;
import java.io.OutputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The API's common behaviour over real TLS: who gets 401 and who 403, public routes, JSON errors for unknown
 * routes, wrong methods, bad JSON, wrong media types, bodies over 1 MiB and oversized headers or request lines.
 */
class ApiBasicsTest {
    private static final String JOIN = "{\"namespace\": \"shop\", \"serviceAccount\": \"orders\"}";

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

    @Test
    void healthAndSnapshotKeysArePublic() throws Exception {
        ApiClient anonymous = cp.anonymous();

        HttpResponse<String> health = anonymous.get("/v1/health");
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(health.headers().firstValue("content-type")).hasValue("application/json");
        assertThat(ApiClient.json(health).get("status").asText()).isEqualTo("ok");

        HttpResponse<String> keys = anonymous.get("/v1/snapshot-keys");
        assertThat(keys.statusCode()).isEqualTo(200);
        JWKSet set = JWKSet.parse(keys.body());
        assertThat(set.getKeys()).hasSize(1);
        assertThat(set.getKeys().getFirst().isPrivate()).isFalse();
        assertThat(set.getKeys().getFirst().getKeyID()).isEqualTo(cp.controlPlane.signingKeyId());
        assertThat(keys.body()).doesNotContain("\"d\"");
        assertThat(JWKSet.parse(Files.readString(cp.dataDir.resolve("snapshot-keys.json"))).toString())
                .isEqualTo(set.toString());
    }

    @Test
    void adminRouteWithoutAnyProofIsUnauthenticated() throws Exception {
        HttpResponse<String> r = cp.anonymous().post("/v1/join-tokens", JOIN);

        assertThat(r.statusCode()).isEqualTo(401);
        assertThat(r.headers().firstValue("www-authenticate")).hasValue("Bearer realm=\"outrider\"");
        JsonNode body = ApiClient.json(r);
        assertThat(body.get("status").asInt()).isEqualTo(401);
        assertThat(body.get("reason").asText()).isEqualTo("Unauthenticated");
        assertThat(body.get("message").asText()).isEqualTo("no client certificate and no bearer token");
        assertThat(body.has("field")).isFalse();
    }

    @Test
    void workloadCertificateOnAnAdminRouteIsForbidden() throws Exception {
        HttpResponse<String> r = cp.workload("shop", "orders").post("/v1/join-tokens", JOIN);

        assertThat(r.statusCode()).isEqualTo(403);
        JsonNode body = ApiClient.json(r);
        assertThat(body.get("reason").asText()).isEqualTo("Forbidden");
        assertThat(body.get("message").asText())
                .isEqualTo("spiffe://cluster.local/ns/shop/sa/orders is not an admin identity");
    }

    @Test
    void adminTokenAndAdminCertificateAreAdmins() throws Exception {
        assertThat(cp.adminByToken().post("/v1/join-tokens", JOIN).statusCode()).isEqualTo(201);
        assertThat(cp.adminByCertificate().post("/v1/join-tokens", JOIN).statusCode()).isEqualTo(201);
    }

    @Test
    void wrongTokenOrSchemeIsUnauthenticatedEvenWithACertificate() throws Exception {
        HttpResponse<String> wrong = cp.anonymous().withBearer("test-admin-token-0123456789abcdeX")
                .post("/v1/join-tokens", JOIN);
        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(ApiClient.json(wrong).get("message").asText()).startsWith("bearer token refused")
                .doesNotContain("0123456789");

        HttpResponse<String> adminCertWrongToken = cp.adminByCertificate().withBearer("nope-nope-nope-nope")
                .post("/v1/join-tokens", JOIN);
        assertThat(adminCertWrongToken.statusCode()).isEqualTo(401);

        ApiClient anonymous = cp.anonymous();
        HttpResponse<String> basic = anonymous.send(anonymous.request("/v1/join-tokens")
                .header("Authorization", "Basic YWRtaW46YWRtaW4=")
                .POST(HttpRequest.BodyPublishers.ofString(JOIN)));
        assertThat(basic.statusCode()).isEqualTo(401);
        assertThat(ApiClient.json(basic).get("message").asText()).isEqualTo("Authorization header is not a Bearer token");
    }

    @Test
    void unknownRouteIsNotFoundAndWrongMethodNotAllowed() throws Exception {
        HttpResponse<String> missing = cp.anonymous().get("/v2/nothing-here");
        assertThat(missing.statusCode()).isEqualTo(404);
        JsonNode body = ApiClient.json(missing);
        assertThat(body.get("reason").asText()).isEqualTo("NotFound");
        assertThat(body.get("message").asText()).isEqualTo("no route for GET /v2/nothing-here");

        HttpResponse<String> wrongMethod = cp.anonymous().delete("/v1/health");
        assertThat(wrongMethod.statusCode()).isEqualTo(405);
        assertThat(wrongMethod.headers().firstValue("allow")).hasValue("GET");
        assertThat(ApiClient.json(wrongMethod).get("reason").asText()).isEqualTo("MethodNotAllowed");
    }

    @Test
    void malformedJsonIsInvalidSayingWhereAndWhy() throws Exception {
        HttpResponse<String> r = cp.adminByToken().post("/v1/join-tokens", "{\"namespace\": \"shop\",, }");

        assertThat(r.statusCode()).isEqualTo(400);
        JsonNode body = ApiClient.json(r);
        assertThat(body.get("reason").asText()).isEqualTo("Invalid");
        assertThat(body.get("message").asText()).startsWith("request body is not valid JSON: Unexpected character (',' ")
                .endsWith("(line 1, column 22)");

        HttpResponse<String> array = cp.adminByToken().post("/v1/join-tokens", "[]");
        assertThat(ApiClient.json(array).get("message").asText()).isEqualTo("request body must be a JSON object, not an array");

        HttpResponse<String> duplicate = cp.adminByToken().post("/v1/join-tokens",
                "{\"namespace\": \"a\", \"namespace\": \"b\", \"serviceAccount\": \"c\"}");
        assertThat(duplicate.statusCode()).isEqualTo(400);
        assertThat(ApiClient.json(duplicate).get("message").asText()).contains("Duplicate field 'namespace'");
    }

    @Test
    void nonJsonContentTypeIsUnsupported() throws Exception {
        HttpResponse<String> r = cp.adminByToken().put("/v1/join-tokens", "text/plain", JOIN);
        assertThat(r.statusCode()).isEqualTo(405); // PUT is not a method of this route

        ApiClient admin = cp.adminByToken();
        HttpResponse<String> yaml = admin.send(admin.request("/v1/join-tokens")
                .header("Content-Type", "application/yaml").POST(HttpRequest.BodyPublishers.ofString(JOIN)));
        assertThat(yaml.statusCode()).isEqualTo(415);
        assertThat(ApiClient.json(yaml).get("reason").asText()).isEqualTo("UnsupportedMediaType");

        HttpResponse<String> withCharset = admin.send(admin.request("/v1/join-tokens")
                .header("Content-Type", "application/json; charset=utf-8").POST(HttpRequest.BodyPublishers.ofString(JOIN)));
        assertThat(withCharset.statusCode()).isEqualTo(201);
    }

    @Test
    void bodyOverOneMebibyteIsTooLargeAndTheConnectionStaysUsable() throws Exception {
        ApiClient admin = cp.adminByToken();
        String big = "{\"namespace\": \"" + "a".repeat(1024 * 1024) + "\"}";

        HttpResponse<String> r = admin.post("/v1/join-tokens", big);

        assertThat(r.statusCode()).isEqualTo(413);
        JsonNode body = ApiClient.json(r);
        assertThat(body.get("reason").asText()).isEqualTo("TooLarge");
        assertThat(body.get("message").asText()).isEqualTo("request body is larger than 1048576 bytes");
        assertThat(admin.post("/v1/join-tokens", JOIN).statusCode()).isEqualTo(201);

        String justFits = "{\"namespace\": \"shop\", \"serviceAccount\": \"orders\", \"ttl\": \"1h\"}"
                + " ".repeat(1024 * 1024 - 62);
        assertThat(justFits.length()).isEqualTo(1024 * 1024);
        assertThat(admin.post("/v1/join-tokens", justFits).statusCode()).isEqualTo(201);
    }

    @Test
    void headersOverTheLimitAre431AndALongRequestTarget414() throws Exception {
        ApiClient anonymous = cp.anonymous();

        HttpResponse<String> r = anonymous.withBearer("x".repeat(64 * 1024)).get("/v1/health");

        assertThat(r.statusCode()).as(r.body()).isEqualTo(431); // RFC 6585 §5
        JsonNode body = ApiClient.json(r);
        assertThat(body.get("status").asInt()).isEqualTo(431);
        assertThat(body.get("reason").asText()).isEqualTo("HeadersTooLarge");
        assertThat(body.get("message").asText()).isEqualTo("request headers are larger than 8192 bytes");

        HttpResponse<String> longTarget = anonymous.get("/v1/health?x=" + "a".repeat(8 * 1024));
        assertThat(longTarget.statusCode()).as(longTarget.body()).isEqualTo(414); // RFC 9110 §15.5.15
        assertThat(ApiClient.json(longTarget).get("reason").asText()).isEqualTo("UriTooLong");
        assertThat(ApiClient.json(longTarget).get("message").asText())
                .isEqualTo("request line is longer than 4096 bytes");

        assertThat(anonymous.get("/v1/health").statusCode()).as("a new connection is served").isEqualTo(200);
    }

    @Test
    void aClientStillSendingItsOversizedHeadersReadsThe431() throws Exception {
        // The server refuses after 8 KiB while the client is still writing 1 MiB. A plain close would leave
        // unread bytes in the server's socket, and TCP would reset the connection, destroying the 431; the
        // lingering close reads and drops them, so the whole write succeeds and the answer arrives.
        try (SSLSocket socket = (SSLSocket) cp.mesh.trusting().getSocketFactory()
                .createSocket("127.0.0.1", cp.controlPlane.address().getPort())) {
            socket.setSoTimeout(10_000);
            socket.startHandshake();
            OutputStream out = socket.getOutputStream();
            out.write(("GET /v1/health HTTP/1.1\r\nHost: cp\r\nX-Filler: ").getBytes(StandardCharsets.US_ASCII));
            byte[] filler = "x".repeat(16 * 1024).getBytes(StandardCharsets.US_ASCII);
            for (int i = 0; i < 64; i++) {
                out.write(filler);
            }
            out.write("\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();

            String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertThat(answer).startsWith("HTTP/1.1 431 ").contains("connection: close").contains("\"HeadersTooLarge\"");
        }
    }

    @Test
    void manyRequestsOnOneKeepAliveConnection() throws Exception {
        ApiClient admin = cp.adminByToken();
        for (int i = 0; i < 20; i++) {
            assertThat(admin.get("/v1/health").statusCode()).isEqualTo(200);
            assertThat(admin.post("/v1/join-tokens", JOIN).statusCode()).isEqualTo(201);
        }
        assertThat(List.of(admin.get("/v1/health").headers().firstValue("connection").orElse("keep-alive")))
                .containsExactly("keep-alive");
    }
}
