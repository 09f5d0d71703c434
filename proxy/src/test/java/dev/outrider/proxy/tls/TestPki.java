package dev.outrider.proxy.tls;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAPrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.io.pem.PemObject;

/**
 * Test fixture: a throw-away PKI (roots, intermediates, SPIFFE leaves) made on the fly with BouncyCastle's
 * certificate builder and the JDK's default JCA providers (no provider is registered).
 *
 * <pre>
 *   Ca root = TestPki.root("mesh root");
 *   Leaf leaf = root.intermediate("issuing").leaf().spiffe(TestPki.spiffe("cluster.local", "shop", "orders")).issue();
 *   leaf.writeTo(dir.resolve("cert.pem"), dir.resolve("key.pem"));
 *   root.writeBundle(dir.resolve("ca-bundle.pem"));
 * </pre>
 *
 * Invariants: CAs are ECDSA P-256, basicConstraints critical CA:TRUE, keyUsage critical keyCertSign+cRLSign;
 * every certificate has a fresh random positive serial and subject/authority key identifiers; times are whole
 * seconds (X.509 has no finer resolution), so requested instants are truncated to the second. Private keys
 * live only in memory and in files the test asks for. Thread-safe: instances are immutable except
 * {@link LeafBuilder}, which belongs to one thread.
 */
public final class TestPki {

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Duration CA_VALIDITY = Duration.ofDays(3650);

  private TestPki() {}

  /** A self-signed ECDSA P-256 root, valid from an hour ago for ten years. */
  public static Ca root(String commonName) {
    requireNonNull(commonName, "commonName");
    KeyPair keys = ecKeyPair();
    X500Name name = cn(commonName);
    Instant notBefore = Instant.now().minus(Duration.ofHours(1));
    X509Certificate cert = sign(caBuilder(name, name, keys, notBefore, notBefore.plus(CA_VALIDITY), null),
        keys.getPrivate());
    return new Ca(cert, keys.getPrivate(), List.of());
  }

  /** {@code spiffe://trustDomain/ns/namespace/sa/serviceAccount}, the mesh's workload identity. */
  public static String spiffe(String trustDomain, String namespace, String serviceAccount) {
    requireNonNull(trustDomain, "trustDomain");
    requireNonNull(namespace, "namespace");
    requireNonNull(serviceAccount, "serviceAccount");
    return "spiffe://" + trustDomain + "/ns/" + namespace + "/sa/" + serviceAccount;
  }

  /** A root or an intermediate CA. */
  public static final class Ca {
    private final X509Certificate cert;
    private final PrivateKey key;
    // Intermediates from this CA up to, excluding, the root: empty for a root, [this, its issuer, ...] otherwise.
    private final List<X509Certificate> intermediates;

    private Ca(X509Certificate cert, PrivateKey key, List<X509Certificate> intermediates) {
      this.cert = cert;
      this.key = key;
      this.intermediates = List.copyOf(intermediates);
    }

    public X509Certificate cert() {
      return cert;
    }

    /** An intermediate CA signed by this one (ECDSA P-256), valid within this CA's validity. */
    public Ca intermediate(String commonName) {
      requireNonNull(commonName, "commonName");
      KeyPair keys = ecKeyPair();
      Instant notBefore = Instant.now().minus(Duration.ofHours(1));
      Instant notAfter = min(notBefore.plus(CA_VALIDITY), cert.getNotAfter().toInstant());
      X509Certificate issued = sign(
          caBuilder(X500Name.getInstance(cert.getSubjectX500Principal().getEncoded()), cn(commonName), keys,
              notBefore, notAfter, cert),
          key);
      List<X509Certificate> chain = new ArrayList<>();
      chain.add(issued);
      chain.addAll(intermediates);
      return new Ca(issued, keys.getPrivate(), chain);
    }

    /** A builder for a leaf signed by this CA. */
    public LeafBuilder leaf() {
      return new LeafBuilder(this);
    }

    /** Writes this CA's certificate, then each of {@code others}' certificates, to one PEM file. */
    public void writeBundle(Path file, Ca... others) {
      requireNonNull(file, "file");
      requireNonNull(others, "others");
      writePem(file, pem -> {
        pem.writeObject(cert);
        for (Ca other : others) {
          pem.writeObject(requireNonNull(other, "others[i]").cert);
        }
      });
    }
  }

