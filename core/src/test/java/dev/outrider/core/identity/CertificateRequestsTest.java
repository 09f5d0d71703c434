package dev.outrider.core.identity;

import dev.outrider.core.model.SpiffeId;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.pkcs.Attribute;
import org.bouncycastle.asn1.pkcs.CertificationRequest;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.Test;

import java.io.StringReader;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class CertificateRequestsTest {
    private static final SpiffeId ORDERS = SpiffeId.parse("spiffe://cluster.local/ns/shop/sa/orders");

    private static PKCS10CertificationRequest parse(String pem) throws Exception {
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            return (PKCS10CertificationRequest) parser.readObject();
        }
    }

    @Test
    void csrIsSignedWithTheNewP256KeyAndCarriesExactlyTheSpiffeUri() throws Exception {
        CertificateRequests.KeyAndCsr request = CertificateRequests.create(ORDERS);

        assertThat(request.csrPem()).startsWith("-----BEGIN CERTIFICATE REQUEST-----");
        PKCS10CertificationRequest csr = parse(request.csrPem());
        // Proof of possession: the signature verifies with the CSR's own key, which is the generated one.
        assertThat(csr.isSignatureValid(new JcaContentVerifierProviderBuilder().build(csr.getSubjectPublicKeyInfo())))
                .isTrue();
        assertThat(csr.getSubjectPublicKeyInfo().getEncoded()).isEqualTo(request.keys().getPublic().getEncoded());
        assertThat(csr.getSubjectPublicKeyInfo().getAlgorithm().getAlgorithm()).isEqualTo(X9ObjectIdentifiers.id_ecPublicKey);
        assertThat((ASN1ObjectIdentifier) csr.getSubjectPublicKeyInfo().getAlgorithm().getParameters())
                .isEqualTo(SECObjectIdentifiers.secp256r1);

        Attribute[] requests = csr.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest);
        assertThat(requests).hasSize(1);
        ASN1Encodable[] values = requests[0].getAttrValues().toArray();
        assertThat(values).hasSize(1);
        Extensions extensions = Extensions.getInstance(values[0]);
        assertThat(extensions.getExtensionOIDs()).containsExactly(Extension.subjectAlternativeName);
        List<String> names = new ArrayList<>();
        for (GeneralName name : GeneralNames.getInstance(extensions.getExtensionParsedValue(Extension.subjectAlternativeName)).getNames()) {
            names.add(name.getTagNo() + "=" + name.getName());
        }
        assertThat(names).containsExactly(GeneralName.uniformResourceIdentifier + "=" + ORDERS);
    }

    @Test
    void csrHasTheBytesBouncyCastlesBuilderWroteForTheSameKeyAndName() throws Exception {
        CertificateRequests.KeyAndCsr request = CertificateRequests.create(ORDERS);
        ExtensionsGenerator extensions = new ExtensionsGenerator();
        extensions.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(
                new GeneralName(GeneralName.uniformResourceIdentifier, ORDERS.toString())));
        PKCS10CertificationRequest bc = new JcaPKCS10CertificationRequestBuilder(new X500Name(new RDN[0]),
                request.keys().getPublic())
                .addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, extensions.generate())
                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(request.keys().getPrivate()));
        CertificationRequest ours = parse(request.csrPem()).toASN1Structure();

        // The signed part byte for byte, and the signature algorithm (ECDSA signatures differ run to run).
        assertThat(CertificateRequests.requestInfo(request.keys(), ORDERS))
                .isEqualTo(bc.toASN1Structure().getCertificationRequestInfo().getEncoded(ASN1Encoding.DER))
                .isEqualTo(ours.getCertificationRequestInfo().getEncoded(ASN1Encoding.DER));
        assertThat(ours.getSignatureAlgorithm()).isEqualTo(bc.getSignatureAlgorithm());
        assertThat(parse(request.csrPem()).getSubject().getRDNs()).isEmpty();
        // The whole request is DER: BouncyCastle writes back exactly the bytes it parsed.
        assertThat(ours.getEncoded(ASN1Encoding.DER)).isEqualTo(Base64.getMimeDecoder().decode(request.csrPem()
                .replace("-----BEGIN CERTIFICATE REQUEST-----", "").replace("-----END CERTIFICATE REQUEST-----", "")));
    }

    @Test
    void aTamperedCsrDoesNotVerify() throws Exception {
        // The check above can fail: the same CSR with another key in it no longer verifies.
        PKCS10CertificationRequest csr = parse(CertificateRequests.create(ORDERS).csrPem());
        var other = CertificateRequests.create(ORDERS).keys().getPublic();
        assertThat(csr.isSignatureValid(new JcaContentVerifierProviderBuilder().build(other))).isFalse();
    }

    @Test
    void everyRequestHasANewKey() {
        var a = CertificateRequests.create(ORDERS);
        var b = CertificateRequests.create(ORDERS);
        assertThat(a.keys().getPublic()).isNotEqualTo(b.keys().getPublic());
        assertThat(a.toString()).doesNotContain(a.keys().getPrivate().toString());
    }
}
