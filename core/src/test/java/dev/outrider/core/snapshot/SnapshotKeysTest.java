package dev.outrider.core.snapshot;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.outrider.core.snapshot.Snapshots.ORDERS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Key configuration is checked once, when signer and verifier are built; a bad key fails start-up, named. */
class SnapshotKeysTest {
    private static final ECKey KEY = Snapshots.newKey("cp-1");

    private static SnapshotVerifier verifier(JWK... keys) {
        return new SnapshotVerifier(new JWKSet(List.of(keys)), ORDERS);
    }

    @Test
    void verifierTrustsSeveralKeysForRotation() {
        ECKey next = Snapshots.newKey("cp-2");
        SnapshotVerifier v = verifier(KEY.toPublicJWK(), next.toPublicJWK());

        assertThat(v.verify(SnapshotSigner.of(KEY).sign(Snapshots.snapshot("1"))).version()).isEqualTo("1");
        assertThat(v.verify(SnapshotSigner.of(next).sign(Snapshots.snapshot("2"))).version()).isEqualTo("2");
        assertThat(v.workload()).isEqualTo(ORDERS);
    }

    @Test
    void verifierRefusesKeysItCannotTrust() throws Exception {
        ECKey p384 = new ECKeyGenerator(Curve.P_384).keyID("big").generate();
        ECKey encryption = new ECKey.Builder(KEY.toPublicJWK()).keyID("enc").keyUse(KeyUse.ENCRYPTION).build();
        ECKey es512 = new ECKey.Builder(KEY.toPublicJWK()).keyID("alg").algorithm(JWSAlgorithm.ES512).build();

        assertThatThrownBy(() -> verifier(KEY)).hasMessage("trusted snapshot key 'cp-1' has a private part; give the sidecar the public key only");
        assertThatThrownBy(() -> verifier(new RSAKeyGenerator(2048).keyID("rsa").generate().toPublicJWK()))
                .hasMessage("trusted snapshot key 'rsa' is not an EC P-256 key (ES256)");
        assertThatThrownBy(() -> verifier(p384.toPublicJWK())).hasMessageContaining("'big' is not an EC P-256 key");
        assertThatThrownBy(() -> verifier(encryption)).hasMessageContaining("'enc' has use 'enc', not 'sig'");
        assertThatThrownBy(() -> verifier(es512)).hasMessageContaining("'alg' has alg 'ES512', not ES256");
        assertThatThrownBy(() -> verifier(new ECKey.Builder(KEY.toPublicJWK()).keyID(null).build()))
                .hasMessage("trusted snapshot key without kid");
        assertThatThrownBy(() -> verifier(KEY.toPublicJWK(), Snapshots.newKey("cp-1").toPublicJWK()))
                .hasMessage("trusted snapshot key 'cp-1' is listed twice");
        assertThatThrownBy(() -> verifier()).hasMessage("no trusted snapshot keys");
    }

    @Test
    void signerRefusesKeysThatCannotSignEs256() throws Exception {
        ECKey p384 = new ECKeyGenerator(Curve.P_384).keyID("big").generate();

        assertThatThrownBy(() -> new SnapshotSigner(p384.toECPrivateKey(), "big"))
                .hasMessage("snapshot signing key must be on curve P-256 (ES256)");
        assertThatThrownBy(() -> new SnapshotSigner(KEY.toECPrivateKey(), " "))
                .hasMessage("snapshot signing key id must not be blank");
        assertThatThrownBy(() -> SnapshotSigner.of(KEY.toPublicJWK())).hasMessage("snapshot signing JWK has no private part");
        assertThatThrownBy(() -> SnapshotSigner.of(new ECKey.Builder(KEY).keyID(null).build()))
                .hasMessage("snapshot signing JWK has no kid");
        assertThat(new SnapshotSigner(KEY.toECPrivateKey(), "cp-1").keyId()).isEqualTo("cp-1");
    }
}
