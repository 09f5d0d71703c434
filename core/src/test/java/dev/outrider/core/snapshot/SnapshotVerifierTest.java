package dev.outrider.core.snapshot;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.PlainHeader;
import com.nimbusds.jose.PlainObject;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.util.Base64URL;
import dev.outrider.core.policy.PolicyDocuments;
import dev.outrider.core.snapshot.SnapshotException.Reason;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static dev.outrider.core.snapshot.Snapshots.KID;
import static dev.outrider.core.snapshot.Snapshots.ORDERS;
import static dev.outrider.core.snapshot.Snapshots.PAYMENTS;
import static dev.outrider.core.snapshot.Snapshots.flip;
import static dev.outrider.core.snapshot.Snapshots.payloadJson;
import static dev.outrider.core.snapshot.Snapshots.signRaw;
import static dev.outrider.core.snapshot.Snapshots.snapshot;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** What the sidecar accepts, and every attack it refuses, each built for real with Nimbus. */
class SnapshotVerifierTest {
    private static final ECKey KEY = Snapshots.newKey(KID);
    private static final SnapshotSigner SIGNER = SnapshotSigner.of(KEY);
    private static final SnapshotVerifier VERIFIER = Snapshots.verifierFor(KEY, ORDERS);
    private static final JWSHeader ES256_HEADER = new JWSHeader.Builder(JWSAlgorithm.ES256)
            .keyID(KID).type(SnapshotSigner.TYPE).build();

    private static SnapshotException refusal(String jws) {
        return refusal(jws, 0);
    }

    private static SnapshotException refusal(String jws, long minimumVersion) {
        return catchThrowableOfType(SnapshotException.class, () -> VERIFIER.verify(jws, minimumVersion));
    }

    private static String signedPayload(String json) throws Exception {
        return signRaw(ES256_HEADER, json, new ECDSASigner(KEY));
    }

    @Test
    void theVerifiedSnapshotCarriesItsPoliciesParsedOnce() {
        WorkloadSnapshot snapshot = snapshot("43");

        VerifiedSnapshot verified = VERIFIER.verifyAndParse(SIGNER.sign(snapshot), 0);

        assertThat(verified.snapshot()).isEqualTo(snapshot);
        assertThat(verified.policies()).isNotEmpty()
                .isEqualTo(PolicyDocuments.parse(snapshot.policies(), "snapshot " + snapshot.version()));
    }

    @Test
    void signedSnapshotVerifiesToTheSameSnapshot() {
        WorkloadSnapshot snapshot = snapshot("42");

        assertThat(VERIFIER.verify(SIGNER.sign(snapshot))).isEqualTo(snapshot);
    }

    @Test
    void headerNamesAlgorithmKeyAndType() throws Exception {
        JWSHeader header = com.nimbusds.jose.JWSObject.parse(SIGNER.sign(snapshot("1"))).getHeader();

        assertThat(header.getAlgorithm()).isEqualTo(JWSAlgorithm.ES256);
        assertThat(header.getKeyID()).isEqualTo(KID);
        assertThat(header.getType()).isEqualTo(new JOSEObjectType("outrider-snapshot+jws"));
    }

    @Test
    void payloadIsDeterministicJsonInFieldOrder() {
        String first = SIGNER.sign(snapshot("7"));
        String second = SIGNER.sign(snapshot("7"));

        // ECDSA signatures differ each time; header and payload are byte for byte the same.
        assertThat(first.substring(0, first.lastIndexOf('.'))).isEqualTo(second.substring(0, second.lastIndexOf('.')));
        assertThat(payloadJson(snapshot("7"))).startsWith("""
                {"version":"7","workload":"spiffe://cluster.local/ns/shop/sa/orders","issuedAt":"2025-06-01T12:00:00Z",\
                "policies":"apiVersion: outrider.dev/v1\\n""")
                .contains("""
                        "endpoints":[{"service":"payments","namespace":"shop","address":"10.0.0.7:8443",\
                        "identity":"spiffe://cluster.local/ns/shop/sa/payments"},""");
    }

