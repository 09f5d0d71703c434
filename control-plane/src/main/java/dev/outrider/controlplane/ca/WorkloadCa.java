package dev.outrider.controlplane.ca;

import dev.outrider.core.model.SpiffeId;
import dev.outrider.core.pem.Pem;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECKey;
import java.security.interfaces.RSAKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * The control plane's workload CA: signs a sidecar's PKCS#10 CSR into a short-lived X.509-SVID for the
 * identity its bootstrap credential proved (never what the CSR claims; see {@link CsrCheck}).
 *
 * <p>What every issued certificate holds, whatever the CSR asked for (certs/README.md "cert.pem", and what
 * the proxy's {@code PeerVerifier} checks):
 * <ul>
 *   <li>subject {@code O=<trust domain>}; exactly one SAN, the URI {@code spiffe://<td>/ns/<ns>/sa/<sa>}
 *       (X.509-SVID §2);</li>
 *   <li>basicConstraints critical CA:FALSE; keyUsage critical digitalSignature (RSA keys: and
 *       keyEncipherment); extendedKeyUsage serverAuth and clientAuth; subject and authority key ids;</li>
 *   <li>a random positive 128-bit serial (RFC 5280 §4.1.2.2);</li>
 *   <li>notBefore = now − 1 min (clock skew between control plane and sidecars), never before the CA's;
 *       notAfter = now + ttl, never after the CA's own notAfter.</li>
 * </ul>
 * The ttl must lie in [{@link #MIN_TTL}, {@link #MAX_TTL}]; {@link #DEFAULT_TTL} is 24 h. The one exception
 * to "exactly one SAN" is {@link #issueServing}: a serving certificate also carries DNS/IP SANs.
 *
 * <p>The CA key is file-mounted (PEM, as certs/mesh-ca.sh writes: EC P-256 in PKCS#8; RSA and SEC1/PKCS#1
 * are read too). Loading refuses a certificate that is not a CA, cannot sign certificates, is not currently
 * valid, or whose key is not the given private key. Immutable and thread-safe.
 */
public final class WorkloadCa {
    public static final Duration DEFAULT_TTL = Duration.ofHours(24);
    public static final Duration MIN_TTL = Duration.ofMinutes(1);
    public static final Duration MAX_TTL = Duration.ofDays(7);
    static final Duration CLOCK_SKEW = Duration.ofMinutes(1);
    private static final int KEY_CERT_SIGN = 5;

    private final List<X509Certificate> caChain;
    private final X509Certificate caCertificate;
    private final PrivateKey caKey;
    private final String signatureAlgorithm;
    private final AuthorityKeyIdentifier authorityKeyId;
    private final String trustDomain;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();

    private WorkloadCa(List<X509Certificate> caChain, PrivateKey caKey, String signatureAlgorithm,
                       AuthorityKeyIdentifier authorityKeyId, String trustDomain, Clock clock) {
        this.caChain = caChain;
        this.caCertificate = caChain.getFirst();
        this.caKey = caKey;
        this.signatureAlgorithm = signatureAlgorithm;
        this.authorityKeyId = authorityKeyId;
        this.trustDomain = trustDomain;
        this.clock = clock;
    }

    /**
     * Loads the CA from PEM files: {@code certificateFile} holds the CA certificate, optionally followed by
     * its issuers up to the root (all of them go into every issued chain); {@code keyFile} its private key.
     */
    public static WorkloadCa load(Path certificateFile, Path keyFile, String trustDomain, Clock clock)
            throws CaException {
        requireNonNull(certificateFile, "certificateFile");
        requireNonNull(keyFile, "keyFile");
        return of(certificates(certificateFile), privateKey(keyFile), trustDomain, clock);
    }

    /** The CA from its certificate chain (the CA first) and private key; see {@link #load}. */
    public static WorkloadCa of(List<X509Certificate> caChain, PrivateKey caKey, String trustDomain, Clock clock)
            throws CaException {
        requireNonNull(caKey, "caKey");
        requireNonNull(trustDomain, "trustDomain");
        requireNonNull(clock, "clock");
        List<X509Certificate> chain = List.copyOf(requireNonNull(caChain, "caChain"));
        if (chain.isEmpty()) {
            throw CaException.caUnusable("no CA certificate");
        }
        try {
            new SpiffeId(trustDomain, "/ca"); // validates the trust domain
        } catch (IllegalArgumentException e) {
            throw CaException.caUnusable("trust domain: " + e.getMessage(), e);
        }
        X509Certificate ca = chain.getFirst();
        String name = ca.getSubjectX500Principal().getName();
        if (ca.getBasicConstraints() < 0) {
            throw CaException.caUnusable("certificate " + name + " is not a CA (basicConstraints CA:TRUE missing)");
        }
        boolean[] keyUsage = ca.getKeyUsage();
        if (keyUsage != null && (keyUsage.length <= KEY_CERT_SIGN || !keyUsage[KEY_CERT_SIGN])) {
            throw CaException.caUnusable("CA certificate " + name + " lacks keyUsage keyCertSign");
        }
        try {
            ca.checkValidity(Date.from(clock.instant()));
        } catch (CertificateException e) {
            throw CaException.caUnusable("CA certificate " + name + " is not valid now (" + ca.getNotBefore().toInstant()
                    + " to " + ca.getNotAfter().toInstant() + ")", e);
        }
        String algorithm = signatureAlgorithm(caKey);
        checkKeyMatches(ca, caKey, algorithm);
        return new WorkloadCa(chain, caKey, algorithm, authorityKeyId(ca), trustDomain, clock);
    }

    /** {@link #sign(byte[], WorkloadIdentity, Duration)} with a PEM {@code CERTIFICATE REQUEST}. */
    public SignedCertificate sign(String csrPem, WorkloadIdentity identity, Duration ttl) throws CaException {
        requireNonNull(csrPem, "csrPem");
        if (csrPem.length() > 2 * CsrCheck.MAX_CSR_BYTES) {
            throw CaException.invalidRequest("CSR PEM is longer than " + 2 * CsrCheck.MAX_CSR_BYTES + " characters");
        }
        byte[] csrDer;
        try {
            csrDer = Pem.csr(csrPem);
        } catch (IOException e) {
            throw CaException.invalidRequest(e.getMessage(), e);
        }
        return sign(csrDer, identity, ttl);
    }

    /**
     * Signs a DER PKCS#10 CSR for {@code identity} (already authenticated), valid for {@code ttl} (clamped
     * to the CA's notAfter). Refuses, with a {@link CaException}, a malformed or badly signed CSR, a refused
     * key, a CSR asking for another identity, a ttl out of bounds, an identity outside this CA's trust
     * domain, and an expired CA.
     */
    public SignedCertificate sign(byte[] csrDer, WorkloadIdentity identity, Duration ttl) throws CaException {
        requireNonNull(csrDer, "csrDer");
        return sign(CsrCheck.parse(csrDer), identity, ttl);
    }

    private SignedCertificate sign(PKCS10CertificationRequest csr, WorkloadIdentity identity, Duration ttl)
            throws CaException {
        requireNonNull(identity, "identity");
        requireNonNull(ttl, "ttl");
        checkTtl(ttl);
        checkTrustDomain(identity);
        PublicKey publicKey = CsrCheck.check(csr, identity.spiffeId());
        return issue(publicKey, identity.spiffeId(), List.of(), ttl);
    }

    /**
     * A serving certificate for a component that holds its own key in this process (the control plane's
     * HTTPS listener): the SVID content above plus a DNS or IP address SAN per entry of {@code serverNames}
     * (RFC 5280 §4.2.1.6), so clients that check host names (RFC 6125, as the JDK's HttpClient does) accept
     * it alongside the SPIFFE ID. No CSR: the caller generated {@code publicKey} and is trusted to hold its
     * private key.
     *
     * @param serverNames DNS names (letters, digits, '-' labels, no wildcard) and IPv4/IPv6 literals; may be empty
     * @throws CaException INVALID_REQUEST for a bad name, key or ttl; IDENTITY_MISMATCH outside the trust domain
     */
    public SignedCertificate issueServing(PublicKey publicKey, WorkloadIdentity identity, List<String> serverNames,
                                          Duration ttl) throws CaException {
        requireNonNull(publicKey, "publicKey");
        requireNonNull(identity, "identity");
        requireNonNull(serverNames, "serverNames");
        requireNonNull(ttl, "ttl");
        checkTtl(ttl);
        checkTrustDomain(identity);
        if (!(publicKey instanceof ECKey) && !(publicKey instanceof RSAKey)) {
            throw CaException.invalidRequest("serving key algorithm " + publicKey.getAlgorithm()
                    + " is not accepted; EC or RSA");
        }
        List<GeneralName> names = new ArrayList<>(serverNames.size());
        for (String name : serverNames) {
            names.add(ServerNames.generalName(name));
        }
        return issue(publicKey, identity.spiffeId(), names, ttl);
    }

    private void checkTtl(Duration ttl) throws CaException {
        if (ttl.compareTo(MIN_TTL) < 0 || ttl.compareTo(MAX_TTL) > 0) {
            throw CaException.invalidRequest("ttl " + ttl + " is outside " + MIN_TTL + " to " + MAX_TTL);
        }
    }

    private void checkTrustDomain(WorkloadIdentity identity) throws CaException {
        if (!identity.trustDomain().equals(trustDomain)) {
            throw CaException.identityMismatch("identity " + identity.spiffeId()
                    + " is not in this CA's trust domain " + trustDomain);
        }
    }

    /** Builds and signs the leaf: the URI SAN {@code id} first, then {@code extraSans}. */
    private SignedCertificate issue(PublicKey publicKey, SpiffeId id, List<GeneralName> extraSans, Duration ttl)
            throws CaException {
        Instant now = clock.instant();
        Instant caNotBefore = caCertificate.getNotBefore().toInstant();
        Instant caNotAfter = caCertificate.getNotAfter().toInstant();
        if (!now.isBefore(caNotAfter)) {
            throw CaException.caUnusable("CA certificate expired at " + caNotAfter);
        }
        Instant notBefore = max(now.minus(CLOCK_SKEW), caNotBefore);
        Instant notAfter = min(now.plus(ttl), caNotAfter);

        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, trustDomain).build();
        int usage = KeyUsage.digitalSignature | (publicKey instanceof RSAKey ? KeyUsage.keyEncipherment : 0);
        GeneralName[] sans = new GeneralName[1 + extraSans.size()];
        sans[0] = new GeneralName(GeneralName.uniformResourceIdentifier, id.toString());
        for (int i = 0; i < extraSans.size(); i++) {
            sans[i + 1] = extraSans.get(i);
        }
        try {
            JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
            var builder = new JcaX509v3CertificateBuilder(caCertificate, serial(), Date.from(notBefore),
                    Date.from(notAfter), subject, publicKey)
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(usage))
                    .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(
                            new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}))
                    .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans))
                    .addExtension(Extension.subjectKeyIdentifier, false,
                            extensions.createSubjectKeyIdentifier(publicKey))
                    .addExtension(Extension.authorityKeyIdentifier, false, authorityKeyId);
            var holder = builder.build(new JcaContentSignerBuilder(signatureAlgorithm).build(caKey));
            X509Certificate leaf = new JcaX509CertificateConverter().getCertificate(holder);
            List<X509Certificate> chain = new ArrayList<>(caChain.size() + 1);
            chain.add(leaf);
            chain.addAll(caChain);
            return new SignedCertificate(leaf, chain);
        } catch (CertIOException | OperatorCreationException | GeneralSecurityException e) {
            throw CaException.caUnusable("could not sign the certificate for " + id + ": " + e.getMessage(), e);
        }
    }

    /** The CA certificate (the root of trust for what this CA issues, or its intermediate). */
    public X509Certificate certificate() {
        return caCertificate;
    }

    /**
     * The last certificate of the CA chain: the root that sidecars and the control plane trust (the CA itself
     * when its file holds no issuers). It is the {@code trustBundle} handed out with issued certificates.
     */
    public X509Certificate trustAnchor() {
        return caChain.getLast();
    }

    public String trustDomain() {
        return trustDomain;
    }

    @Override
    public String toString() {
        return "WorkloadCa[" + caCertificate.getSubjectX500Principal().getName() + ", trust domain " + trustDomain
                + ", until " + caCertificate.getNotAfter().toInstant() + "]";
    }

    private BigInteger serial() {
        byte[] bytes = new byte[16];
        BigInteger serial;
        do {
            random.nextBytes(bytes);
            serial = new BigInteger(1, bytes);
        } while (serial.signum() == 0);
        return serial;
    }

    private static String signatureAlgorithm(PrivateKey key) throws CaException {
        if (key instanceof ECKey ec) {
            int bits = ec.getParams().getCurve().getField().getFieldSize();
            return bits <= 256 ? "SHA256withECDSA" : bits <= 384 ? "SHA384withECDSA" : "SHA512withECDSA";
        }
        if (key instanceof RSAKey) {
            return "SHA256withRSA";
        }
        throw CaException.caUnusable("CA key algorithm " + key.getAlgorithm() + " is not supported (EC or RSA)");
    }

    /** Proves the private key belongs to the certificate: sign a fixed message, verify with the certificate. */
    private static void checkKeyMatches(X509Certificate ca, PrivateKey key, String algorithm) throws CaException {
        try {
            if (Pem.signsFor(key, ca.getPublicKey(), algorithm)) {
                return;
            }
        } catch (GeneralSecurityException e) {
            // A key of another algorithm than the certificate's lands here: that is a mismatch too.
            throw CaException.caUnusable("CA private key does not match the CA certificate "
                    + ca.getSubjectX500Principal().getName() + " (" + e.getMessage() + ")", e);
        }
        throw CaException.caUnusable("CA private key does not match the CA certificate "
                + ca.getSubjectX500Principal().getName());
    }

    private static AuthorityKeyIdentifier authorityKeyId(X509Certificate ca) throws CaException {
        try {
            SubjectKeyIdentifier ski = SubjectKeyIdentifier.fromExtensions(new JcaX509CertificateHolder(ca).getExtensions());
            if (ski != null) {
                return new AuthorityKeyIdentifier(ski.getKeyIdentifier());
            }
            return new JcaX509ExtensionUtils().createAuthorityKeyIdentifier(ca.getPublicKey());
        } catch (GeneralSecurityException e) {
            throw CaException.caUnusable("CA certificate " + ca.getSubjectX500Principal().getName()
                    + " is not usable: " + e.getMessage(), e);
        }
    }

    private static Instant max(Instant a, Instant b) {
        return a.isAfter(b) ? a : b;
    }

    private static Instant min(Instant a, Instant b) {
        return a.isBefore(b) ? a : b;
    }

    /** The CA's certificate file: messages name the file, never key material. */
    private static List<X509Certificate> certificates(Path file) throws CaException {
        try {
            return Pem.certificates(read(file));
        } catch (CertificateException e) {
            throw CaException.caUnusable("CA certificate " + file + " holds no PEM certificate: " + e.getMessage(), e);
        }
    }

    /** The CA's key file (file-mounted, unencrypted: there is nowhere safer to keep a passphrase). */
    private static PrivateKey privateKey(Path file) throws CaException {
        try {
            return Pem.privateKey(read(file));
        } catch (IOException e) {
            throw CaException.caUnusable("CA key " + file + ": " + e.getMessage(), e);
        }
    }

    private static byte[] read(Path file) throws CaException {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw CaException.caUnusable("cannot read " + file + ": " + e, e);
        }
    }
}
