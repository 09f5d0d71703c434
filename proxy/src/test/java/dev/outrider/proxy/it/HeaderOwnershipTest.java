package dev.outrider.proxy.it;

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
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.ssl.SslProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Date;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Header ownership at B's inbound listener: for every field the sidecar sets on a request, a caller with a
 * valid mesh identity attacks it every way HTTP offers — forged in the header block, deleted through
 * {@code Connection}, smuggled in HTTP/1.1 chunked trailers or an HTTP/2 trailing HEADERS frame, on both
 * protocols, straight to B over mTLS and through A's outbound listener — and the test asserts what the
 * application receives. The table:
 * <pre>
 *  field                     set by B from                          the application receives
 *  x-forwarded-client-cert   the caller's certificate               exactly one value, naming frontend
 *  x-forwarded-proto         B's listener (mTLS)                    exactly "https"
 *  x-user (claim header)     the verified JWT's sub claim           "alice" with the token, nothing without
 *  x-forwarded-for           the connection's peer address          the caller's list, then 127.0.0.1
 *  (trailers)                —                                      none of the above, no Host/Authorization
 * </pre>
 * Also RFC 9112 §3.2 / RFC 9113 §8.3.1: a second Host, a list-valued one, or an HTTP/2 {@code host} that
 * differs from {@code :authority} is refused (400; a reset stream on HTTP/2) and never reaches the application.
 */
class HeaderOwnershipTest {
    private static final String ISSUER = "https://idp.test";
    private static final String FRONTEND = "spiffe://cluster.local/ns/shop/sa/frontend";
    private static final String FORGED = "By=spiffe://cluster.local/ns/shop/sa/orders;URI=spiffe://cluster.local/ns/shop/sa/admin";
    private static final List<String> OWNED = List.of("x-forwarded-client-cert", "x-forwarded-proto", "x-user",
            "x-forwarded-for");
    private static TestBackend backend;
    private static SidecarPair pair;
    private static ECKey signingKey;
    private static TestPki.Leaf frontend;
    private static String token;

    @BeforeAll
    static void start() throws Exception {
        signingKey = new ECKeyGenerator(Curve.P_256).keyID("k1").generate();
        Path policies = Files.createTempDirectory("outrider-policies");
        Files.writeString(policies.resolve("orders.yaml"), """
                apiVersion: outrider.dev/v1
                kind: RequestAuthentication
                metadata: {name: idp, namespace: shop}
                spec:
                  jwtRules:
                    - issuer: %s
                      jwks: '%s'
                      outputClaimToHeaders: [{header: x-user, claim: sub}]
                ---
                apiVersion: outrider.dev/v1
                kind: AuthorizationPolicy
                metadata: {name: allow-frontend, namespace: shop}
                spec:
                  action: ALLOW
                  rules:
                    - from: [{source: {principals: ["cluster.local/ns/shop/sa/frontend"]}}]
                ---
                apiVersion: outrider.dev/v1
                kind: AuthorizationPolicy
                metadata: {name: deny-host, namespace: shop}
                spec:
                  action: DENY
                  rules:
                    - to: [{operation: {hosts: ["denied.example"]}}]
                """.formatted(ISSUER, new JWKSet(signingKey.toPublicJWK()).toString().replace("'", "''")));
        backend = TestBackend.start();
        pair = SidecarPair.start(backend.port(), "http1", "policies: {directory: '" + policies + "'}", "");
        frontend = pair.ca.leaf().spiffe(FRONTEND).issue();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("k1").build(),
                new JWTClaimsSet.Builder().issuer(ISSUER).subject("alice")
                        .expirationTime(new Date(System.currentTimeMillis() + 3_600_000)).build());
        jwt.sign(new ECDSASigner(signingKey));
        token = jwt.serialize();
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

    /** The ways a caller can try to forge or remove a sidecar-owned field. */
    enum Attack {
        /** Forged values in the header block, HTTP/1.1 straight to B over mTLS. */
        H1_HEADERS,
        /** {@code Connection} naming every owned field, HTTP/1.1 straight to B. */
        H1_CONNECTION,
        /** Forged values in chunked trailers, HTTP/1.1 straight to B. */
        H1_TRAILERS,
        /** Forged values in the header block, HTTP/2 straight to B. */
        H2_HEADERS,
        /** Forged values in a trailing HEADERS frame, HTTP/2 straight to B. */
        H2_TRAILERS,
        /** Forged headers, Connection and trailers from the local application, through A's outbound listener. */
        THROUGH_A
    }

