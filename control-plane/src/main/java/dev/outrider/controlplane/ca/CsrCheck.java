package dev.outrider.controlplane.ca;

import dev.outrider.core.model.SpiffeId;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1IA5String;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.pkcs.Attribute;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.RSAPublicKey;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.ECNamedCurveTable;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.PublicKey;

/**
 * The checks on a PKCS#10 request (RFC 2986) before anything is signed, cheapest first:
 * <ol>
 *   <li>the key is EC on P-256 or P-384 (named curve) or RSA of 2048 to 8192 bits: checked on the ASN.1, so
 *       weak or exotic keys are refused before any signature arithmetic on them;</li>
 *   <li>the CSR's signature verifies with its own key (proof of possession of the private key);</li>
 *   <li>every URI SAN in its extension request (PKCS#9 extensionRequest, any number of them) is exactly the
 *       authenticated SPIFFE ID. A CSR without SANs is fine: the identity comes from the credential.</li>
 * </ol>
 * Nothing else in the CSR is used: its subject, DNS SANs and any other requested extension (basicConstraints
 * CA:true included) are ignored, since the certificate's content is fixed by {@link WorkloadCa}.
 */
final class CsrCheck {
    static final int MAX_CSR_BYTES = 64 * 1024;
    private static final int MIN_RSA_BITS = 2048;
    private static final int MAX_RSA_BITS = 8192;

    private CsrCheck() {
    }

    static PKCS10CertificationRequest parse(byte[] der) throws CaException {
        if (der.length > MAX_CSR_BYTES) {
            throw CaException.invalidRequest("CSR is " + der.length + " bytes, more than " + MAX_CSR_BYTES);
        }
        try {
            return new PKCS10CertificationRequest(der);
        } catch (IOException | RuntimeException e) {
            throw CaException.invalidRequest("not a DER PKCS#10 certification request: " + e.getMessage(), e);
        }
    }

    /** The CSR's public key, once all checks pass. */
    static PublicKey check(PKCS10CertificationRequest csr, SpiffeId expected) throws CaException {
        SubjectPublicKeyInfo spki = csr.getSubjectPublicKeyInfo();
        checkKey(spki);
        boolean valid;
        try {
            valid = csr.isSignatureValid(new JcaContentVerifierProviderBuilder().build(spki));
        } catch (Exception e) { // OperatorCreationException, PKCSException, malformed signature encodings
            throw CaException.invalidRequest("CSR signature cannot be verified: " + e.getMessage(), e);
        }
        if (!valid) {
            throw CaException.invalidRequest("CSR signature does not verify with its public key (no proof of possession)");
        }
        checkRequestedIdentity(csr, expected);
        try {
            return new JcaPKCS10CertificationRequest(csr).getPublicKey();
        } catch (GeneralSecurityException e) {
            throw CaException.invalidRequest("CSR public key is not usable: " + e.getMessage(), e);
        }
    }

    private static void checkKey(SubjectPublicKeyInfo spki) throws CaException {
        ASN1ObjectIdentifier algorithm = spki.getAlgorithm().getAlgorithm();
        if (algorithm.equals(X9ObjectIdentifiers.id_ecPublicKey)) {
            ASN1Encodable params = spki.getAlgorithm().getParameters();
            if (!(params instanceof ASN1ObjectIdentifier curve)) {
                throw CaException.invalidRequest("EC key without a named curve; only P-256 and P-384 are accepted");
            }
            if (!curve.equals(SECObjectIdentifiers.secp256r1) && !curve.equals(SECObjectIdentifiers.secp384r1)) {
                String name = ECNamedCurveTable.getName(curve);
                throw CaException.invalidRequest("EC curve " + (name == null ? curve.getId() : name)
                        + " is not accepted; only P-256 and P-384");
            }
            return;
        }
        if (algorithm.equals(PKCSObjectIdentifiers.rsaEncryption)) {
            int bits;
            try {
                bits = RSAPublicKey.getInstance(spki.parsePublicKey()).getModulus().bitLength();
            } catch (IOException | RuntimeException e) {
                throw CaException.invalidRequest("unreadable RSA public key in the CSR", e);
            }
            if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) {
                throw CaException.invalidRequest("RSA key of " + bits + " bits is not accepted; "
                        + MIN_RSA_BITS + " to " + MAX_RSA_BITS + " bits");
            }
            return;
        }
        throw CaException.invalidRequest("key algorithm " + algorithm.getId()
                + " is not accepted; only EC (P-256, P-384) and RSA (2048 bits or more)");
    }

    private static void checkRequestedIdentity(PKCS10CertificationRequest csr, SpiffeId expected)
            throws CaException {
        String want = expected.toString();
        for (Attribute attribute : csr.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest)) {
            for (ASN1Encodable value : attribute.getAttrValues()) {
                try {
                    Extension san = Extensions.getInstance(value).getExtension(Extension.subjectAlternativeName);
                    if (san == null) {
                        continue;
                    }
                    for (GeneralName name : GeneralNames.getInstance(san.getParsedValue()).getNames()) {
                        if (name.getTagNo() != GeneralName.uniformResourceIdentifier) {
                            continue;
                        }
                        String uri = ASN1IA5String.getInstance(name.getName()).getString();
                        if (!uri.equals(want)) {
                            throw CaException.identityMismatch("CSR asks for identity " + printable(uri)
                                    + " but the bootstrap credential proves " + want);
                        }
                    }
                } catch (RuntimeException e) {
                    throw CaException.invalidRequest("CSR extension request is malformed: " + e.getMessage(), e);
                }
            }
        }
    }

    /** A CSR's text made safe for a log line: printable ASCII only, bounded. */
    static String printable(String text) {
        StringBuilder out = new StringBuilder(Math.min(text.length(), 200) + 2).append('\'');
        for (int i = 0; i < text.length() && i < 200; i++) {
            char c = text.charAt(i);
            out.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return out.append(text.length() > 200 ? "...'" : "'").toString();
    }
}
