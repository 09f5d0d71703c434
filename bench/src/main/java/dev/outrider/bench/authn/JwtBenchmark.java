package dev.outrider.bench.authn;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.outrider.core.policy.ObjectMeta;
import dev.outrider.core.policy.RequestAuthentication;
import dev.outrider.core.policy.RequestAuthentication.JwtRule;
import dev.outrider.proxy.authn.JwtVerifier;
import dev.outrider.proxy.authn.TokenCache;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.conscrypt.Conscrypt;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Provider;
import java.security.Signature;
import java.time.Duration;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * JWT verification: per algorithm uncached (parse + signature + claims) and cached (SHA-256 + lookup in
 * {@link TokenCache}), and ES256 per JCA provider (JDK, BouncyCastle, Conscrypt/BoringSSL).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class JwtBenchmark {
    private static final String ISSUER = "https://issuer.bench";

    private long now;
    private String rs256;
    private String es256;
    private String eddsa;
    private JwtVerifier jdk;
    private JwtVerifier bc;
    private JwtVerifier conscrypt;
    private TokenCache cached;

    @Setup
    public void setUp() throws Exception {
        RSAKey rsa = new RSAKeyGenerator(2048).keyID("rsa").generate();
        ECKey ec = new ECKeyGenerator(Curve.P_256).keyID("ec").generate();
        KeyPair ed = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        byte[] spki = ed.getPublic().getEncoded();
        OctetKeyPair edJwk = new OctetKeyPair.Builder(Curve.Ed25519,
                Base64URL.encode(Arrays.copyOfRange(spki, spki.length - 32, spki.length))).keyID("ed").build();
        JWKSet keys = new JWKSet(List.<JWK>of(rsa.toPublicJWK(), ec.toPublicJWK(), edJwk));

        now = System.currentTimeMillis() / 1000;
        JWTClaimsSet claims = new JWTClaimsSet.Builder().issuer(ISSUER).subject("alice").audience("api")
                .issueTime(new Date(now * 1000)).expirationTime(new Date((now + 3600) * 1000))
                .claim("groups", List.of("dev", "ops")).build();
        SignedJWT r = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("rsa").build(), claims);
        r.sign(new RSASSASigner(rsa));
        rs256 = r.serialize();
        SignedJWT e = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("ec").build(), claims);
        e.sign(new ECDSASigner(ec));
        es256 = e.serialize();
        String input = new JWSHeader.Builder(JWSAlgorithm.EdDSA).keyID("ed").build().toBase64URL() + "."
                + Base64URL.encode(claims.toString());
        Signature s = Signature.getInstance("Ed25519");
        s.initSign(ed.getPrivate());
        s.update(input.getBytes(StandardCharsets.US_ASCII));
        eddsa = input + "." + Base64URL.encode(s.sign());

        List<RequestAuthentication> policies = List.of(new RequestAuthentication(new ObjectMeta("jwt", "bench", null),
                null, List.of(new JwtRule(ISSUER, List.of("api"), null, keys.toString(), null, null, false, null))));
        jdk = verifier(policies, null);
        bc = verifier(policies, new BouncyCastleProvider());
        conscrypt = verifier(policies, Conscrypt.newProvider());
        cached = new TokenCache(jdk);
        for (JwtVerifier v : List.of(jdk, bc, conscrypt)) {
            for (String t : List.of(rs256, es256, eddsa)) {
                if (!(v.verify(t, now) instanceof JwtVerifier.Result.Valid)) {
                    throw new IllegalStateException("bench token does not verify");
                }
            }
        }
    }

    private static JwtVerifier verifier(List<RequestAuthentication> policies, Provider ecdsa) {
        return JwtVerifier.compile(policies, null, new JwtVerifier.Options(JwtVerifier.Options.DEFAULT_ALGORITHMS,
                Duration.ofSeconds(60), ecdsa, 16 * 1024));
    }

    @Benchmark
    public Object rs256Uncached() {
        return jdk.verify(rs256, now);
    }

    @Benchmark
    public Object es256Uncached() {
        return jdk.verify(es256, now);
    }

    @Benchmark
    public Object eddsaUncached() {
        return jdk.verify(eddsa, now);
    }

    @Benchmark
    public Object rs256Cached() {
        return cached.verify(rs256, now);
    }

    @Benchmark
    public Object es256Cached() {
        return cached.verify(es256, now);
    }

    @Benchmark
    public Object eddsaCached() {
        return cached.verify(eddsa, now);
    }

    @Benchmark
    public Object es256ProviderJdk() {
        return jdk.verify(es256, now);
    }

    @Benchmark
    public Object es256ProviderBouncyCastle() {
        return bc.verify(es256, now);
    }

    @Benchmark
    public Object es256ProviderConscrypt() {
        return conscrypt.verify(es256, now);
    }
}
