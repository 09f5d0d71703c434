package dev.outrider.proxy.it;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Date;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Authentication and authorization at B's inbound listener, end to end through the sidecar pair: the caller
 * is frontend (its certificate), policies come from a directory B watches, and requests go in as raw
 * HTTP/1.1 at A's outbound listener (so no client tidies the path), then over mTLS HTTP/2 to B.
 */
class AuthorizationPairTest {
    private static final String ISSUER = "https://idp.test";
    private static TestBackend backend;
    private static SidecarPair pair;
    private static Path policies;
    private static ECKey signingKey;
    private static ECKey otherKey;

    @BeforeAll
    static void start() throws Exception {
        signingKey = new ECKeyGenerator(Curve.P_256).keyID("k1").generate();
        otherKey = new ECKeyGenerator(Curve.P_256).keyID("k1").generate();
        policies = Files.createTempDirectory("outrider-policies");
        Files.writeString(policies.resolve("orders.yaml"), ordersPolicies());
        backend = TestBackend.start();
        pair = SidecarPair.start(backend.port(), "http1",
                "policies: {directory: '" + policies + "', reloadInterval: 100ms}", "");
    }

    /**
     * frontend may GET/POST /hello and /api/*, /api/* only with a JWT; nobody may call /admin or the
     * ORDERS.internal host; a dry-run DENY on /hello/dry.
     */
    private static String ordersPolicies() {
        String jwks = new JWKSet(signingKey.toPublicJWK()).toString().replace("'", "''");
        return """
                apiVersion: outrider.dev/v1
                kind: RequestAuthentication
                metadata: {name: idp, namespace: shop}
                spec:
                  selector: {matchLabels: {app: orders}}
                  jwtRules:
                    - issuer: %s
                      audiences: [orders]
                      jwks: '%s'
                      outputClaimToHeaders: [{header: x-user, claim: sub}]
                ---
                apiVersion: outrider.dev/v1
                kind: AuthorizationPolicy
                metadata: {name: allow-frontend, namespace: shop}
                spec:
                  selector: {matchLabels: {app: orders}}
                  action: ALLOW
                  rules:
                    - from: [{source: {principals: ["cluster.local/ns/shop/sa/frontend"]}}]
                      to: [{operation: {methods: [GET, POST], paths: ["/hello", "/hello/*", "/public/*"]}}]
                    - from: [{source: {principals: ["cluster.local/ns/shop/sa/frontend"],
                                       requestPrincipals: ["%s/*"]}}]
                      to: [{operation: {paths: ["/api/*"]}}]
                ---
                apiVersion: outrider.dev/v1
                kind: AuthorizationPolicy
                metadata: {name: deny-admin, namespace: shop}
                spec:
                  action: DENY
                  rules:
                    - to: [{operation: {paths: ["/admin", "/admin/*"]}}]
                    - to: [{operation: {hosts: ["orders.internal"]}}]
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
                """.formatted(ISSUER, jwks, ISSUER);
    }

