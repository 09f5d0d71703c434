package dev.outrider.proxy.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.outrider.proxy.tls.TestPki;
import io.netty.handler.ssl.SslProvider;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

/**
 * The security event stream end to end: a real sidecar pair (mTLS between them), policies from a directory B
 * watches, and both sidecars writing their stream to one file. Requests go in as raw HTTP/1.1 at A's outbound
 * listener and are refused at B (authentication, authorization, rate limit; a dry-run denial lets one through),
 * a caller with a foreign certificate is refused at B's handshake, and A refuses an upstream that proves the
 * wrong identity. Every kind appears once with its fields, and no token, cookie or query value appears at all.
 */
class SecurityEventsPairTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String ISSUER = "https://idp.test";
    private static final String COOKIE = "session=cookie-secret-value-77";

    private static String policies(ECKey signingKey, String rateLimit) {
        String jwks = new JWKSet(signingKey.toPublicJWK()).toString().replace("'", "''");
        return """
                apiVersion: outrider.dev/v1
                kind: RequestAuthentication
                metadata: {name: idp, namespace: shop}
                spec:
                  selector: {matchLabels: {app: orders}}
                  jwtRules:
                    - {issuer: %s, audiences: [orders], jwks: '%s'}
                ---
                apiVersion: outrider.dev/v1
                kind: AuthorizationPolicy
                metadata: {name: allow-frontend, namespace: shop}
                spec:
                  selector: {matchLabels: {app: orders}}
                  action: ALLOW
                  rules:
                    - from: [{source: {principals: ["cluster.local/ns/shop/sa/frontend"]}}]
                ---
                apiVersion: outrider.dev/v1
                kind: AuthorizationPolicy
                metadata: {name: deny-admin, namespace: shop}
                spec:
                  action: DENY
                  rules:
                    - to: [{operation: {paths: ["/admin", "/admin/*"]}}]
                ---
                apiVersion: outrider.dev/v1
                kind: AuthorizationPolicy
                metadata:
                  name: shadow-deny
                  namespace: shop
                  annotations: {outrider.dev/dry-run: "true"}
                spec:
                  action: DENY
                  rules:
                    - to: [{operation: {paths: ["/hello/dry"]}}]
                ---
                apiVersion: outrider.dev/v1
                kind: RateLimitPolicy
                metadata: {name: limits, namespace: shop}
                spec:
                  selector: {matchLabels: {app: orders}}
                  rules:
                  - name: per-caller
                    match: {paths: ["/rate/*"]}
                    key: source.principal
                    limit: %s
                ---
                apiVersion: outrider.dev/v1
                kind: RateLimitPolicy
                metadata:
                  name: shadow-limits
                  namespace: shop
                  annotations: {outrider.dev/dry-run: "true"}
                spec:
                  selector: {matchLabels: {app: orders}}
                  rules:
                  - name: shadow
                    match: {paths: ["/shadow/*"]}
                    key: source.principal
                    limit: {requests: 1, per: 1h, burst: 1}
                """.formatted(ISSUER, jwks, rateLimit);
    }

    private static String token(ECKey key) throws Exception {
        long now = System.currentTimeMillis();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(key.getKeyID()).build(),
                new JWTClaimsSet.Builder().issuer(ISSUER).subject("alice").audience("orders")
                        .issueTime(new Date(now)).expirationTime(new Date(now + 600_000)).build());
        jwt.sign(new ECDSASigner(key));
        return jwt.serialize();
    }

    private static String exchange(SidecarPair pair, String target, String host, String headers) throws Exception {
        try (RawHttp raw = new RawHttp(pair.outbound())) {
            raw.send("GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\n" + headers
                    + "Connection: close\r\n\r\n");
            return raw.readToEof();
        }
    }

    private static List<JsonNode> lines(Path file) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        if (Files.exists(file)) {
            for (String line : Files.readString(file).lines().toList()) {
                out.add(MAPPER.readTree(line));
            }
        }
        return out;
    }

    private static Map<String, JsonNode> byEvent(Path file) throws IOException {
        return lines(file).stream().collect(Collectors.toMap(n -> n.get("event").asText(), n -> n, (x, y) -> x));
    }

    @Test
    void everyKindOfRefusalIsOneLineWithItsFieldsAndNoSecret() throws Exception {
        ECKey signingKey = new ECKeyGenerator(Curve.P_256).keyID("k1").generate();
        ECKey otherKey = new ECKeyGenerator(Curve.P_256).keyID("k-other").generate();
        String forged = token(otherKey); // well-formed, signed by a key B does not trust
        Path dir = Files.createTempDirectory("outrider-security-events");
        Path policies = Files.createDirectory(dir.resolve("policies"));
        Files.writeString(policies.resolve("orders.yaml"), policies(signingKey, "{requests: 1, per: 1h, burst: 1}"));
        Path events = dir.resolve("security.log");
        try (TestBackend backend = TestBackend.start();
             SidecarPair pair = SidecarPair.start(backend.port(), "http1", """
                     policies: {directory: '%s', reloadInterval: 100ms}
                     securityEvents: {path: '%s', ratePerSecond: 1000, burst: 1000}
                     """.formatted(policies, events),
                     "- {name: payments, namespace: shop, endpoints: [\"${B_INBOUND}\"]}");
             TlsTestClient client = new TlsTestClient()) {
            assertThat(exchange(pair, "/api/orders?secret=hunter2", "orders",
                    "Authorization: Bearer " + forged + "\r\nCookie: " + COOKIE + "\r\nX-Request-Id: req-authn\r\n"))
                    .startsWith("HTTP/1.1 401");
            assertThat(exchange(pair, "/admin/users?secret=hunter2", "orders", "X-Request-Id: req-authz\r\n"))
                    .startsWith("HTTP/1.1 403");
            assertThat(exchange(pair, "/hello/dry", "orders", "X-Request-Id: req-dry\r\n"))
                    .startsWith("HTTP/1.1 200");
            assertThat(exchange(pair, "/rate/1", "orders", "")).startsWith("HTTP/1.1 200");
            assertThat(exchange(pair, "/rate/2", "orders", "X-Request-Id: req-rate\r\n")).startsWith("HTTP/1.1 429");
            assertThat(exchange(pair, "/shadow/1", "orders", "")).startsWith("HTTP/1.1 200");
            assertThat(exchange(pair, "/shadow/2", "orders", "X-Request-Id: req-shadow\r\n"))
                    .startsWith("HTTP/1.1 200");
            assertThat(exchange(pair, "/pay", "payments", "")).startsWith("HTTP/1.1 503");
            TestPki.Leaf foreign = TestPki.root("foreign root").leaf()
                    .spiffe(TestPki.spiffe("cluster.local", "shop", "frontend")).issue();
            assertThat(catchThrowable(() -> client.get(pair.b.inboundAddress(),
                    TlsTestClient.context(SslProvider.JDK, foreign)))).as("refused at the handshake").isNotNull();

            await().untilAsserted(() -> assertThat(byEvent(events)).containsKeys("authn_refused", "authz_denied",
                    "authz_denied_dry_run", "rate_limited", "rate_limited_dry_run", "upstream_identity_mismatch",
                    "tls_handshake_refused"));
        }

        byte[] bytes = Files.readAllBytes(events);
        String text = new String(bytes, StandardCharsets.UTF_8);
        assertThat(text).doesNotContain(forged).doesNotContain(forged.substring(forged.lastIndexOf('.') + 1))
                .doesNotContain("Bearer").doesNotContain("cookie-secret-value").doesNotContain("hunter2")
                .doesNotContain("?");
        Map<String, JsonNode> e = byEvent(events);
        assertThat(e.keySet()).containsExactlyInAnyOrder("authn_refused", "authz_denied", "authz_denied_dry_run",
                "rate_limited", "rate_limited_dry_run", "upstream_identity_mismatch", "tls_handshake_refused");
        assertThat(lines(events)).as("one line per refusal").hasSize(7);
        assertThat(lines(events)).allSatisfy(n -> assertThat(n.get("time").asText())
                .matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z"));

        JsonNode authn = e.get("authn_refused");
        assertThat(authn.get("direction").asText()).isEqualTo("inbound");
        assertThat(authn.get("peer").asText()).isEqualTo("spiffe://cluster.local/ns/shop/sa/frontend");
        assertThat(authn.get("remote_address").asText()).isEqualTo("127.0.0.1");
        assertThat(authn.get("method").asText()).isEqualTo("GET");
        assertThat(authn.get("path").asText()).isEqualTo("/api/orders");
        assertThat(authn.get("authority").asText()).startsWith("orders");
        assertThat(authn.get("request_id").asText()).isEqualTo("req-authn");
        assertThat(authn.get("jwt_issuer").asText()).isEqualTo(ISSUER);
        assertThat(authn.get("jwt_kid").asText()).isEqualTo("k-other");
        assertThat(authn.get("reason").asText()).isNotBlank();

        JsonNode authz = e.get("authz_denied");
        assertThat(authz.get("policy").asText()).isEqualTo("shop/deny-admin");
        assertThat(authz.get("rule").asText()).isEqualTo("0");
        assertThat(authz.get("reason").asText()).isEqualTo("deny policy shop/deny-admin rule 0");
        assertThat(authz.get("path").asText()).isEqualTo("/admin/users");
        assertThat(authz.get("request_id").asText()).isEqualTo("req-authz");
        assertThat(authz.get("peer").asText()).isEqualTo("spiffe://cluster.local/ns/shop/sa/frontend");

        JsonNode dry = e.get("authz_denied_dry_run");
        assertThat(dry.get("policy").asText()).isEqualTo("shop/shadow-deny");
        assertThat(dry.get("reason").asText()).isEqualTo("dry-run deny policy shop/shadow-deny rule 0");
        assertThat(dry.get("request_id").asText()).isEqualTo("req-dry");

        JsonNode rate = e.get("rate_limited");
        assertThat(rate.get("policy").asText()).isEqualTo("shop/limits");
        assertThat(rate.get("rule").asText()).isEqualTo("per-caller");
        assertThat(rate.get("reason").asText()).isEqualTo("rate limited by shop/limits rule per-caller");
        assertThat(rate.get("path").asText()).isEqualTo("/rate/2");

        JsonNode shadow = e.get("rate_limited_dry_run");
        assertThat(shadow.get("policy").asText()).isEqualTo("shop/shadow-limits");
        assertThat(shadow.get("rule").asText()).isEqualTo("shadow");
        assertThat(shadow.get("reason").asText()).isEqualTo("dry run: rate limited by shop/shadow-limits rule shadow");
        assertThat(shadow.get("path").asText()).isEqualTo("/shadow/2");
        assertThat(shadow.get("request_id").asText()).isEqualTo("req-shadow");

        JsonNode mismatch = e.get("upstream_identity_mismatch");
        assertThat(mismatch.get("direction").asText()).isEqualTo("outbound");
        assertThat(mismatch.get("peer").asText()).isEqualTo("spiffe://cluster.local/ns/shop/sa/orders");
        assertThat(mismatch.get("service").asText()).isEqualTo("payments.shop");
        assertThat(mismatch.get("remote_address").asText()).startsWith("127.0.0.1:");
        assertThat(mismatch.get("reason").asText()).contains("expected spiffe://cluster.local/ns/shop/sa/payments");

        JsonNode handshake = e.get("tls_handshake_refused");
        assertThat(handshake.get("direction").asText()).isEqualTo("inbound");
        assertThat(handshake.get("reason").asText()).isEqualTo("untrusted");
        assertThat(handshake.get("remote_address").asText()).startsWith("127.0.0.1:");
        assertThat(handshake.has("peer")).isFalse(); // never the unverified certificate's claims
    }

    /**
     * A flood of refusals at B: the stream writes its burst and rate, the rest are dropped, counted by
     * {@code outrider_security_events_dropped_total} and summarised, and lines + drops account for every refusal.
     */
    @Test
    void aFloodOfRefusalsIsCutToTheLimitAndEveryDropIsCountedAndSummarised() throws Exception {
        ECKey signingKey = new ECKeyGenerator(Curve.P_256).keyID("k1").generate();
        Path dir = Files.createTempDirectory("outrider-security-flood");
        Path policies = Files.createDirectory(dir.resolve("policies"));
        Files.writeString(policies.resolve("orders.yaml"), policies(signingKey, "{requests: 1, per: 1h, burst: 1}"));
        Path events = dir.resolve("security.log");
        int flood = 60;
        double dropped;
        try (TestBackend backend = TestBackend.start();
             SidecarPair pair = SidecarPair.start(backend.port(), "http1", """
                     policies: {directory: '%s', reloadInterval: 100ms}
                     securityEvents: {path: '%s', ratePerSecond: 1, burst: 3, summaryInterval: 100ms}
                     """.formatted(policies, events), "")) {
            for (int i = 0; i < flood; i++) {
                assertThat(exchange(pair, "/admin/" + i, "orders", "")).startsWith("HTTP/1.1 403");
            }
            dropped = Metrics.sum(pair.b, "outrider_security_events_dropped_total", "reason", "rate_limit");
            await().untilAsserted(() -> assertThat(lines(events)).anySatisfy(
                    n -> assertThat(n.get("event").asText()).isEqualTo("security_events_dropped")));
        }
        List<JsonNode> all = lines(events);
        long written = all.stream().filter(n -> n.get("event").asText().equals("authz_denied")).count();
        List<JsonNode> summaries = all.stream()
                .filter(n -> n.get("event").asText().equals("security_events_dropped")).toList();
        long summarised = summaries.stream().mapToLong(n -> n.get("dropped").asLong()).sum();

        assertThat(written).as("at least the burst, and never every refusal").isBetween(3L, flood - 1L);
        assertThat(dropped).isEqualTo(flood - written);
        assertThat(summarised).as("the summaries account for every drop").isEqualTo(flood - written);
        assertThat(summaries).allSatisfy(n -> assertThat(n.get("interval_ms").asLong()).isEqualTo(100));
        assertThat(all).hasSize((int) written + summaries.size()); // nothing else
    }
}
