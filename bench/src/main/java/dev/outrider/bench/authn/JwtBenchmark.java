package dev.outrider.bench.authn;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.crypto.impl.ECDSA;
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
import org.conscrypt.Conscrypt;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Provider;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * JWT verification as the sidecar does it: per algorithm uncached ({@link JwtVerifier#verify}: parse, signature
 * with the JDK's providers, claims) and cached (SHA-256 + lookup in {@link TokenCache}).
 *
 * <p>The {@code *Signature*} rows time the signature step alone, per algorithm and per JCA provider: the JDK's
 * (what the sidecar uses) and Conscrypt's (BoringSSL, which the sidecar used for ECDSA until the choice in
 * bench/RESULTS.md "JWT verification"; kept here so that choice can be measured again). Each call does what
 * Nimbus does per verification: {@code Signature.getInstance} by name from the provider, {@code initVerify},
 * {@code update} with the JWS signing input, {@code verify}. The public key is the provider's own, made once
 * from the same X.509 encoding, as a verifier is built once per JWKS.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class JwtBenchmark {
    private static final String ISSUER = "https://issuer.bench";

    /** One algorithm's signature check, bound to a provider: the inputs a JWS verifier has per token. */
    private record SignatureCheck(String algorithm, Provider provider, PublicKey key, byte[] input, byte[] signature) {
        boolean verify() throws GeneralSecurityException {
            Signature s = provider == null ? Signature.getInstance(algorithm) : Signature.getInstance(algorithm, provider);
            s.initVerify(key);
            s.update(input);
            return s.verify(signature);
        }

        static SignatureCheck of(String algorithm, String keyAlgorithm, Provider provider, PublicKey jdkKey,
                                 String token, boolean derSignature) throws Exception {
            KeyFactory kf = provider == null ? KeyFactory.getInstance(keyAlgorithm)
                    : KeyFactory.getInstance(keyAlgorithm, provider);
            PublicKey key = kf.generatePublic(new X509EncodedKeySpec(jdkKey.getEncoded()));
            int dot = token.lastIndexOf('.');
            byte[] input = token.substring(0, dot).getBytes(StandardCharsets.US_ASCII);
            byte[] sig = Base64URL.from(token.substring(dot + 1)).decode();
            SignatureCheck check = new SignatureCheck(algorithm, provider, key, input,
                    derSignature ? ECDSA.transcodeSignatureToDER(sig) : sig);
            if (!check.verify()) {
                throw new IllegalStateException(algorithm + " does not verify with " + provider);
            }
            return check;
        }
    }

    private long now;
    private String rs256;
    private String es256;
    private String eddsa;
    private JwtVerifier jdk;
    private TokenCache cached;
    private SignatureCheck rs256Jdk;
    private SignatureCheck rs256Conscrypt;
    private SignatureCheck es256Jdk;
    private SignatureCheck es256Conscrypt;
    private SignatureCheck eddsaJdk;
    private SignatureCheck eddsaConscrypt;

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
        jdk = JwtVerifier.compile(policies, null, JwtVerifier.Options.defaults());
        cached = new TokenCache(jdk);
        for (String t : List.of(rs256, es256, eddsa)) {
            if (!(jdk.verify(t, now) instanceof JwtVerifier.Result.Valid)) {
                throw new IllegalStateException("bench token does not verify");
            }
        }

        Provider conscrypt = Conscrypt.newProvider();
        rs256Jdk = SignatureCheck.of("SHA256withRSA", "RSA", null, rsa.toPublicKey(), rs256, false);
        rs256Conscrypt = SignatureCheck.of("SHA256withRSA", "RSA", conscrypt, rsa.toPublicKey(), rs256, false);
        es256Jdk = SignatureCheck.of("SHA256withECDSA", "EC", null, ec.toPublicKey(), es256, true);
        es256Conscrypt = SignatureCheck.of("SHA256withECDSA", "EC", conscrypt, ec.toPublicKey(), es256, true);
        eddsaJdk = SignatureCheck.of("Ed25519", "Ed25519", null, ed.getPublic(), eddsa, false);
        eddsaConscrypt = SignatureCheck.of("EdDSA", "EdDSA", conscrypt, ed.getPublic(), eddsa, false);
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
    public boolean rs256SignatureJdk() throws GeneralSecurityException {
        return rs256Jdk.verify();
    }

    @Benchmark
    public boolean rs256SignatureConscrypt() throws GeneralSecurityException {
        return rs256Conscrypt.verify();
    }

    @Benchmark
    public boolean es256SignatureJdk() throws GeneralSecurityException {
        return es256Jdk.verify();
    }

    @Benchmark
    public boolean es256SignatureConscrypt() throws GeneralSecurityException {
        return es256Conscrypt.verify();
    }

    @Benchmark
    public boolean eddsaSignatureJdk() throws GeneralSecurityException {
        return eddsaJdk.verify();
    }

    @Benchmark
    public boolean eddsaSignatureConscrypt() throws GeneralSecurityException {
        return eddsaConscrypt.verify();
    }
}