    @ParameterizedTest
    @EnumSource(Attack.class)
    void nothingACallerSendsRemovesOrForgesAFieldTheSidecarOwns(Attack attack) throws Exception {
        for (boolean withToken : new boolean[] {true, false}) {
            backend.clear();
            String status = send(attack, withToken);
            assertThat(status).as(attack + " answered").isEqualTo("200");
            TestBackend.Received seen = backend.take();
            assertThat(seen.headers().getAll("x-forwarded-client-cert")).as(attack + ": XFCC")
                    .singleElement().asString()
                    .startsWith("By=spiffe://cluster.local/ns/shop/sa/orders;Hash=")
                    .endsWith(";URI=" + FRONTEND);
            assertThat(seen.headers().getAll("x-forwarded-proto")).as(attack + ": proto").containsExactly("https");
            assertThat(seen.headers().getAll("x-user")).as(attack + ": claim header, token " + withToken)
                    .isEqualTo(withToken ? List.of("alice") : List.of());
            List<String> xff = seen.headers().getAll("x-forwarded-for");
            assertThat(xff).as(attack + ": XFF").hasSize(1);
            assertThat(xff.getFirst()).as(attack + ": XFF ends with the real peer").endsWith("127.0.0.1");
            for (String name : OWNED) {
                assertThat(seen.trailers().contains(name)).as(attack + ": trailer " + name).isFalse();
            }
            assertThat(seen.trailers().contains("host")).as(attack + ": trailer host").isFalse();
            assertThat(seen.trailers().contains("authorization")).as(attack + ": trailer authorization").isFalse();
            if (attack == Attack.H1_TRAILERS || attack == Attack.H2_TRAILERS || attack == Attack.THROUGH_A) {
                assertThat(seen.trailers().get("x-checksum")).as(attack + ": other trailers pass").isEqualTo("abc");
            }
        }
    }