    @AfterAll
    static void stop() {
        if (pair != null) {
            pair.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    @BeforeEach
    void clear() {
        backend.clear();
    }

    private static String exchange(String method, String target, String headers) throws Exception {
        try (RawHttp raw = new RawHttp(pair.outbound())) {
            raw.send(method + " " + target + " HTTP/1.1\r\nHost: orders\r\n" + headers + "Connection: close\r\n\r\n");
            return raw.readToEof();
        }
    }

    private static String get(String target) throws Exception {
        return exchange("GET", target, "");
    }

    private static String token(ECKey key, String audience, Duration expiresIn) throws JOSEException {
        long now = System.currentTimeMillis();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(key.getKeyID()).build(),
                new JWTClaimsSet.Builder().issuer(ISSUER).subject("alice").audience(audience)
                        .issueTime(new Date(now)).expirationTime(new Date(now + expiresIn.toMillis())).build());
        jwt.sign(new ECDSASigner(key));
        return jwt.serialize();
    }

    private static String adminConfig() throws Exception {
        try (var client = java.net.http.HttpClient.newHttpClient()) {
            return client.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:"
                            + pair.b.adminAddress().getPort() + "/config")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString()).body();
        }
    }

    @Test
    void anAllowedCallerReachesTheApplication() throws Exception {
        assertThat(get("/hello")).startsWith("HTTP/1.1 200 ");
        assertThat(backend.take().uri()).isEqualTo("/hello");
    }

    @Test
    void aDeniedRequestGets403NamingNoPolicyAndNeverReachesTheApplication() throws Exception {
        int forwarded = backend.requestCount();
        double before = Metrics.sum(pair.b, "outrider_authz_decisions_total", "decision", "deny",
                "policy", "shop/deny-admin", "mode", "enforced");
        String response = get("/admin");
        assertThat(response).startsWith("HTTP/1.1 403 ").doesNotContain("deny-admin").doesNotContain("shop/");
        assertThat(backend.requestCount()).as("nothing forwarded").isEqualTo(forwarded);
        assertThat(Metrics.sum(pair.b, "outrider_authz_decisions_total", "decision", "deny",
                "policy", "shop/deny-admin", "mode", "enforced")).isEqualTo(before + 1);
    }

    @Test
    void whatNoAllowRuleCoversIsDenied() throws Exception {
        int forwarded = backend.requestCount();
        assertThat(exchange("DELETE", "/hello", "")).startsWith("HTTP/1.1 403 ");
        assertThat(get("/other")).startsWith("HTTP/1.1 403 ");
        assertThat(backend.requestCount()).as("nothing forwarded").isEqualTo(forwarded);
    }

    /** CVE-2019-9901 (dot segments), merged slashes, encoded dots: normalized first, then denied. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(textBlock = """
            /hello/../admin
            /public/%2e%2e/admin
            //admin
            /hello/./../admin/
            /%61dmin
            /admin?x=/hello
            """)
    void spellingsOfADeniedPathAreDenied(String target) throws Exception {
        int forwarded = backend.requestCount();
        assertThat(get(target)).startsWith("HTTP/1.1 403 ");
        assertThat(backend.requestCount()).as("nothing forwarded").isEqualTo(forwarded);
    }

    /** CVE-2021-31920 (escaped slashes) and CVE-2021-39156 (fragments): refused before authorization. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(textBlock = """
            /hello%2F..%2Fadmin
            /hello%5C..%5Cadmin
            /admin#/hello
            /hello/#/../admin
            """)
    void pathsThatCouldBypassAreRefusedOutright(String target) throws Exception {
        int forwarded = backend.requestCount();
        assertThat(get(target)).startsWith("HTTP/1.1 400 ");
        assertThat(backend.requestCount()).as("nothing forwarded").isEqualTo(forwarded);
    }

    /** CVE-2021-39155: a host rule matches whatever the case (and port) of the Host header. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(textBlock = """
            orders.internal
            ORDERS.Internal
            orders.INTERNAL:8080
            """)
    void hostRulesMatchCaseInsensitively(String host) throws Exception {
        int forwarded = backend.requestCount();
        try (RawHttp raw = new RawHttp(pair.outbound())) {
            // A routes by the upstream port, so the Host header reaches B as the client wrote it.
            raw.send("GET /hello HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n");
            // A: no such mesh service, nor a declared external host
            assertThat(raw.readToEof()).startsWith("HTTP/1.1 403 ").contains("not in the egress allow-list");
        }
        try (RawHttp raw = new RawHttp(new java.net.InetSocketAddress("127.0.0.1", pair.upstreamPort))) {
            raw.send("GET /hello HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n");
            assertThat(raw.readToEof()).startsWith("HTTP/1.1 403 ");
        }
        assertThat(backend.requestCount()).as("nothing forwarded").isEqualTo(forwarded);
    }

    @Test
    void aValidTokenBecomesTheRequestPrincipalAndIsNotForwarded() throws Exception {
        String response = exchange("GET", "/api/items",
                "Authorization: Bearer " + token(signingKey, "orders", Duration.ofMinutes(5)) + "\r\n"
                        + "X-User: mallory\r\n");
        assertThat(response).startsWith("HTTP/1.1 200 ");
        TestBackend.Received received = backend.take();
        assertThat(received.headers().contains("authorization")).as("token stripped").isFalse();
        assertThat(received.headers().getAll("x-user")).as("claim header, the caller's removed")
                .containsExactly("alice");
    }

    @Test
    void withoutATokenARuleThatNeedsOneDenies() throws Exception {
        int forwarded = backend.requestCount();
        assertThat(get("/api/items")).startsWith("HTTP/1.1 403 ");
        assertThat(backend.requestCount()).as("nothing forwarded").isEqualTo(forwarded);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            expired     | token expired
            audience    | audience not allowed
            foreign key | signature verification failed
            garbage     | malformed token (not a signed JWT)
            """)
    void aBadTokenGets401WithWwwAuthenticate(String kind, String reason) throws Exception {
        int forwarded = backend.requestCount();
        String token = switch (kind) {
            case "expired" -> token(signingKey, "orders", Duration.ofMinutes(-5));
            case "audience" -> token(signingKey, "billing", Duration.ofMinutes(5));
            case "foreign key" -> token(otherKey, "orders", Duration.ofMinutes(5));
            default -> "not.a.jwt";
        };
        // Even on a path that needs no token: a token that is present must be valid (Istio).
        String response = exchange("GET", "/hello", "Authorization: Bearer " + token + "\r\n");
        assertThat(response).startsWith("HTTP/1.1 401 ")
                .containsIgnoringCase("www-authenticate: Bearer error=\"invalid_token\"")
                .contains(reason)
                .doesNotContain(token);
        assertThat(backend.requestCount()).as("nothing forwarded").isEqualTo(forwarded);
    }

    @Test
    void aDryRunDenyIsCountedButNotEnforced() throws Exception {
        double before = Metrics.sum(pair.b, "outrider_authz_decisions_total", "decision", "deny",
                "policy", "shop/shadow-deny", "mode", "dry_run");
        assertThat(get("/hello/dry")).startsWith("HTTP/1.1 200 ");
        assertThat(Metrics.sum(pair.b, "outrider_authz_decisions_total", "decision", "deny",
                "policy", "shop/shadow-deny", "mode", "dry_run")).isEqualTo(before + 1);
    }

    @Test
    void aDeniedRequestWithABodyDoesNotBreakTheNextOne() throws Exception {
        try (RawHttp raw = new RawHttp(pair.outbound())) {
            raw.send("POST /admin HTTP/1.1\r\nHost: orders\r\nContent-Length: 5\r\n\r\nhello");
            assertThat(raw.readHead()).startsWith("HTTP/1.1 403 ");
            raw.send("GET /hello HTTP/1.1\r\nHost: orders\r\nConnection: close\r\n\r\n");
            assertThat(raw.readToEof()).contains("HTTP/1.1 200 ");
        }
        assertThat(backend.take().uri()).isEqualTo("/hello");
    }

    /** Last in name order would not matter: every test above holds before and after this one. */
    @Test
    void aChangedDirectoryIsAppliedAndAnInvalidChangeIsRefused() throws Exception {
        Path extra = policies.resolve("zz-extra.yaml");
        try {
            Files.writeString(extra, """
                    apiVersion: outrider.dev/v1
                    kind: AuthorizationPolicy
                    metadata: {name: deny-hello-x, namespace: shop}
                    spec:
                      action: DENY
                      rules: [{to: [{operation: {paths: ["/hello/x"]}}]}]
                    """);
            await().atMost(Duration.ofSeconds(10)).until(() -> get("/hello/x").startsWith("HTTP/1.1 403 "));
            assertThat(adminConfig()).as("/config shows the snapshot in force")
                    .contains("\"policySnapshot\"").contains("shop/deny-hello-x");

            double refused = Metrics.sum(pair.b, "outrider_policy_reloads_total", "result", "refused");
            Files.writeString(extra, "apiVersion: outrider.dev/v1\nkind: AuthorizationPolicy\nmetadata: {name: x}\n"
                    + "spec: {action: MAYBE}\n");
            await().atMost(Duration.ofSeconds(10)).until(() ->
                    Metrics.sum(pair.b, "outrider_policy_reloads_total", "result", "refused") > refused);
            assertThat(get("/hello/x")).as("the policies in force stay").startsWith("HTTP/1.1 403 ");
            assertThat(get("/hello")).startsWith("HTTP/1.1 200 ");
        } finally {
            Files.deleteIfExists(extra);
            await().atMost(Duration.ofSeconds(10)).until(() -> get("/hello/x").startsWith("HTTP/1.1 200 "));
        }
    }
}