  /**
   * Leaf options; defaults: EC P-256 key, no SAN, valid from now-1h to now+1d, EKU serverAuth+clientAuth,
   * keyUsage digitalSignature (+keyEncipherment for RSA). Subject is {@code CN=outrider test leaf}.
   */
  public static final class LeafBuilder {
    private final Ca issuer;
    private final List<GeneralName> names = new ArrayList<>();
    private Instant notBefore = Instant.now().minus(Duration.ofHours(1));
    private Instant notAfter = Instant.now().plus(Duration.ofDays(1));
    private boolean rsa;
    private boolean serverAuth = true;
    private boolean clientAuth = true;
    private boolean digitalSignature = true;

    private LeafBuilder(Ca issuer) {
      this.issuer = issuer;
    }

    /** Adds a URI SAN; call 0..n times for 0..n URI SANs (in call order). */
    public LeafBuilder spiffe(String uri) {
      names.add(new GeneralName(GeneralName.uniformResourceIdentifier, requireNonNull(uri, "uri")));
      return this;
    }

    /** Adds a DNS SAN. */
    public LeafBuilder dns(String name) {
      names.add(new GeneralName(GeneralName.dNSName, requireNonNull(name, "name")));
      return this;
    }

    public LeafBuilder notBefore(Instant instant) {
      this.notBefore = requireNonNull(instant, "instant");
      return this;
    }

    public LeafBuilder notAfter(Instant instant) {
      this.notAfter = requireNonNull(instant, "instant");
      return this;
    }

    /** An RSA 2048 key instead of EC P-256 (the signature is still the issuer's ECDSA). */
    public LeafBuilder rsa() {
      this.rsa = true;
      return this;
    }

    /**
     * Which TLS purposes the EKU lists. Both false omits the extension altogether, which RFC 5280 section
     * 4.2.1.12 reads as "no restriction" (cert-manager's default usages produce such certificates).
     */
    public LeafBuilder extendedKeyUsage(boolean serverAuth, boolean clientAuth) {
      this.serverAuth = serverAuth;
      this.clientAuth = clientAuth;
      return this;
    }

    /**
     * Whether keyUsage has digitalSignature. Without it the extension still exists (it may not be empty):
     * keyEncipherment for RSA, keyAgreement for EC, so the key cannot sign a TLS handshake.
     */
    public LeafBuilder keyUsageDigitalSignature(boolean digitalSignature) {
      this.digitalSignature = digitalSignature;
      return this;
    }