    @Test
    void algNoneIsRefused() {
        PlainHeader header = new PlainHeader.Builder().type(SnapshotSigner.TYPE).customParam("kid", KID).build();
        String unsecured = new PlainObject(header, new Payload(payloadJson(snapshot("9")))).serialize();

        assertThat(unsecured).endsWith(".");
        SnapshotException e = refusal(unsecured);
        assertThat(e.reason()).isEqualTo(Reason.UNSUPPORTED_ALGORITHM);
        assertThat(e).hasMessageContaining("alg none is refused");
    }

    /** The classic key-confusion attack: HMAC keyed with the public key, in the forms a verifier might hold. */
    @ParameterizedTest
    @ValueSource(strings = {"jwk-json", "x509-der"})
    void hs256KeyedWithThePublicKeyIsRefused(String form) throws Exception {
        byte[] secret = form.equals("jwk-json")
                ? KEY.toPublicJWK().toJSONString().getBytes(StandardCharsets.UTF_8)
                : KEY.toECPublicKey().getEncoded();
        JWSHeader header = new JWSHeader.Builder(JWSAlgorithm.HS256).keyID(KID).type(SnapshotSigner.TYPE).build();
        String forged = signRaw(header, payloadJson(snapshot("9")), new MACSigner(secret));

        SnapshotException e = refusal(forged);
        assertThat(e.reason()).isEqualTo(Reason.UNSUPPORTED_ALGORITHM);
        assertThat(e).hasMessageContaining("alg HS256 is refused");
    }

    @Test
    void rs256IsRefused() throws Exception {
        RSAKey rsa = new RSAKeyGenerator(2048).keyID(KID).generate();
        JWSHeader header = new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(KID).type(SnapshotSigner.TYPE).build();

        SnapshotException e = refusal(signRaw(header, payloadJson(snapshot("9")), new RSASSASigner(rsa)));
        assertThat(e.reason()).isEqualTo(Reason.UNSUPPORTED_ALGORITHM);
        assertThat(e).hasMessageContaining("alg RS256");
    }

    @Test
    void es384IsRefusedEvenThoughItIsEcdsa() throws Exception {
        ECKey p384 = new ECKeyGenerator(Curve.P_384).keyID(KID).generate();
        JWSHeader header = new JWSHeader.Builder(JWSAlgorithm.ES384).keyID(KID).type(SnapshotSigner.TYPE).build();

        assertThat(refusal(signRaw(header, payloadJson(snapshot("9")), new ECDSASigner(p384))).reason())
                .isEqualTo(Reason.UNSUPPORTED_ALGORITHM);
    }

    /** EdDSA signing needs Tink, absent here; the verifier refuses on the header before any signature check. */
    @Test
    void eddsaIsRefused() {
        String header = Base64URL.encode("{\"alg\":\"EdDSA\",\"kid\":\"cp-1\",\"typ\":\"outrider-snapshot+jws\"}").toString();
        String token = header + "." + Base64URL.encode(payloadJson(snapshot("9"))) + "." + Base64URL.encode(new byte[64]);

        SnapshotException e = refusal(token);
        assertThat(e.reason()).isEqualTo(Reason.UNSUPPORTED_ALGORITHM);
        assertThat(e).hasMessageContaining("alg EdDSA");
    }

    @Test
    void tokenSignedByAnotherKeyWithTheTrustedKidIsRefused() throws Exception {
        ECKey impostor = Snapshots.newKey(KID);

        SnapshotException e = refusal(SnapshotSigner.of(impostor).sign(snapshot("9")));
        assertThat(e.reason()).isEqualTo(Reason.BAD_SIGNATURE);
        assertThat(e).hasMessage("BAD_SIGNATURE: signature does not verify with key 'cp-1'");
    }

