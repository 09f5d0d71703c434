package dev.outrider.controlplane.ca;

import dev.outrider.core.pem.Pem;

import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * A certificate the {@link WorkloadCa} signed, with the chain a sidecar serves: the leaf first, then the CA
 * certificate (and whatever issuers followed it in the CA's certificate file), as {@code tls.certificate}
 * expects (certs/README.md).
 */
public record SignedCertificate(X509Certificate certificate, List<X509Certificate> chain) {
    public SignedCertificate {
        requireNonNull(certificate, "certificate");
        chain = List.copyOf(chain);
        if (chain.isEmpty() || !chain.getFirst().equals(certificate)) {
            throw new IllegalArgumentException("chain must start with the certificate");
        }
    }

    /** The chain as concatenated PEM {@code CERTIFICATE} blocks, leaf first. */
    public String pemChain() {
        StringBuilder out = new StringBuilder();
        for (X509Certificate cert : chain) {
            out.append(Pem.write(cert));
        }
        return out.toString();
    }

    /** When to have rotated by: the leaf's notAfter. */
    public Instant notAfter() {
        return certificate.getNotAfter().toInstant();
    }
}
