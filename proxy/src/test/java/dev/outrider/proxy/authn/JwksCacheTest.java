package dev.outrider.proxy.authn;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.jwk.JWKSet;
import com.sun.net.httpserver.HttpServer;
import dev.outrider.proxy.authn.JwtVerifier.Options;
import dev.outrider.proxy.authn.JwtVerifier.Result;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static dev.outrider.proxy.authn.TestTokens.NOW;
import static dev.outrider.proxy.authn.TestTokens.claims;
import static dev.outrider.proxy.authn.TestTokens.policy;
import static dev.outrider.proxy.authn.TestTokens.uriRule;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** JwksCache against a JWKS server on loopback: rotation, rate-limited refetch, outage, bad responses. */
class JwksCacheTest {
    private static final TestTokens OLD = new TestTokens("old");
    private static final TestTokens NEW = new TestTokens("new");

    private record Reply(int status, String body) {
    }

    private HttpServer server;
    private final AtomicReference<Reply> reply = new AtomicReference<>();
    private final AtomicInteger hits = new AtomicInteger();
    private final AtomicInteger attackerHits = new AtomicInteger();
    private String uri;
    private JwksCache cache;

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/jwks", exchange -> {
            hits.incrementAndGet();
            Reply r = reply.get();
            byte[] body = r.body().getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(r.status(), body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.createContext("/attacker", exchange -> {
            attackerHits.incrementAndGet();
            exchange.sendResponseHeaders(404, -1);
            exchange.close();
        });
        server.start();
        uri = "http://127.0.0.1:" + server.getAddress().getPort() + "/jwks";
        serve(200, OLD.publicSet().toString());
    }

    @AfterEach
    void stop() {
        if (cache != null) {
            cache.close();
        }
        server.stop(0);
    }

    private void serve(int status, String body) {
        reply.set(new Reply(status, body));
    }

    private JwtVerifier verifier(JwksCache.Config config) {
        cache = new JwksCache(config);
        return JwtVerifier.compile(List.of(policy(uriRule(uri))), cache, Options.defaults());
    }

    private static JwksCache.Config config(Duration ttl, Duration unknownKidInterval, Duration retry) {
        return new JwksCache.Config(ttl, 0.8, unknownKidInterval, retry, Duration.ofSeconds(2), 64 * 1024);
    }

    private void awaitFetches(long ok, long failed) {
        await().atMost(10, TimeUnit.SECONDS).until(
                () -> cache.fetchesSucceeded() >= ok && cache.fetchesFailed() >= failed);
    }

    @Test
    void keysUnavailableUntilTheFirstGoodFetch() {
        serve(500, "boom");
        JwtVerifier verifier = verifier(config(Duration.ofMinutes(5), Duration.ofMinutes(5), Duration.ofMillis(200)));
        awaitFetches(0, 1);
        Result r = verifier.verify(OLD.es256(claims().build()), NOW);
        assertThat(r).isInstanceOf(Result.KeysUnavailable.class);
        assertThat(((Result.KeysUnavailable) r).reason()).contains("not fetched yet");
        serve(200, OLD.publicSet().toString());
        awaitFetches(1, 1); // the retry after the failure
        assertThat(verifier.verify(OLD.es256(claims().build()), NOW)).isInstanceOf(Result.Valid.class);
    }

    @Test
    void rotationNewKidTriggersRefetchThenVerifies() {
        JwtVerifier verifier = verifier(config(Duration.ofMinutes(5), Duration.ofMinutes(5), Duration.ofMinutes(5)));
        awaitFetches(1, 0);
        assertThat(verifier.verify(OLD.rs256(claims().build()), NOW)).isInstanceOf(Result.Valid.class);

        JWKSet rotated = new JWKSet(List.of(OLD.rsa.toPublicJWK(), NEW.rsa.toPublicJWK()));
        serve(200, rotated.toString());
        String newToken = NEW.rs256(claims().build());
        // The request that saw the new kid fails now (it is not held on the event loop) ...
        assertThat(((Result.Invalid) verifier.verify(newToken, NOW)).reason()).isEqualTo("no key with the token's kid");
        awaitFetches(2, 0);
        // ... and the next one verifies against the refetched set.
        assertThat(verifier.verify(newToken, NOW)).isInstanceOf(Result.Valid.class);
        assertThat(verifier.verify(OLD.rs256(claims().build()), NOW)).isInstanceOf(Result.Valid.class);
        assertThat(hits.get()).isEqualTo(2);
    }

