package dev.outrider.core.client;

import dev.outrider.core.model.SpiffeId;

import java.time.Instant;

import static java.util.Objects.requireNonNull;

/**
 * The answer to {@code POST /v1/certificates}: nothing secret (the key never leaves the sidecar).
 *
 * @param identity            the identity the control plane certified (from the credential, never from the CSR)
 * @param certificateChainPem the leaf and any intermediates, PEM
 * @param trustBundlePem      the mesh's CA certificates, PEM
 * @param notAfter            the leaf's expiry as the server reports it
 */
public record IssuedCertificate(SpiffeId identity, String certificateChainPem, String trustBundlePem,
                                Instant notAfter) {
    public IssuedCertificate {
        requireNonNull(identity, "identity");
        requireNonNull(certificateChainPem, "certificateChainPem");
        requireNonNull(trustBundlePem, "trustBundlePem");
        requireNonNull(notAfter, "notAfter");
    }
}
