package dev.outrider.proxy.authn;

import com.nimbusds.jose.JOSEException;
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

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.util.Arrays;
import java.util.Date;
import java.util.List;

/** Keys and tokens made in the tests: RSA 2048, EC P-256 (Nimbus generators), Ed25519 (JDK key pair). */
final class TestTokens {
    static final String ISSUER = "https://issuer.test";
    static final long NOW = 1_800_000_000L;

    final RSAKey rsa;
    final ECKey ec;
    final KeyPair ed;
    final OctetKeyPair edJwk;

    TestTokens(String suffix) {
        try {
            rsa = new RSAKeyGenerator(2048).keyID("rsa-" + suffix).generate();
            ec = new ECKeyGenerator(Curve.P_256).keyID("ec-" + suffix).generate();
            ed = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
            edJwk = new OctetKeyPair.Builder(Curve.Ed25519, Base64URL.encode(rawEd25519(ed))).keyID("ed-" + suffix).build();
        } catch (JOSEException | GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The 32-octet RFC 8032 encoding: the tail of the JDK's X.509 SubjectPublicKeyInfo (RFC 8410). */
    static byte[] rawEd25519(KeyPair kp) {
        byte[] spki = kp.getPublic().getEncoded();
        return Arrays.copyOfRange(spki, spki.length - 32, spki.length);
    }

    JWKSet publicSet() {
        return new JWKSet(List.<JWK>of(rsa.toPublicJWK(), ec.toPublicJWK(), edJwk));
    }

    static JWTClaimsSet.Builder claims() {
        return new JWTClaimsSet.Builder().issuer(ISSUER).subject("alice").audience("api")
                .issueTime(new Date(NOW * 1000)).expirationTime(new Date((NOW + 600) * 1000))
                .claim("groups", List.of("dev", "ops"));
    }

    String rs256(JWTClaimsSet claims) {
        return sign(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(rsa.getKeyID()).build(), claims);
    }

    String es256(JWTClaimsSet claims) {
        return sign(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(ec.getKeyID()).build(), claims);
    }

    String eddsa(JWTClaimsSet claims) {
        return sign(new JWSHeader.Builder(JWSAlgorithm.EdDSA).keyID(edJwk.getKeyID()).build(), claims);
    }

    /** Signs with the key matching the header's algorithm. */
    String sign(JWSHeader header, JWTClaimsSet claims) {
        try {
            if (header.getAlgorithm().equals(JWSAlgorithm.RS256)) {
                SignedJWT jwt = new SignedJWT(header, claims);
                jwt.sign(new RSASSASigner(rsa));
                return jwt.serialize();
            }
            if (header.getAlgorithm().equals(JWSAlgorithm.ES256)) {
                SignedJWT jwt = new SignedJWT(header, claims);
                jwt.sign(new ECDSASigner(ec));
                return jwt.serialize();
            }
            return signEd25519(header, claims, ed);
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Nimbus signs Ed25519 through Tink, which we do not ship: sign with the JDK instead. */
    static String signEd25519(JWSHeader header, JWTClaimsSet claims, KeyPair kp) {
        String input = header.toBase64URL() + "." + Base64URL.encode(claims.toString());
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initSign(kp.getPrivate());
            s.update(input.getBytes(StandardCharsets.US_ASCII));
            return input + "." + Base64URL.encode(s.sign());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    static RequestAuthentication policy(JwtRule... rules) {
        return new RequestAuthentication(new ObjectMeta("jwt", "default", null), null, List.of(rules));
    }

    static JwtRule inlineRule(JWKSet keys, List<String> audiences) {
        return new JwtRule(ISSUER, audiences, null, keys.toString(), null, null, false, null);
    }

    static JwtRule uriRule(String uri) {
        return new JwtRule(ISSUER, List.of(), uri, null, null, null, false, null);
    }
}
