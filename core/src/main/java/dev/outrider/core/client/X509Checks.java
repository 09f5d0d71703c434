package dev.outrider.core.client;

import dev.outrider.core.model.SpiffeId;

import java.security.GeneralSecurityException;
import java.security.cert.CertPath;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * X.509 decisions on the client side, made with the JDK's parser and PKIX validator (RFC 5280 §6): the SPIFFE ID
 * of a certificate ({@link SpiffeId#fromCertificate}, failures as {@link CertificateException}s) and whether a
 * chain leads to a bundle at a given instant. Pure functions.
 */
public final class X509Checks {
    private X509Checks() {
    }

    /** The one SPIFFE ID of {@code leaf}. */
    public static SpiffeId spiffeId(X509Certificate leaf) throws CertificateException {
        try {
            return SpiffeId.fromCertificate(leaf);
        } catch (CertificateParsingException e) {
            throw new CertificateException("unreadable subject alternative names", e);
        } catch (IllegalArgumentException e) {
            throw new CertificateException(e.getMessage(), e);
        }
    }

    /**
     * Validates {@code chain} (leaf first; the root may be included) against {@code roots} at {@code at}, without
     * revocation checks (workload certificates are short-lived).
     */
    public static void validatePath(List<X509Certificate> chain, List<X509Certificate> roots, Instant at)
            throws CertificateException {
        if (chain.isEmpty()) {
            throw new CertificateException("empty certificate chain");
        }
        if (roots.isEmpty()) {
            throw new CertificateException("empty trust bundle");
        }
        Set<TrustAnchor> anchors = new HashSet<>();
        for (X509Certificate root : roots) {
            anchors.add(new TrustAnchor(root, null));
        }
        List<X509Certificate> path = new ArrayList<>(chain);
        while (path.size() > 1 && roots.contains(path.getLast())) {
            path.removeLast(); // PKIX wants the path without its anchor
        }
        try {
            CertPath certPath = CertificateFactory.getInstance("X.509").generateCertPath(path);
            PKIXParameters params = new PKIXParameters(anchors);
            params.setRevocationEnabled(false);
            params.setDate(Date.from(at));
            CertPathValidator.getInstance("PKIX").validate(certPath, params);
        } catch (GeneralSecurityException e) {
            throw new CertificateException("certificate does not chain to the trust bundle at " + at + ": "
                    + e.getMessage(), e);
        }
    }
}
