package dev.outrider.controlplane.ca;

import dev.outrider.core.model.SpiffeId;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Set;

import static dev.outrider.controlplane.ca.TestPki.csr;
import static dev.outrider.controlplane.ca.TestPki.dns;
import static dev.outrider.controlplane.ca.TestPki.request;
import static dev.outrider.controlplane.ca.TestPki.uri;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class WorkloadCaTest {
    static final String TD = "cluster.local";
    static final WorkloadIdentity ORDERS = new WorkloadIdentity(TD, "shop", "orders");
    static final String ORDERS_ID = "spiffe://cluster.local/ns/shop/sa/orders";
    private static final Instant NOW = Instant.parse("2026-03-01T10:00:00.250Z");
    private static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
    private static final String SERVER_AUTH = "1.3.6.1.5.5.7.3.1";

    private static KeyPair caKeys;
    private static X509Certificate caCert;
    private static KeyPair p256;

    private final TestPki.MutableClock clock = new TestPki.MutableClock(NOW);

    @TempDir
    Path dir;

    @BeforeAll
    static void makeCa() throws Exception {
        caKeys = TestPki.ec("secp256r1");
        caCert = TestPki.ca(caKeys, NOW, Duration.ofDays(3650));
        p256 = TestPki.ec("secp256r1");
    }

    private WorkloadCa ca() throws CaException {
        return WorkloadCa.of(List.of(caCert), caKeys.getPrivate(), TD, clock);
    }

    @Test
    void issuesAnSvidForAnEcP256Csr() throws Exception {
        SignedCertificate issued = ca().sign(csr(p256, null).getEncoded(), ORDERS, WorkloadCa.DEFAULT_TTL);

        List<X509Certificate> chain = parse(issued.pemChain());
        assertThat(chain).containsExactly(issued.certificate(), caCert);
        X509Certificate leaf = chain.getFirst();
        validate(leaf, caCert);
        assertSvid(leaf, ORDERS_ID);
        assertThat(leaf.getPublicKey()).isEqualTo(p256.getPublic());
        assertThat(leaf.getKeyUsage()[2]).as("keyEncipherment for EC").isFalse();
        assertThat(leaf.getNotBefore().toInstant()).isEqualTo(NOW.minus(Duration.ofMinutes(1)).truncatedTo(ChronoUnit.SECONDS));
        assertThat(leaf.getNotAfter().toInstant()).isEqualTo(NOW.plus(Duration.ofHours(24)).truncatedTo(ChronoUnit.SECONDS));
        assertThat(issued.notAfter()).isEqualTo(leaf.getNotAfter().toInstant());
        assertThat(leaf.getSerialNumber().signum()).isPositive();
        assertThat(leaf.getSerialNumber().bitLength()).isLessThanOrEqualTo(128);
        assertThat(leaf.getSubjectX500Principal().getName()).isEqualTo("O=cluster.local");
        assertThat(leaf.getIssuerX500Principal()).isEqualTo(caCert.getSubjectX500Principal());
    }

    @Test
    void issuesAnSvidForAnRsa2048CsrGivenAsPem() throws Exception {
        KeyPair rsa = TestPki.rsa(2048);
        String pem = TestPki.pem(csr(rsa, request(false, uri(ORDERS_ID))));
        assertThat(pem).startsWith("-----BEGIN CERTIFICATE REQUEST-----");

        SignedCertificate issued = ca().sign(pem, ORDERS, Duration.ofHours(1));

        X509Certificate leaf = parse(issued.pemChain()).getFirst();
        validate(leaf, caCert);
        assertSvid(leaf, ORDERS_ID);
        assertThat(leaf.getPublicKey()).isEqualTo(rsa.getPublic());
        assertThat(leaf.getKeyUsage()[2]).as("keyEncipherment for RSA").isTrue();
        assertThat(leaf.getNotAfter().toInstant()).isEqualTo(NOW.plus(Duration.ofHours(1)).truncatedTo(ChronoUnit.SECONDS));
    }

    @Test
    void issuesForP384AndGivesEveryCertificateItsOwnSerial() throws Exception {
        WorkloadCa ca = ca();
        X509Certificate a = ca.sign(csr(TestPki.ec("secp384r1"), null).getEncoded(), ORDERS, WorkloadCa.MIN_TTL).certificate();
        X509Certificate b = ca.sign(csr(p256, null).getEncoded(), ORDERS, WorkloadCa.MAX_TTL).certificate();

        validate(a, caCert);
        validate(b, caCert);
        assertThat(a.getSerialNumber()).isNotEqualTo(b.getSerialNumber());
    }

    @Test
    void dnsSansRequestedAreNotIssued() throws Exception {
        var request = csr(p256, request(false, dns("orders.shop.svc"), uri(ORDERS_ID)));

        X509Certificate leaf = ca().sign(request.getEncoded(), ORDERS, WorkloadCa.DEFAULT_TTL).certificate();

        assertThat(leaf.getSubjectAlternativeNames()).containsExactly(List.of(6, ORDERS_ID));
    }

    @Test
    void csrAskingForAnotherIdentityIsRefusedNamingBoth() throws Exception {
        String other = "spiffe://cluster.local/ns/shop/sa/payments";
        for (var request : List.of(csr(p256, request(false, uri(other))),
                csr(p256, request(false, uri(ORDERS_ID), uri(other))),
                csr(p256, request(false, uri("spiffe://cluster.local/ns/shop/sa/orders/")))) ) {
            assertThatThrownBy(() -> ca().sign(request.getEncoded(), ORDERS, WorkloadCa.DEFAULT_TTL))
                    .isInstanceOfSatisfying(CaException.class, e -> {
                        assertThat(e.reason()).isEqualTo(CaException.Reason.IDENTITY_MISMATCH);
                        assertThat(e.getMessage()).startsWith("CSR asks for identity 'spiffe://cluster.local/ns/shop/sa/")
                                .endsWith("' but the bootstrap credential proves " + ORDERS_ID);
                    });
        }
        assertThatThrownBy(() -> ca().sign(csr(p256, request(false, uri(other))).getEncoded(), ORDERS, WorkloadCa.DEFAULT_TTL))
                .hasMessage("CSR asks for identity '" + other + "' but the bootstrap credential proves " + ORDERS_ID);
    }

    @Test
    void identityOutsideTheCasTrustDomainIsRefused() {
        WorkloadIdentity foreign = new WorkloadIdentity("other.mesh", "shop", "orders");

        assertThatThrownBy(() -> ca().sign(csr(p256, null).getEncoded(), foreign, WorkloadCa.DEFAULT_TTL))
                .isInstanceOfSatisfying(CaException.class,
                        e -> assertThat(e.reason()).isEqualTo(CaException.Reason.IDENTITY_MISMATCH))
                .hasMessage("identity spiffe://other.mesh/ns/shop/sa/orders is not in this CA's trust domain cluster.local");
    }

    @Test
    void tamperedCsrIsRefused() throws Exception {
        byte[] der = csr(p256, null).getEncoded();
        // "orders.shop" in the subject becomes "ordets.shop": still a well-formed CSR, but not what was signed.
        int at = indexOf(der, "orders.shop".getBytes(StandardCharsets.US_ASCII));
        der[at + 4] = 't';
        assertThat(new PKCS10CertificationRequest(der).getSubject().toString()).isEqualTo("CN=ordets.shop");

        assertThatThrownBy(() -> ca().sign(der, ORDERS, WorkloadCa.DEFAULT_TTL))
                .isInstanceOfSatisfying(CaException.class,
                        e -> assertThat(e.reason()).isEqualTo(CaException.Reason.INVALID_REQUEST))
                .hasMessage("CSR signature does not verify with its public key (no proof of possession)");
    }

    @Test
    void csrSignedWithAnotherKeyIsRefused() throws Exception {
        // The public key of one pair, signed by another: no proof of possession.
        KeyPair other = TestPki.ec("secp256r1");
        var mixed = csr(new KeyPair(p256.getPublic(), other.getPrivate()), null);

        assertThatThrownBy(() -> ca().sign(mixed.getEncoded(), ORDERS, WorkloadCa.DEFAULT_TTL))
                .isInstanceOf(CaException.class).hasMessageContaining("does not verify");
    }

    @Test
    void malformedCsrIsRefused() {
        assertThatThrownBy(() -> ca().sign(new byte[] {0x30, 0x03, 0x02, 0x01, 0x01}, ORDERS, WorkloadCa.DEFAULT_TTL))
                .isInstanceOfSatisfying(CaException.class,
                        e -> assertThat(e.reason()).isEqualTo(CaException.Reason.INVALID_REQUEST))
                .hasMessageStartingWith("not a DER PKCS#10 certification request");
        assertThatThrownBy(() -> ca().sign("no pem here", ORDERS, WorkloadCa.DEFAULT_TTL))
                .isInstanceOf(CaException.class).hasMessage("no PEM CERTIFICATE REQUEST found");
        assertThatThrownBy(() -> ca().sign(new byte[CsrCheck.MAX_CSR_BYTES + 1], ORDERS, WorkloadCa.DEFAULT_TTL))
                .isInstanceOf(CaException.class).hasMessageContaining("more than 65536");
    }

    @Test
    void weakKeysAreRefused() throws Exception {
        var rsa1024 = csr(TestPki.rsa(1024), null);
        assertThatThrownBy(() -> ca().sign(rsa1024.getEncoded(), ORDERS, WorkloadCa.DEFAULT_TTL))
                .isInstanceOfSatisfying(CaException.class,
                        e -> assertThat(e.reason()).isEqualTo(CaException.Reason.INVALID_REQUEST))
                .hasMessage("RSA key of 1024 bits is not accepted; 2048 to 8192 bits");

        var p192 = csr(TestPki.ecWithBouncyCastle("secp192r1"), null, TestPki.BC);
        assertThatThrownBy(() -> ca().sign(p192.getEncoded(), ORDERS, WorkloadCa.DEFAULT_TTL))
                .isInstanceOf(CaException.class)
                .hasMessage("EC curve prime192v1 is not accepted; only P-256 and P-384");
    }

    /** Decision: a CSR's basicConstraints/keyUsage are ignored like every requested extension, not refused. */
    @Test
    void csrAskingForCaTrueStillGetsALeaf() throws Exception {
        var request = csr(p256, request(true, uri(ORDERS_ID)));
        assertThat(request.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest)).hasSize(1);

        X509Certificate leaf = ca().sign(request.getEncoded(), ORDERS, WorkloadCa.DEFAULT_TTL).certificate();

        assertThat(leaf.getBasicConstraints()).isEqualTo(-1);
        assertThat(leaf.getCriticalExtensionOIDs()).contains("2.5.29.19");
        assertThat(leaf.getKeyUsage()[5]).as("keyCertSign").isFalse();
        assertSvid(leaf, ORDERS_ID);
    }

    @Test
    void lifetimeIsClampedToTheCasExpiry() throws Exception {
        KeyPair keys = TestPki.ec("secp256r1");
        X509Certificate shortCa = TestPki.ca(keys, NOW, Duration.ofHours(2));
        WorkloadCa ca = WorkloadCa.of(List.of(shortCa), keys.getPrivate(), TD, clock);

        X509Certificate leaf = ca.sign(csr(p256, null).getEncoded(), ORDERS, Duration.ofHours(24)).certificate();

        assertThat(leaf.getNotAfter()).isEqualTo(shortCa.getNotAfter());
        validate(leaf, shortCa);

        clock.advance(Duration.ofHours(2));
        assertThatThrownBy(() -> ca.sign(csr(p256, null).getEncoded(), ORDERS, Duration.ofHours(1)))
                .isInstanceOfSatisfying(CaException.class,
                        e -> assertThat(e.reason()).isEqualTo(CaException.Reason.CA_UNUSABLE))
                .hasMessageStartingWith("CA certificate expired at ");
    }

    @Test
    void ttlOutsideItsBoundsIsRefused() throws Exception {
        byte[] der = csr(p256, null).getEncoded();
        assertThatThrownBy(() -> ca().sign(der, ORDERS, Duration.ofSeconds(59)))
                .isInstanceOf(CaException.class).hasMessage("ttl PT59S is outside PT1M to PT168H");
        assertThatThrownBy(() -> ca().sign(der, ORDERS, Duration.ofDays(8)))
                .isInstanceOf(CaException.class).hasMessage("ttl PT192H is outside PT1M to PT168H");
    }

    @Test
    void refusesACertificateThatIsNotACa() throws Exception {
        KeyPair keys = TestPki.ec("secp256r1");
        X509Certificate leaf = TestPki.selfSigned(keys, "CN=not a CA", NOW.minusSeconds(60), NOW.plusSeconds(3600), false);

        assertThatThrownBy(() -> WorkloadCa.of(List.of(leaf), keys.getPrivate(), TD, clock))
                .isInstanceOfSatisfying(CaException.class,
                        e -> assertThat(e.reason()).isEqualTo(CaException.Reason.CA_UNUSABLE))
                .hasMessage("certificate CN=not a CA is not a CA (basicConstraints CA:TRUE missing)");
    }

    @Test
    void refusesAKeyThatDoesNotMatchTheCertificate() throws Exception {
        assertThatThrownBy(() -> WorkloadCa.of(List.of(caCert), TestPki.ec("secp256r1").getPrivate(), TD, clock))
                .isInstanceOf(CaException.class)
                .hasMessage("CA private key does not match the CA certificate CN=test mesh CA,O=Outrider test");
        assertThatThrownBy(() -> WorkloadCa.of(List.of(caCert), TestPki.rsa(2048).getPrivate(), TD, clock))
                .isInstanceOf(CaException.class)
                .hasMessageStartingWith("CA private key does not match the CA certificate");
    }

    @Test
    void refusesACaThatIsNotValidNow() throws Exception {
        KeyPair keys = TestPki.ec("secp256r1");
        X509Certificate expired = TestPki.selfSigned(keys, "CN=old CA", NOW.minus(Duration.ofDays(2)),
                NOW.minus(Duration.ofDays(1)), true);

        assertThatThrownBy(() -> WorkloadCa.of(List.of(expired), keys.getPrivate(), TD, clock))
                .isInstanceOf(CaException.class).hasMessageStartingWith("CA certificate CN=old CA is not valid now");
    }

    @Test
    void loadsEcAndRsaCasFromPemFilesInEveryKeyForm() throws Exception {
        // EC key as SEC1 (EC PRIVATE KEY, as `openssl ec` writes it); RSA as PKCS#1 (RSA PRIVATE KEY).
        // PKCS#8, what certs/mesh-ca.sh writes, is covered by MeshCaScriptTest.
        KeyPair rsaKeys = TestPki.rsa(2048);
        X509Certificate rsaCa = TestPki.ca(rsaKeys, NOW, Duration.ofDays(365));
        for (var c : List.of(new Object[] {caKeys, caCert, "EC PRIVATE KEY"}, new Object[] {rsaKeys, rsaCa, "RSA PRIVATE KEY"})) {
            KeyPair keys = (KeyPair) c[0];
            X509Certificate cert = (X509Certificate) c[1];
            Path certFile = Files.writeString(dir.resolve("ca.pem"), TestPki.pem(cert));
            Path keyFile = Files.writeString(dir.resolve("ca.key"),
                    keys == caKeys ? TestPki.sec1Pem(keys) : TestPki.pem(keys));
            assertThat(Files.readString(keyFile)).startsWith("-----BEGIN " + c[2] + "-----");

            WorkloadCa ca = WorkloadCa.load(certFile, keyFile, TD, clock);

            X509Certificate leaf = ca.sign(csr(p256, null).getEncoded(), ORDERS, WorkloadCa.DEFAULT_TTL).certificate();
            validate(leaf, cert);
            assertSvid(leaf, ORDERS_ID);
            assertThat(ca.toString()).doesNotContain("PRIVATE");
        }
    }

    @Test
    void unreadableCaFilesAreRefusedNamingTheFile() throws Exception {
        Path certFile = Files.writeString(dir.resolve("ca.pem"), TestPki.pem(caCert));
        Path missing = dir.resolve("missing.key");
        Path notAKey = Files.writeString(dir.resolve("cert-as-key.pem"), TestPki.pem(caCert));

        assertThatThrownBy(() -> WorkloadCa.load(certFile, missing, TD, clock))
                .isInstanceOf(CaException.class).hasMessageStartingWith("cannot read " + missing);
        assertThatThrownBy(() -> WorkloadCa.load(certFile, notAKey, TD, clock))
                .isInstanceOf(CaException.class)
                .hasMessageContaining("CA key " + notAKey + ": unsupported PEM object X509CertificateHolder");
        assertThatThrownBy(() -> WorkloadCa.load(Files.writeString(dir.resolve("empty.pem"), ""), notAKey, TD, clock))
                .isInstanceOf(CaException.class).hasMessageContaining("holds no PEM certificate");
    }

    /**
     * What the proxy's PeerVerifier requires of a peer (control-plane cannot depend on proxy, so the same
     * conditions are asserted here): exactly one URI SAN, a SPIFFE ID in the trust domain, not a CA,
     * digitalSignature, and both serverAuth and clientAuth (every sidecar is both).
     */
    static void assertSvid(X509Certificate leaf, String spiffeId) throws Exception {
        assertThat(leaf.getSubjectAlternativeNames()).containsExactly(List.of(6, spiffeId));
        assertThat(SpiffeId.parse(spiffeId).trustDomain()).isEqualTo(TD);
        assertThat(leaf.getBasicConstraints()).as("not a CA").isEqualTo(-1);
        assertThat(leaf.getCriticalExtensionOIDs()).contains("2.5.29.19", "2.5.29.15");
        assertThat(leaf.getKeyUsage()[0]).as("digitalSignature").isTrue();
        assertThat(leaf.getKeyUsage()[5]).as("keyCertSign").isFalse();
        assertThat(leaf.getExtendedKeyUsage()).containsExactlyInAnyOrder(SERVER_AUTH, CLIENT_AUTH);
        assertThat(leaf.getExtensionValue("2.5.29.14")).as("subject key id").isNotNull();
        assertThat(leaf.getExtensionValue("2.5.29.35")).as("authority key id").isNotNull();
    }

    /** PKIX (RFC 5280 §6) with the JDK, the CA as the only trust anchor, at the test's "now". */
    static void validate(X509Certificate leaf, X509Certificate root) throws Exception {
        CertificateFactory factory = CertificateFactory.getInstance("X.509");
        PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(root, null)));
        params.setRevocationEnabled(false);
        params.setDate(Date.from(leaf.getNotBefore().toInstant().plus(Duration.ofMinutes(2))));
        CertPathValidator.getInstance("PKIX").validate(factory.generateCertPath(List.of(leaf)), params);
    }

    static List<X509Certificate> parse(String pem) throws Exception {
        List<X509Certificate> out = new ArrayList<>();
        for (var c : CertificateFactory.getInstance("X.509")
                .generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))) {
            out.add((X509Certificate) c);
        }
        return out;
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("not found");
    }
}