    private static String send(Attack attack, boolean withToken) throws Exception {
        String auth = withToken ? "Authorization: Bearer " + token + "\r\n" : "";
        String forged = "X-Forwarded-Client-Cert: " + FORGED + "\r\nX-Forwarded-Proto: http\r\nx-user: admin\r\n";
        String forgedTrailers = "X-Forwarded-Client-Cert: " + FORGED + "\r\nX-Forwarded-Proto: http\r\n"
                + "x-user: admin\r\nX-Forwarded-For: 10.9.9.9\r\nHost: denied.example\r\n"
                + "Authorization: Bearer forged\r\nx-checksum: abc\r\n";
        return switch (attack) {
            case H1_HEADERS -> status(tlsExchange("GET /h1 HTTP/1.1\r\nHost: orders\r\n" + forged + auth
                    + "Connection: close\r\n\r\n"));
            case H1_CONNECTION -> status(tlsExchange("GET /h1 HTTP/1.1\r\nHost: orders\r\n" + auth
                    + "Connection: close, X-Forwarded-Client-Cert, X-Forwarded-Proto, x-user, X-Forwarded-For\r\n\r\n"));
            case H1_TRAILERS -> status(tlsExchange("POST /h1 HTTP/1.1\r\nHost: orders\r\n" + auth
                    + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n" + forgedTrailers
                    + "\r\n"));
            case H2_HEADERS, H2_TRAILERS -> {
                FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/h2",
                        Unpooled.copiedBuffer("abc", StandardCharsets.UTF_8));
                request.headers().set("host", "orders").set("x-http2-scheme", "https");
                if (withToken) {
                    request.headers().set("authorization", "Bearer " + token);
                }
                var target = attack == Attack.H2_HEADERS ? request.headers() : request.trailingHeaders();
                target.set("x-forwarded-client-cert", FORGED).set("x-forwarded-proto", "http").set("x-user", "admin");
                if (attack == Attack.H2_TRAILERS) {
                    target.set("x-forwarded-for", "10.9.9.9").set("authorization", "Bearer forged")
                            .set("x-checksum", "abc");
                }
                try (H2Client h2 = new H2Client(pair.b.inboundAddress(),
                        TlsTestClient.h2Context(SslProvider.JDK, frontend))) {
                    yield String.valueOf(h2.send(request).get().status().code());
                }
            }
            case THROUGH_A -> {
                try (RawHttp raw = new RawHttp(pair.outbound())) {
                    raw.send("POST /a HTTP/1.1\r\nHost: orders\r\n" + forged + auth
                            + "Connection: close, X-Forwarded-Proto\r\nTransfer-Encoding: chunked\r\n\r\n"
                            + "3\r\nabc\r\n0\r\n" + forgedTrailers + "\r\n");
                    yield status(raw.readToEof());
                }
            }
        };
    }

    @Test
    void aSecondHostIsRefusedAndNeverForwarded() throws Exception {
        int before = backend.requestCount();
        assertThat(tlsExchange("GET / HTTP/1.1\r\nHost: orders\r\nHost: denied.example\r\nConnection: close\r\n\r\n"))
                .startsWith("HTTP/1.1 400 ").contains("more than one Host header");
        assertThat(tlsExchange("GET / HTTP/1.1\r\nHost: orders, denied.example\r\nConnection: close\r\n\r\n"))
                .startsWith("HTTP/1.1 400 ").contains("invalid Host header");
        try (RawHttp raw = new RawHttp(pair.outbound())) {
            raw.send("GET / HTTP/1.1\r\nHost: orders\r\nHost: denied.example\r\nConnection: close\r\n\r\n");
            assertThat(raw.readToEof()).startsWith("HTTP/1.1 400 ");
        }
        try (H2Client h2 = new H2Client(pair.b.inboundAddress(), TlsTestClient.h2Context(SslProvider.JDK, frontend))) {
            DefaultHttp2Headers differs = new DefaultHttp2Headers();
            differs.method("GET").scheme("https").path("/").authority("orders").add("host", "denied.example");
            assertThat(h2.sendHeaders(differs)).as("a malformed request: the stream is reset (RFC 9113 §8.3.1)")
                    .failsWithin(java.time.Duration.ofSeconds(10));
            DefaultHttp2Headers same = new DefaultHttp2Headers();
            same.method("GET").scheme("https").path("/same").authority("orders").add("host", "ORDERS");
            assertThat(h2.sendHeaders(same).get()).as("the same authority twice is one").isEqualTo("200");
        }
        assertThat(backend.take().headers().getAll("host")).containsExactly("orders");
        assertThat(backend.requestCount() - before).as("only the consistent request was forwarded").isEqualTo(1);
    }

    /**
     * {@code Expect: 100-continue} is answered after authentication and authorization: a refused caller gets
     * its final status (and the connection closes, since its body may or may not follow), never an invitation.
     */
    @Test
    void aRefusedCallerIsNeverInvitedToSendItsBody() throws Exception {
        int before = backend.requestCount();
        String refused = tlsExchange("POST /x HTTP/1.1\r\nHost: denied.example\r\nExpect: 100-continue\r\n"
                + "Content-Length: 5\r\n\r\n");
        assertThat(refused).startsWith("HTTP/1.1 403 ").doesNotContain("100 Continue");
        assertThat(backend.requestCount()).isEqualTo(before);

        try (RawHttp tls = RawHttp.mtls(pair.b.inboundAddress(), frontend)) {
            tls.send("POST /x HTTP/1.1\r\nHost: orders\r\nExpect: 100-continue\r\n"
                    + "Content-Length: 5\r\nConnection: close\r\n\r\n");
            assertThat(tls.readBytes("HTTP/1.1 100 Continue\r\n".length())).as("an allowed caller is invited")
                    .isEqualTo("HTTP/1.1 100 Continue\r\n");
            tls.send("hello");
            assertThat(tls.readToEof()).contains("HTTP/1.1 200 ");
        }
        assertThat(backend.take().headers().contains("expect")).as("answered here, not again by the app").isFalse();
        // A routes by its explicit upstream port for orders; B denies the host.
        try (RawHttp raw = new RawHttp(new InetSocketAddress("127.0.0.1", pair.upstreamPort))) {
            raw.send("POST /x HTTP/1.1\r\nHost: denied.example\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
            assertThat(raw.readHead()).as("through A: B refuses before anyone invites the body")
                    .startsWith("HTTP/1.1 403 ");
        }
        try (RawHttp raw = new RawHttp(pair.outbound())) {
            raw.send("POST /x HTTP/1.1\r\nHost: orders\r\nExpect: 100-continue\r\nContent-Length: 5\r\n"
                    + "Connection: close\r\n\r\n");
            assertThat(raw.readHead()).as("through A: B's 100 Continue, relayed").startsWith("HTTP/1.1 100 ");
            raw.send("hello");
            assertThat(raw.readToEof()).startsWith("HTTP/1.1 200 ");
        }
        assertThat(backend.take().bodyLength()).isEqualTo(5);
        assertThat(backend.requestCount() - before).isEqualTo(2);
    }

    private static String status(String response) {
        assertThat(response).startsWith("HTTP/1.1 ");
        return response.substring(9, 12);
    }

    /** Sends {@code raw} to B's inbound listener over mTLS as frontend (HTTP/1.1, no ALPN); reads to EOF. */
    private static String tlsExchange(String raw) throws IOException {
        try (RawHttp tls = RawHttp.mtls(pair.b.inboundAddress(), frontend)) {
            tls.send(raw);
            return tls.readToEof();
        }
    }
}
