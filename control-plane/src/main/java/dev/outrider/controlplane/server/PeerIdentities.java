package dev.outrider.controlplane.server;

import dev.outrider.core.model.SpiffeId;

import java.security.cert.CertificateException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;

/**
 * The SPIFFE ID of a client certificate the TLS stack has already verified against the mesh CA (chain,
 * validity, key usage): {@link SpiffeId#fromCertificate}, its failures worded for a client certificate. A pure
 * function.
 */
final class PeerIdentities {
    private PeerIdentities() {
    }

    /** The certificate's SPIFFE ID; the exception's message says why there is none. */
    static SpiffeId spiffeId(X509Certificate leaf) throws IllegalArgumentException {
        try {
            return SpiffeId.fromCertificate(leaf);
        } catch (CertificateParsingException e) {
            throw new IllegalArgumentException("client certificate has unreadable subject alternative names", e);
        } catch (CertificateException e) {
            throw new IllegalArgumentException("client " + e.getMessage(), e); // "client certificate must carry ..."
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("client certificate: " + e.getMessage(), e);
        }
    }
}
