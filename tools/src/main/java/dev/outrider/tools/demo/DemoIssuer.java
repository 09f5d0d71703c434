package dev.outrider.tools.demo;

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
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Date;
import java.util.List;

/**
 * The demo's end-user token issuer: an EC P-256 key made at start, its public JWK Set served on loopback (the
 * sidecar fetches it, off its event loops), and ES256 tokens signed with Nimbus. {@link #forged} signs with another
 * key under the same {@code kid}, which the sidecar must refuse (401).
 */
final class DemoIssuer implements AutoCloseable {
    static final String ISSUER = "https://issuer.demo.outrider.dev";
    static final String AUDIENCE = "orders";

    private final ECKey key;
    private final ECKey impostor;
    private final HttpServer server;

    private DemoIssuer(ECKey key, ECKey impostor, HttpServer server) {
        this.key = key;
        this.impostor = impostor;
        this.server = server;
    }

    static DemoIssuer start(InetSocketAddress address) throws IOException, JOSEException {
        ECKey key = new ECKeyGenerator(Curve.P_256).keyID("demo-1").generate();
        ECKey impostor = new ECKeyGenerator(Curve.P_256).keyID("demo-1").generate();
        byte[] jwks = new JWKSet(key.toPublicJWK()).toString().getBytes(StandardCharsets.UTF_8);
        HttpServer server = HttpServer.create(address, 0);
        server.createContext("/jwks.json", ex -> {
            ex.getRequestBody().transferTo(OutputStream.nullOutputStream());
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(200, jwks.length);
            try (OutputStream o = ex.getResponseBody()) {
                o.write(jwks);
            }
        });
        server.start();
        return new DemoIssuer(key, impostor, server);
    }

    String jwksUri() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/jwks.json";
    }

    /** A valid token for {@code subject}, for an hour. */
    String token(String subject) throws JOSEException {
        return sign(key, subject);
    }

    /** A token that looks right but is signed by a key the issuer never published. */
    String forged(String subject) throws JOSEException {
        return sign(impostor, subject);
    }

    private static String sign(ECKey with, String subject) throws JOSEException {
        Instant now = Instant.now();
        JWTClaimsSet claims = new JWTClaimsSet.Builder().issuer(ISSUER).subject(subject).audience(List.of(AUDIENCE))
                .issueTime(Date.from(now)).expirationTime(Date.from(now.plusSeconds(3600))).build();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(with.getKeyID()).build(), claims);
        jwt.sign(new ECDSASigner(with));
        return jwt.serialize();
    }

    /** The RequestAuthentication the demo applies: orders accepts this issuer's tokens (invalid ones: 401). */
    String requestAuthentication() {
        return """
                apiVersion: outrider.dev/v1
                kind: RequestAuthentication
                metadata:
                  name: orders-jwt
                  namespace: shop
                spec:
                  selector:
                    matchLabels: {app: orders}
                  jwtRules:
                    - issuer: "%s"
                      audiences: ["%s"]
                      jwksUri: "%s"
                """.formatted(ISSUER, AUDIENCE, jwksUri());
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
