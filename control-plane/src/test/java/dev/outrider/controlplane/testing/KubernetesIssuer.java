package dev.outrider.controlplane.testing;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Plays a Kubernetes API server's service-account token issuer in tests: signing keys made at run time (RSA
 * 2048 and EC P-256, as clusters use), the public JWK Set it publishes ({@code /openid/v1/jwks}) written to a
 * file, and projected tokens with the claims the API server puts in them ({@code iss}, {@code aud}, {@code sub}
 * {@code system:serviceaccount:<ns>:<sa>}, {@code kubernetes.io {namespace, serviceaccount {name, uid},
 * pod {name, uid}}}, {@code iat}, {@code nbf}, {@code exp}).
 */
public final class KubernetesIssuer {
    public static final String ISSUER = "https://kubernetes.default.svc.cluster.local";
    public static final String AUDIENCE = "outrider";

    /** A signing key of the issuer: its private JWK (kept in the test) and the signer. */
    public record SigningKey(JWK jwk, JWSAlgorithm algorithm, JWSSigner signer) {
        public JWK publicJwk() {
            return jwk.toPublicJWK();
        }
    }

    private KubernetesIssuer() {
    }

    public static SigningKey rsa(String kid) {
        try {
            var key = new RSAKeyGenerator(2048).keyID(kid).keyUse(KeyUse.SIGNATURE).algorithm(JWSAlgorithm.RS256)
                    .generate();
            return new SigningKey(key, JWSAlgorithm.RS256, new RSASSASigner(key));
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    public static SigningKey ec(String kid) {
        try {
            ECKey key = new ECKeyGenerator(Curve.P_256).keyID(kid).keyUse(KeyUse.SIGNATURE)
                    .algorithm(JWSAlgorithm.ES256).generate();
            return new SigningKey(key, JWSAlgorithm.ES256, new ECDSASigner(key));
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Writes the public JWK Set of {@code keys} to {@code file} atomically (as a ConfigMap update would appear). */
    public static Path writeJwks(Path file, SigningKey... keys) {
        List<JWK> publics = new ArrayList<>();
        for (SigningKey key : keys) {
            publics.add(key.publicJwk());
        }
        try {
            Path tmp = Files.writeString(file.resolveSibling(file.getFileName() + ".tmp"),
                    new JWKSet(publics).toString(true));
            return Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The claims of a projected token for {@code ns}/{@code sa} in pod {@code pod}, valid from {@code now} for 1 h. */
    public static JWTClaimsSet.Builder claims(String namespace, String serviceAccount, String pod, Instant now) {
        return new JWTClaimsSet.Builder()
                .issuer(ISSUER)
                .audience(AUDIENCE)
                .subject("system:serviceaccount:" + namespace + ":" + serviceAccount)
                .issueTime(Date.from(now))
                .notBeforeTime(Date.from(now))
                .expirationTime(Date.from(now.plusSeconds(3600)))
                .claim("kubernetes.io", Map.of(
                        "namespace", namespace,
                        "serviceaccount", Map.of("name", serviceAccount, "uid", UUID.randomUUID().toString()),
                        "pod", Map.of("name", pod, "uid", UUID.randomUUID().toString())));
    }

    /** {@code claims} signed with {@code key}, its {@code kid} in the header. */
    public static String sign(SigningKey key, JWTClaimsSet claims) {
        return sign(key, new JWSHeader.Builder(key.algorithm()).keyID(key.jwk().getKeyID()).build(), claims);
    }

    public static String sign(SigningKey key, JWSHeader header, JWTClaimsSet claims) {
        try {
            SignedJWT jwt = new SignedJWT(header, claims);
            jwt.sign(key.signer());
            return jwt.serialize();
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }
}
