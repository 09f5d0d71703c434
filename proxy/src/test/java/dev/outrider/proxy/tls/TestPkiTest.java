package dev.outrider.proxy.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Set;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TestPkiTest {

  private static final String SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
  private static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
  private static final int URI = 6;
  private static final int DNS = 2;

  private static final TestPki.Ca ROOT = TestPki.root("test root");
  private static final String ORDERS = TestPki.spiffe("cluster.local", "shop", "orders");

  @TempDir Path dir;

  @Test
  void spiffeIdFollowsTheMeshLayout() {
    assertThat(ORDERS).isEqualTo("spiffe://cluster.local/ns/shop/sa/orders");
  }

  @Test
  void rootIsASelfSignedEcCaValidForTenYears() throws Exception {
    X509Certificate root = ROOT.cert();
    root.verify(root.getPublicKey());
    assertThat(root.getBasicConstraints()).isGreaterThanOrEqualTo(0);
    assertThat(root.getKeyUsage()[5]).as("keyCertSign").isTrue();
    assertThat(root.getPublicKey().getAlgorithm()).isEqualTo("EC");
    assertThat(root.getNotAfter().toInstant()).isAfter(Instant.now().plus(3649, ChronoUnit.DAYS));
  }

  @Test
  void defaultLeafVerifiesAgainstTheRootWithTheRequestedIdentity() throws Exception {
    TestPki.Leaf leaf = ROOT.leaf().spiffe(ORDERS).issue();

    validate(leaf.chain(), ROOT.cert());
    assertThat(leaf.chain()).containsExactly(leaf.cert());
    assertThat(leaf.cert().getSubjectAlternativeNames()).containsExactly(List.of(URI, ORDERS));
    assertThat(leaf.cert().getExtendedKeyUsage()).containsExactly(SERVER_AUTH, CLIENT_AUTH);
    assertThat(leaf.cert().getBasicConstraints()).isEqualTo(-1);
    assertThat(leaf.cert().getKeyUsage()[0]).as("digitalSignature").isTrue();
    assertThat(leaf.cert().getCriticalExtensionOIDs()).contains("2.5.29.15", "2.5.29.19");
    assertThat(leaf.key().getAlgorithm()).isEqualTo("EC");
    Instant now = Instant.now();
    assertThat(leaf.cert().getNotBefore().toInstant()).isBetween(now.minusSeconds(3700), now.minusSeconds(3500));
    assertThat(leaf.cert().getNotAfter().toInstant()).isBetween(now.plusSeconds(86_000), now.plusSeconds(86_500));
  }

  @Test
  void leafThroughAnIntermediateNeedsTheIntermediateInItsChain() throws Exception {
    TestPki.Ca intermediate = ROOT.intermediate("issuing").intermediate("issuing 2");
    TestPki.Leaf leaf = intermediate.leaf().spiffe(ORDERS).issue();

    assertThat(leaf.chain()).hasSize(3).startsWith(leaf.cert());
    validate(leaf.chain(), ROOT.cert());
    assertThatThrownBy(() -> validate(List.of(leaf.cert()), ROOT.cert()))
        .isInstanceOf(CertPathValidatorException.class);
  }

  @Test
  void leafDoesNotVerifyAgainstAnotherRoot() {
    TestPki.Leaf leaf = ROOT.leaf().spiffe(ORDERS).issue();
    assertThatThrownBy(() -> validate(leaf.chain(), TestPki.root("other root").cert()))
        .isInstanceOf(CertPathValidatorException.class);
  }

  @Test
  void sansAreExactlyThoseAskedFor() throws Exception {
    String frontend = TestPki.spiffe("cluster.local", "shop", "frontend");
    X509Certificate two = ROOT.leaf().spiffe(ORDERS).spiffe(frontend).dns("orders.shop").issue().cert();
    assertThat(two.getSubjectAlternativeNames())
        .containsExactly(List.of(URI, ORDERS), List.of(URI, frontend), List.of(DNS, "orders.shop"));

    assertThat(ROOT.leaf().issue().cert().getSubjectAlternativeNames()).isNull();
  }

  @Test
  void usagesCanBeNarrowedOrLeftOut() throws Exception {
    assertThat(ROOT.leaf().extendedKeyUsage(true, false).issue().cert().getExtendedKeyUsage())
        .containsExactly(SERVER_AUTH);
    assertThat(ROOT.leaf().extendedKeyUsage(false, true).issue().cert().getExtendedKeyUsage())
        .containsExactly(CLIENT_AUTH);
    assertThat(ROOT.leaf().extendedKeyUsage(false, false).issue().cert().getExtendedKeyUsage()).isNull();

    boolean[] usage = ROOT.leaf().keyUsageDigitalSignature(false).issue().cert().getKeyUsage();
    assertThat(usage[0]).as("digitalSignature").isFalse();
    assertThat(usage[4]).as("keyAgreement").isTrue();
  }

  @Test
  void validityIsTheRequestedWholeSeconds() throws Exception {
    Instant notBefore = Instant.parse("2020-01-01T00:00:00.750Z");
    Instant notAfter = Instant.parse("2020-01-02T00:00:00Z");
    TestPki.Leaf expired = ROOT.leaf().spiffe(ORDERS).notBefore(notBefore).notAfter(notAfter).issue();

    assertThat(expired.cert().getNotBefore().toInstant()).isEqualTo(Instant.parse("2020-01-01T00:00:00Z"));
    assertThat(expired.cert().getNotAfter().toInstant()).isEqualTo(notAfter);
    assertThatThrownBy(() -> validate(expired.chain(), ROOT.cert()))
        .isInstanceOf(CertPathValidatorException.class)
        .extracting(e -> ((CertPathValidatorException) e).getReason())
        .isEqualTo(CertPathValidatorException.BasicReason.EXPIRED);
  }

  @Test
  void rsaLeafHasA2048BitKeyAndKeyEncipherment() throws Exception {
    TestPki.Leaf leaf = ROOT.leaf().spiffe(ORDERS).rsa().issue();

    validate(leaf.chain(), ROOT.cert());
    assertThat(((RSAPublicKey) leaf.cert().getPublicKey()).getModulus().bitLength()).isEqualTo(2048);
    assertThat(leaf.cert().getKeyUsage()[0]).as("digitalSignature").isTrue();
    assertThat(leaf.cert().getKeyUsage()[2]).as("keyEncipherment").isTrue();
  }

  @Test
  void certificateChainAndPkcs8KeyRoundTripThroughPem() throws Exception {
    TestPki.Leaf leaf = ROOT.intermediate("issuing").leaf().spiffe(ORDERS).issue();
    Path cert = dir.resolve("cert.pem");
    Path key = dir.resolve("key.pem");
    leaf.writeTo(cert, key);

    assertThat(readCertificates(cert)).containsExactlyElementsOf(leaf.chain());
    assertThat(Files.readString(key)).startsWith("-----BEGIN " + "PRIVATE KEY-----");
    List<Object> keyObjects = readAll(key);
    assertThat(keyObjects).hasSize(1).first().isInstanceOf(PrivateKeyInfo.class);
    PrivateKey parsed = new JcaPEMKeyConverter().getPrivateKey((PrivateKeyInfo) keyObjects.get(0));
    assertThat(parsed.getEncoded()).isEqualTo(leaf.key().getEncoded());
  }

  @Test
  void ecKeyRoundTripsAsSec1WithItsCurve() throws Exception {
    TestPki.Leaf leaf = ROOT.leaf().issue();
    Path key = dir.resolve("key.pem");
    leaf.writeKeySec1(key);

    assertThat(Files.readString(key)).startsWith("-----BEGIN " + "EC PRIVATE KEY-----");
    List<Object> objects = readAll(key);
    assertThat(objects).hasSize(1).first().isInstanceOf(PEMKeyPair.class);
    var pair = new JcaPEMKeyConverter().getKeyPair((PEMKeyPair) objects.get(0));
    assertThat(((ECPrivateKey) pair.getPrivate()).getS()).isEqualTo(((ECPrivateKey) leaf.key()).getS());
    assertThat(pair.getPublic()).isEqualTo(leaf.cert().getPublicKey());
    assertThatThrownBy(() -> ROOT.leaf().rsa().issue().writeKeySec1(key)).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void rsaKeyRoundTripsAsPkcs1() throws Exception {
    TestPki.Leaf leaf = ROOT.leaf().rsa().issue();
    Path key = dir.resolve("key.pem");
    leaf.writeKeyPkcs1(key);

    assertThat(Files.readString(key)).startsWith("-----BEGIN " + "RSA PRIVATE KEY-----");
    List<Object> objects = readAll(key);
    assertThat(objects).hasSize(1).first().isInstanceOf(PEMKeyPair.class);
    var pair = new JcaPEMKeyConverter().getKeyPair((PEMKeyPair) objects.get(0));
    assertThat(((RSAPrivateCrtKey) pair.getPrivate()).getPrivateExponent())
        .isEqualTo(((RSAPrivateCrtKey) leaf.key()).getPrivateExponent());
    assertThat(pair.getPublic()).isEqualTo(leaf.cert().getPublicKey());
    assertThatThrownBy(() -> ROOT.leaf().issue().writeKeyPkcs1(key)).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void bundleHoldsThisRootThenTheOthers() throws Exception {
    TestPki.Ca next = TestPki.root("next root");
    Path bundle = dir.resolve("ca-bundle.pem");
    ROOT.writeBundle(bundle, next);

    assertThat(readCertificates(bundle)).containsExactly(ROOT.cert(), next.cert());
  }

  /** PKIX path validation as the JDK does it, revocation off, at the current time. */
  private static void validate(List<X509Certificate> chain, X509Certificate root) throws Exception {
    var path = CertificateFactory.getInstance("X.509").generateCertPath(chain);
    PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(root, null)));
    params.setRevocationEnabled(false);
    params.setDate(new Date());
    CertPathValidator.getInstance("PKIX").validate(path, params);
  }

  private static List<X509Certificate> readCertificates(Path file) throws Exception {
    List<X509Certificate> certs = new ArrayList<>();
    for (Object o : readAll(file)) {
      certs.add(new JcaX509CertificateConverter().getCertificate((X509CertificateHolder) o));
    }
    return certs;
  }

  private static List<Object> readAll(Path file) throws IOException {
    List<Object> objects = new ArrayList<>();
    try (Reader in = Files.newBufferedReader(file); PEMParser parser = new PEMParser(in)) {
      for (Object o = parser.readObject(); o != null; o = parser.readObject()) {
        objects.add(o);
      }
    }
    return objects;
  }
}
