package dev.outrider.core.identity;

import dev.outrider.core.client.ControlPlaneClient;
import dev.outrider.core.client.ControlPlaneClientConfig;
import dev.outrider.core.model.SpiffeId;

import java.net.URI;
import java.util.List;
import java.nio.file.Path;

import static java.util.Objects.requireNonNull;

/**
 * Where a workload's TLS material lives: the sidecar's {@code tls.certificate}, {@code tls.privateKey} and
 * {@code tls.trustBundle}. {@link WorkloadCertificates} writes all three; the proxy's TLS reloader and
 * {@link ControlPlaneClient} read them. Paths are made absolute once, here.
 *
 * @param certificate  PEM certificate chain, leaf first
 * @param privateKey   PEM private key of the leaf (PKCS#8 when written by {@link WorkloadCertificates}, 0600)
 * @param trustBundle  PEM CA certificates of the mesh; must already hold the mesh CA before bootstrap, since it
 *                     is what the control plane's own certificate is checked against
 */
public record CertificateFiles(Path certificate, Path privateKey, Path trustBundle) {
    public CertificateFiles {
        certificate = requireNonNull(certificate, "certificate").toAbsolutePath();
        privateKey = requireNonNull(privateKey, "privateKey").toAbsolutePath();
        trustBundle = requireNonNull(trustBundle, "trustBundle").toAbsolutePath();
        if (certificate.equals(privateKey) || certificate.equals(trustBundle) || privateKey.equals(trustBundle)) {
            throw new IllegalArgumentException("certificate, privateKey and trustBundle must be three different files");
        }
    }

    /**
     * How a sidecar reaches the control plane at {@code server}: trusts {@link #trustBundle()} and authenticates
     * with {@link #certificate()} and {@link #privateKey()}, default timeouts.
     */
    public ControlPlaneClientConfig clientConfig(URI server, SpiffeId serverIdentity) {
        return clientConfig(List.of(server), serverIdentity);
    }

    /** As above, for several control-plane addresses (replicas), tried in order. */
    public ControlPlaneClientConfig clientConfig(List<URI> servers, SpiffeId serverIdentity) {
        return new ControlPlaneClientConfig(servers, serverIdentity, trustBundle, certificate, privateKey, null,
                ControlPlaneClientConfig.DEFAULT_CONNECT_TIMEOUT, ControlPlaneClientConfig.DEFAULT_REQUEST_TIMEOUT);
    }
}
