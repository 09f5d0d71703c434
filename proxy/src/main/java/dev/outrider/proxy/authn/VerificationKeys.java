package dev.outrider.proxy.authn;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.RSAKey;

import java.util.ArrayList;
import java.util.List;

/**
 * One JWK Set turned, once, into ready-to-use verifiers: built when keys arrive (start-up for inline
 * {@code jwks}, each fetch for a {@code jwksUri}), never per request. Immutable, so it is shared by every
 * event loop without locks.
 *
 * <p>Only public signature keys are kept: RSA of at least 2048 bits, EC on P-256/P-384/P-521, OKP on
 * Ed25519. Symmetric ({@code oct}) keys are dropped, so no HMAC verifier can ever be built from a JWKS;
 * keys marked {@code use: enc} are dropped; private members, if a JWKS carries them, are discarded.
 *
 * <p>Signatures are checked by the JDK's own providers (SunRsaSign, SunEC, and Ed25519 through
 * {@link Ed25519JdkVerifier}): no second native crypto library beside netty-tcnative's BoringSSL. An uncached
 * ES256 check costs more this way than in BoringSSL; {@link TokenCache} pays it once per token (figures and
 * the choice in bench/RESULTS.md, "JWT verification").
 */
final class VerificationKeys {
    static final VerificationKeys EMPTY = new VerificationKeys(new Key[0]);

    /** A usable key: its {@code kid} (may be null), its {@code alg} (may be null) and its family. */
    record Key(String kid, JWSAlgorithm alg, Family family, JWSVerifier verifier) {
        boolean fits(JWSAlgorithm tokenAlg) {
            return (alg == null || alg.equals(tokenAlg)) && family.algorithms.contains(tokenAlg);
        }
    }

    /** Key type (and curve) → the JWS algorithms it can verify (RFC 7518 §3.3-3.5, RFC 8037 §3.1). */
    enum Family {
        RSA(List.of(JWSAlgorithm.RS256, JWSAlgorithm.RS384, JWSAlgorithm.RS512,
                JWSAlgorithm.PS256, JWSAlgorithm.PS384, JWSAlgorithm.PS512)),
        EC_P256(List.of(JWSAlgorithm.ES256)),
        EC_P384(List.of(JWSAlgorithm.ES384)),
        EC_P521(List.of(JWSAlgorithm.ES512)),
        ED25519(List.of(JWSAlgorithm.EdDSA, JWSAlgorithm.Ed25519));

        final List<JWSAlgorithm> algorithms;

        Family(List<JWSAlgorithm> algorithms) {
            this.algorithms = algorithms;
        }
    }

    private final Key[] keys;

    private VerificationKeys(Key[] keys) {
        this.keys = keys;
    }

    static VerificationKeys of(JWKSet set) {
        List<Key> usable = new ArrayList<>();
        for (JWK jwk : set.getKeys()) {
            Key key = toKey(jwk);
            if (key != null) {
                usable.add(key);
            }
        }
        return new VerificationKeys(usable.toArray(new Key[0]));
    }

    private static Key toKey(JWK jwk) {
        if (jwk.getKeyUse() != null && !KeyUse.SIGNATURE.equals(jwk.getKeyUse())) {
            return null;
        }
        JWSAlgorithm alg = jwk.getAlgorithm() == null ? null : JWSAlgorithm.parse(jwk.getAlgorithm().getName());
        try {
            switch (jwk) {
                case RSAKey rsa -> {
                    if (rsa.size() < 2048) {
                        return null;
                    }
                    return new Key(jwk.getKeyID(), alg, Family.RSA, new RSASSAVerifier(rsa.toPublicJWK()));
                }
                case ECKey ec -> {
                    Family family = ecFamily(ec.getCurve());
                    if (family == null) {
                        return null;
                    }
                    // The ECKey constructor has already checked that the point is on the curve.
                    return new Key(jwk.getKeyID(), alg, family, new ECDSAVerifier(ec.toPublicJWK()));
                }
                case OctetKeyPair okp -> {
                    if (!Curve.Ed25519.equals(okp.getCurve())) {
                        return null;
                    }
                    return new Key(jwk.getKeyID(), alg, Family.ED25519, new Ed25519JdkVerifier(okp.toPublicJWK()));
                }
                default -> {
                    return null; // oct (HMAC) and anything unknown: never a verification key
                }
            }
        } catch (JOSEException e) {
            return null;
        }
    }

    private static Family ecFamily(Curve curve) {
        if (Curve.P_256.equals(curve)) {
            return Family.EC_P256;
        }
        if (Curve.P_384.equals(curve)) {
            return Family.EC_P384;
        }
        if (Curve.P_521.equals(curve)) {
            return Family.EC_P521;
        }
        return null;
    }

    int size() {
        return keys.length;
    }

    Key get(int i) {
        return keys[i];
    }
}