    @Test
    void payloadReplacedAfterSigningIsRefused() {
        String jws = SIGNER.sign(snapshot("5", PAYMENTS));
        String[] parts = jws.split("\\.");
        // The attacker re-targets a genuine snapshot of another workload at this one.
        String retargeted = parts[0] + "." + Base64URL.encode(payloadJson(snapshot("5", ORDERS))) + "." + parts[2];

        assertThat(refusal(retargeted).reason()).isEqualTo(Reason.BAD_SIGNATURE);
    }

    @ParameterizedTest
    @ValueSource(strings = {"payload", "signature"})
    void oneCharacterChangedIsRefused(String part) {
        String jws = SIGNER.sign(snapshot("5"));
        int firstDot = jws.indexOf('.');
        int lastDot = jws.lastIndexOf('.');
        // The middle of a segment: every bit of those characters is signed data (the last one may carry padding bits).
        int index = part.equals("payload") ? (firstDot + lastDot) / 2 : (lastDot + jws.length()) / 2;

        assertThat(refusal(flip(jws, index)).reason()).isEqualTo(Reason.BAD_SIGNATURE);
    }

    @Test
    void unknownOrMissingKidIsRefused() throws Exception {
        SnapshotException unknown = refusal(SnapshotSigner.of(Snapshots.newKey("cp-2")).sign(snapshot("1")));
        JWSHeader noKid = new JWSHeader.Builder(JWSAlgorithm.ES256).type(SnapshotSigner.TYPE).build();
        SnapshotException missing = refusal(signRaw(noKid, payloadJson(snapshot("1")), new ECDSASigner(KEY)));

        assertThat(unknown.reason()).isEqualTo(Reason.UNKNOWN_KEY);
        assertThat(unknown).hasMessageContaining("kid 'cp-2' is not a trusted snapshot key");
        assertThat(missing.reason()).isEqualTo(Reason.UNKNOWN_KEY);
        assertThat(missing).hasMessageContaining("no kid");
    }

