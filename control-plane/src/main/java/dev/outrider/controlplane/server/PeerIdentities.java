package dev.outrider.controlplane.server;

import dev.outrider.control.model.SpiffeId;

import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;

/**
 * The SPIFFE ID of a client certificate the TLS stack has already verified against the mesh CA (chain,
 * validity, key usage): exactly one URI SAN (X.509-SVID §2), parsed by {@link SpiffeId#parse}. A pure
 * function; the SANs are read with the JDK's X.509 parser.
 */
final class PeerIdentities {
    private static final int SAN_URI = 6;

    private PeerIdentities() {
    }

    /** The certificate's SPIFFE ID; the exception's message says why there is none. */
    static SpiffeId spiffeId(X509Certificate leaf) throws IllegalArgumentException {
        Collection<List<?>> sans;
        try {
            sans = leaf.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            throw new IllegalArgumentException("client certificate has unreadable subject alternative names", e);
        }
        String uri = null;
        int uris = 0;
        if (sans != null) {
            for (List<?> san : sans) {
                if (san.size() >= 2 && Integer.valueOf(SAN_URI).equals(san.get(0))) {
                    uris++;
                    uri = String.valueOf(san.get(1));
                }
            }
        }
        if (uris != 1) {
            throw new IllegalArgumentException("client certificate must carry exactly one URI SAN (a SPIFFE ID), found "
                    + uris);
        }
        try {
            return SpiffeId.parse(uri);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("client certificate: " + e.getMessage(), e);
        }
    }
}