    public Leaf issue() {
      KeyPair keys = rsa ? rsaKeyPair() : ecKeyPair();
      int usage = (digitalSignature ? KeyUsage.digitalSignature : 0)
          | (rsa ? KeyUsage.keyEncipherment : digitalSignature ? 0 : KeyUsage.keyAgreement);
      List<KeyPurposeId> purposes = new ArrayList<>();
      if (serverAuth) {
        purposes.add(KeyPurposeId.id_kp_serverAuth);
      }
      if (clientAuth) {
        purposes.add(KeyPurposeId.id_kp_clientAuth);
      }
      X509Certificate ca = issuer.cert;
      try {
        JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
        X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
            X500Name.getInstance(ca.getSubjectX500Principal().getEncoded()), serial(),
            Date.from(notBefore.truncatedTo(ChronoUnit.SECONDS)), Date.from(notAfter.truncatedTo(ChronoUnit.SECONDS)),
            cn("outrider test leaf"), keys.getPublic())
            .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
            .addExtension(Extension.keyUsage, true, new KeyUsage(usage))
            .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(keys.getPublic()))
            .addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(ca));
        if (!purposes.isEmpty()) {
          builder.addExtension(Extension.extendedKeyUsage, false,
              new ExtendedKeyUsage(purposes.toArray(KeyPurposeId[]::new)));
        }
        if (!names.isEmpty()) {
          builder.addExtension(Extension.subjectAlternativeName, false,
              new DERSequence(names.toArray(GeneralName[]::new)));
        }
        X509Certificate cert = sign(builder, issuer.key);
        List<X509Certificate> chain = new ArrayList<>();
        chain.add(cert);
        chain.addAll(issuer.intermediates);
        return new Leaf(cert, chain, keys.getPrivate());
      } catch (GeneralSecurityException | CertIOException e) {
        throw new IllegalStateException("cannot build the leaf certificate", e);
      }
    }
  }

  /**
   * An issued leaf: {@code chain} is the leaf then its intermediates up to, excluding, the root.
   */
  public record Leaf(X509Certificate cert, List<X509Certificate> chain, PrivateKey key) {
    public Leaf {
      requireNonNull(cert, "cert");
      chain = List.copyOf(chain);
      requireNonNull(key, "key");
    }

    /** PEM files: the chain (leaf first) to {@code certFile}, the key as PKCS#8 to {@code keyFile}. */
    public void writeTo(Path certFile, Path keyFile) {
      requireNonNull(certFile, "certFile");
      requireNonNull(keyFile, "keyFile");
      writePem(certFile, pem -> {
        for (X509Certificate c : chain) {
          pem.writeObject(c);
        }
      });
      writePem(keyFile, pem -> pem.writeObject(new JcaPKCS8Generator(key, null)));
    }

    /**
     * The EC key as SEC1 (PEM label {@code EC PRIVATE KEY}, RFC 5915) with the named curve and the public key,
     * as openssl and cert-manager write it.
     */
    public void writeKeySec1(Path keyFile) {
      requireNonNull(keyFile, "keyFile");
      if (!(key instanceof ECPrivateKey)) {
        throw new IllegalStateException("SEC1 is for EC keys; this leaf has " + key.getAlgorithm());
      }
      PrivateKeyInfo info = PrivateKeyInfo.getInstance(key.getEncoded());
      try {
        // The JDK's PKCS#8 encoding may leave the curve out of the inner structure: put it (and the public key) in.
        var inner = org.bouncycastle.asn1.sec.ECPrivateKey.getInstance(info.parsePrivateKey());
        ASN1Encodable curve = info.getPrivateKeyAlgorithm().getParameters();
        var publicKey = SubjectPublicKeyInfo.getInstance(cert.getPublicKey().getEncoded()).getPublicKeyData();
        var sec1 = new org.bouncycastle.asn1.sec.ECPrivateKey(256, inner.getKey(), publicKey, curve);
        byte[] der = sec1.getEncoded();
        writePem(keyFile, pem -> pem.writeObject(new PemObject("EC PRIVATE KEY", der)));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    /** The RSA key as PKCS#1 (PEM label {@code RSA PRIVATE KEY}, RFC 8017 appendix A.1.2). */
    public void writeKeyPkcs1(Path keyFile) {
      requireNonNull(keyFile, "keyFile");
      if (!(key instanceof RSAPrivateKey)) {
        throw new IllegalStateException("PKCS#1 is for RSA keys; this leaf has " + key.getAlgorithm());
      }
      // BouncyCastle's PEM writer writes an RSA private key in the traditional (PKCS#1) form.
      writePem(keyFile, pem -> pem.writeObject(key));
    }
  }

  private static X509v3CertificateBuilder caBuilder(X500Name issuer, X500Name subject, KeyPair keys,
      Instant notBefore, Instant notAfter, X509Certificate issuerCert) {
    try {
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(issuer, serial(),
          Date.from(notBefore.truncatedTo(ChronoUnit.SECONDS)), Date.from(notAfter.truncatedTo(ChronoUnit.SECONDS)),
          subject, keys.getPublic())
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
          .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
          .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(keys.getPublic()));
      if (issuerCert != null) {
        builder.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(issuerCert));
      }
      return builder;
    } catch (GeneralSecurityException | CertIOException e) {
      throw new IllegalStateException("cannot build the CA certificate", e);
    }
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey issuerKey) {
    String algorithm = issuerKey.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
    try {
      return new JcaX509CertificateConverter()
          .getCertificate(builder.build(new JcaContentSignerBuilder(algorithm).build(issuerKey)));
    } catch (GeneralSecurityException | OperatorCreationException e) {
      throw new IllegalStateException("cannot sign the certificate", e);
    }
  }

  private static KeyPair ecKeyPair() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("no EC P-256 key generator", e);
    }
  }

  private static KeyPair rsaKeyPair() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
      generator.initialize(2048, RANDOM);
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("no RSA key generator", e);
    }
  }

  // RFC 5280 section 4.1.2.2: positive, at most 20 octets.
  private static BigInteger serial() {
    return new BigInteger(127, RANDOM).add(BigInteger.ONE);
  }

  private static X500Name cn(String commonName) {
    return new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, commonName).build();
  }

  private static Instant min(Instant a, Instant b) {
    return a.isBefore(b) ? a : b;
  }

  private interface PemBody {
    void write(JcaPEMWriter pem) throws IOException;
  }

  private static void writePem(Path file, PemBody body) {
    try (Writer out = Files.newBufferedWriter(file); JcaPEMWriter pem = new JcaPEMWriter(out)) {
      body.write(pem);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