    /** A JWT the same key signed for another purpose is not a snapshot (RFC 8725 §3.11, explicit typing). */
    @ParameterizedTest
    @ValueSource(strings = {"JWT", "", "outrider-snapshot+jwt"})
    void otherTypeIsRefused(String typ) throws Exception {
        JWSHeader.Builder header = new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(KID);
        if (!typ.isEmpty()) {
            header.type(new JOSEObjectType(typ));
        }

        assertThat(refusal(signRaw(header.build(), payloadJson(snapshot("1")), new ECDSASigner(KEY))).reason())
                .isEqualTo(Reason.WRONG_TYPE);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "not a token", "abc.def", "a.b.c.d", "!!!.e30.AAAA", "e30.e30.AAAA", "bnVsbA.e30.AAAA"})
    void notAJwsIsBadFormat(String text) {
        assertThat(refusal(text).reason()).isEqualTo(Reason.BAD_FORMAT);
    }

    @Test
    void tooLongIsRefusedBeforeParsing() {
        assertThat(refusal("e".repeat(SnapshotVerifier.MAX_LENGTH + 1)).reason()).isEqualTo(Reason.BAD_FORMAT);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "not json | not JSON",
            "[] | must be an object",
            "{\"version\":\"1\"} | workload: must be a string",
            "{\"version\":\"1\",\"workload\":\"spiffe://cluster.local/ns/shop/sa/orders\",\"issuedAt\":\"2025-06-01T12:00:00Z\",\"policies\":\"\",\"endpoints\":[],\"extra\":1} | extra: unknown field",
            "{\"version\":\"01\",\"workload\":\"spiffe://cluster.local/ns/shop/sa/orders\",\"issuedAt\":\"2025-06-01T12:00:00Z\",\"policies\":\"\",\"endpoints\":[]} | version '01' is not a non-negative decimal",
            "{\"version\":1,\"workload\":\"spiffe://cluster.local/ns/shop/sa/orders\",\"issuedAt\":\"2025-06-01T12:00:00Z\",\"policies\":\"\",\"endpoints\":[]} | version: must be a string",
            "{\"version\":\"1\",\"workload\":\"https://orders\",\"issuedAt\":\"2025-06-01T12:00:00Z\",\"policies\":\"\",\"endpoints\":[]} | workload: not a SPIFFE ID",
            "{\"version\":\"1\",\"workload\":\"spiffe://cluster.local/ns/shop/sa/orders\",\"issuedAt\":\"yesterday\",\"policies\":\"\",\"endpoints\":[]} | issuedAt: not an ISO-8601 instant",
            "{\"version\":\"1\",\"workload\":\"spiffe://cluster.local/ns/shop/sa/orders\",\"issuedAt\":\"2025-06-01T12:00:00Z\",\"policies\":\"\",\"endpoints\":{}} | endpoints: must be an array",
            "{\"version\":\"1\",\"workload\":\"spiffe://cluster.local/ns/shop/sa/orders\",\"issuedAt\":\"2025-06-01T12:00:00Z\",\"policies\":\"\",\"endpoints\":[{\"service\":\"p\",\"namespace\":\"shop\",\"address\":\"10.0.0.7\",\"identity\":\"spiffe://cluster.local/ns/shop/sa/p\"}]} | endpoints[0]: endpoint address '10.0.0.7' needs a port",
            "{\"version\":\"1\",\"workload\":\"spiffe://cluster.local/ns/shop/sa/orders\",\"issuedAt\":\"2025-06-01T12:00:00Z\",\"policies\":\"\",\"endpoints\":[{\"service\":\"p\",\"namespace\":\"shop\",\"address\":\"10.0.0.7:1\",\"identity\":\"p\"}]} | endpoints[0].identity: not a SPIFFE ID",
            "{\"version\":\"1\",\"workload\":\"spiffe://cluster.local/ns/shop/sa/orders\",\"issuedAt\":\"2025-06-01T12:00:00Z\",\"policies\":\"\",\"endpoints\":[{\"service\":\"p\",\"namespace\":\"shop\",\"address\":\"10.0.0.7:1\",\"identity\":\"spiffe://cluster.local/ns/shop/sa/p\",\"protocol\":\"grpc\"}]} | endpoints[0].protocol: 'grpc' is not a protocol",
            "{\"version\":\"1\",\"version\":\"2\"} | Duplicate field 'version'",
    })
    void signedButInvalidPayloadIsRefusedNamingTheField(String json, String problem) throws Exception {
        SnapshotException e = refusal(signedPayload(json));

        assertThat(e.reason()).isEqualTo(Reason.INVALID_PAYLOAD);
        assertThat(e).hasMessageStartingWith("INVALID_PAYLOAD: payload: ").hasMessageContaining(problem);
    }

    @Test
    void snapshotForAnotherWorkloadIsRefused() {
        SnapshotException e = refusal(SIGNER.sign(snapshot("3", PAYMENTS)));

        assertThat(e.reason()).isEqualTo(Reason.WRONG_WORKLOAD);
        assertThat(e).hasMessage("WRONG_WORKLOAD: snapshot 3 is for spiffe://cluster.local/ns/shop/sa/payments,"
                + " this sidecar is spiffe://cluster.local/ns/shop/sa/orders");
    }

    @Test
    void olderVersionIsRefusedSameOrNewerAccepted() {
        String v9 = SIGNER.sign(snapshot("9"));

        SnapshotException e = refusal(v9, 10);
        assertThat(e.reason()).isEqualTo(Reason.STALE_VERSION);
        assertThat(e).hasMessageContaining("snapshot 9 is older than the applied version 10");
        assertThat(VERIFIER.verify(v9, 9).version()).isEqualTo("9");
        assertThat(VERIFIER.verify(v9, 8).version()).isEqualTo("9");
        // Numeric, not lexicographic: "10" is newer than "9".
        assertThat(VERIFIER.verify(SIGNER.sign(snapshot("10")), 9).versionNumber()).isEqualTo(10);
    }

    @Test
    void theSameTextAgainIsAcceptedOnceCheckedButStillHeldToTheVersionFloor() {
        SnapshotVerifier verifier = Snapshots.verifierFor(KEY, ORDERS);
        String v7 = SIGNER.sign(snapshot("7"));

        VerifiedSnapshot first = verifier.verifyAndParse(v7, 0);
        assertThat(verifier.verifyAndParse(new String(v7.toCharArray()), 7)).as("the same text: not checked again")
                .isSameAs(first);
        SnapshotException stale = catchThrowableOfType(SnapshotException.class, () -> verifier.verify(v7, 8));
        assertThat(stale.reason()).isEqualTo(Reason.STALE_VERSION);
        String tampered = flip(v7, v7.indexOf('.') + 5);
        assertThat(catchThrowableOfType(SnapshotException.class, () -> verifier.verify(tampered)))
                .as("other text is checked").isNotNull();
        assertThat(verifier.verifyAndParse(v7, 0)).isSameAs(first);
    }

    @Test
    void theTextsOfSeveralReplicasAreEachCheckedOnce() {
        SnapshotVerifier verifier = Snapshots.verifierFor(KEY, ORDERS);
        List<String> replicas = new ArrayList<>(); // the same snapshot, signed by each replica: other signatures
        for (int i = 0; i < SnapshotVerifier.RECENT; i++) {
            replicas.add(SIGNER.sign(snapshot("7")));
        }
        assertThat(Set.copyOf(replicas)).hasSize(SnapshotVerifier.RECENT);
        List<VerifiedSnapshot> first = replicas.stream().map(jws -> verifier.verifyAndParse(jws, 0)).toList();
        for (int i = replicas.size() - 1; i >= 0; i--) {
            assertThat(verifier.verifyAndParse(replicas.get(i), 7)).as("replica %d's text again", i)
                    .isSameAs(first.get(i));
        }
        verifier.verifyAndParse(SIGNER.sign(snapshot("8")), 7); // one more: the text least recently accepted goes
        VerifiedSnapshot again = verifier.verifyAndParse(replicas.getFirst(), 7);
        assertThat(again).as("checked anew").isNotSameAs(first.getFirst());
        assertThat(again.versionNumber()).isEqualTo(7);
    }

    @Test
    void instancesReceivingOneTextAtOnceCheckItOnce() throws Exception {
        SnapshotVerifier verifier = Snapshots.verifierFor(KEY, ORDERS);
        String v7 = SIGNER.sign(snapshot("7"));
        int n = 8;
        java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(n);
        List<java.util.concurrent.Future<VerifiedSnapshot>> results = new ArrayList<>();
        try (var threads = java.util.concurrent.Executors.newFixedThreadPool(n)) {
            for (int i = 0; i < n; i++) {
                results.add(threads.submit(() -> {
                    start.await();
                    return verifier.verifyAndParse(v7, 0);
                }));
            }
        }
        VerifiedSnapshot first = results.getFirst().get();
        for (var r : results) {
            assertThat(r.get()).as("one check, one result").isSameAs(first);
        }
    }

    @Test
    void signedSnapshotWithInvalidPolicyIsRefusedNamingDocumentAndField() {
        WorkloadSnapshot bad = new WorkloadSnapshot("4", ORDERS, snapshot("4").issuedAt(), """
                apiVersion: outrider.dev/v1
                kind: AuthorizationPolicy
                metadata: {name: p, namespace: shop}
                spec: {rules: [{to: [{operation: {methods: [get]}}]}]}
                """, snapshot("4").endpoints());

        SnapshotException e = refusal(SIGNER.sign(bad));
        assertThat(e.reason()).isEqualTo(Reason.INVALID_POLICIES);
        assertThat(e).hasMessageStartingWith("INVALID_POLICIES: snapshot 4: AuthorizationPolicy shop/p: "
                + "spec.rules[0].to[0].operation.methods[0]: ");
    }
}