    @Test
    void unknownKidRefetchIsRateLimited() {
        JwtVerifier verifier = verifier(config(Duration.ofMinutes(5), Duration.ofMinutes(5), Duration.ofMinutes(5)));
        awaitFetches(1, 0);
        String unknown = NEW.es256(claims().build());
        for (int i = 0; i < 50; i++) {
            assertThat(verifier.verify(unknown, NOW)).isInstanceOf(Result.Invalid.class);
        }
        awaitFetches(2, 0);
        for (int i = 0; i < 50; i++) {
            verifier.verify(unknown, NOW);
        }
        assertThat(cache.refetchForUnknownKid(uri)).isDone();
        await().during(300, TimeUnit.MILLISECONDS).atMost(2, TimeUnit.SECONDS).until(() -> hits.get() == 2);
        assertThat(cache.fetchesSucceeded()).isEqualTo(2);
    }

    @Test
    void refreshesBeforeTheTtlWithoutRequests() {
        verifier(config(Duration.ofMillis(300), Duration.ofMinutes(5), Duration.ofMinutes(5)));
        awaitFetches(3, 0);
        assertThat(hits.get()).isGreaterThanOrEqualTo(3);
    }

    @Test
    void outageKeepsTheLastGoodKeys() {
        JwtVerifier verifier = verifier(config(Duration.ofMillis(300), Duration.ofMinutes(5), Duration.ofMillis(100)));
        awaitFetches(1, 0);
        String token = OLD.eddsa(claims().build());
        serve(500, "{\"error\":\"down\"}");
        awaitFetches(1, 2);
        assertThat(verifier.verify(token, NOW)).isInstanceOf(Result.Valid.class);
        server.stop(0); // connection refused from now on
        long failed = cache.fetchesFailed();
        awaitFetches(1, failed + 2);
        assertThat(verifier.verify(token, NOW)).isInstanceOf(Result.Valid.class);
    }

    @Test
    void malformedEmptyOrOversizedResponsesNeverReplaceKeys() {
        JwtVerifier verifier = verifier(config(Duration.ofMinutes(5), Duration.ofMillis(1), Duration.ofMinutes(5)));
        awaitFetches(1, 0);
        String token = OLD.es256(claims().build());
        List<String> bad = List.of("not json", "{}", "{\"keys\":[]}",
                "{\"keys\":[{\"kty\":\"oct\",\"k\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}]}",
                "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AA\",\"y\":\"AA\"}]}",
                "{\"keys\":[], \"pad\":\"" + "x".repeat(70 * 1024) + "\"}");
        for (int i = 0; i < bad.size(); i++) {
            serve(200, bad.get(i));
            JWKSet before = cache.keys(uri);
            long failedBefore = cache.fetchesFailed();
            await(bad.get(i).substring(0, Math.min(20, bad.get(i).length()))).atMost(10, TimeUnit.SECONDS).until(() -> {
                cache.refetchForUnknownKid(uri);
                return cache.fetchesFailed() > failedBefore;
            });
            assertThat(cache.keys(uri)).as(bad.get(i)).isSameAs(before);
            assertThat(verifier.verify(token, NOW)).as(bad.get(i)).isInstanceOf(Result.Valid.class);
        }
        assertThat(cache.fetchesSucceeded()).isEqualTo(1);
    }

    @Test
    void jkuAndX5uInATokenAreNeverFetched() {
        JwtVerifier verifier = verifier(config(Duration.ofMinutes(5), Duration.ofMinutes(5), Duration.ofMinutes(5)));
        awaitFetches(1, 0);
        String attacker = "http://127.0.0.1:" + server.getAddress().getPort() + "/attacker";
        JWSHeader header = new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(OLD.ec.getKeyID())
                .jwkURL(URI.create(attacker)).x509CertURL(URI.create(attacker)).build();
        assertThat(verifier.verify(NEW.sign(header, claims().build()), NOW)).isInstanceOf(Result.Invalid.class);
        assertThat(verifier.verify(OLD.sign(header, claims().build()), NOW)).isInstanceOf(Result.Valid.class);
        await().during(200, TimeUnit.MILLISECONDS).atMost(2, TimeUnit.SECONDS).until(() -> attackerHits.get() == 0);
    }

    @Test
    void onlyHttpsOrLoopbackHttp() {
        assertThat(JwksCache.checkUri("https://keys.example.com/jwks")).isNotNull();
        assertThat(JwksCache.checkUri("http://127.0.0.1:8080/jwks")).isNotNull();
        assertThat(JwksCache.checkUri("http://[::1]:8080/jwks")).isNotNull();
        assertThat(JwksCache.checkUri("http://localhost/jwks")).isNotNull();
        assertThatThrownBy(() -> JwksCache.checkUri("http://keys.example.com/jwks"))
                .hasMessage("must be https (http only to a loopback address)");
        assertThatThrownBy(() -> JwksCache.checkUri("http://10.0.0.1/jwks"))
                .hasMessage("must be https (http only to a loopback address)");
        assertThatThrownBy(() -> JwksCache.checkUri("file:///etc/jwks")).hasMessage("URI has no host");
    }
}
