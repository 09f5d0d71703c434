package dev.outrider.proxy.tls;

import dev.outrider.core.model.SpiffeId;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.cert.CertPath;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.CertificateParsingException;
import java.security.cert.PKIXParameters;
import java.security.cert.PKIXReason;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * The trust decision for a peer certificate, both directions: the chain must lead to a root of the mesh
 * trust bundle (PKIX, RFC 5280 §6; no revocation, the mesh's certificates are short-lived), the leaf must
 * be valid now, fit for the peer's role (extended key usage clientAuth for callers, serverAuth for
 * upstreams; digitalSignature when key usage is present; not a CA), and carry exactly one URI SAN, a SPIFFE
 * ID in this mesh's trust domain (X.509-SVID specification §2, §4). Refusals are
 * {@link PeerCertificateException}s naming the reason and the TLS alert to send (a foreign CA: {@code unknown_ca};
 * with BoringSSL through {@link OpenSslAlerts}). Which identity an upstream must have is checked after the
 * handshake, per service.
 *
 * <p>Immutable; called by the TLS stack on event loops during handshakes.
 */
final class PeerVerifier extends X509ExtendedTrustManager {
    private static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
    private static final String SERVER_AUTH = "1.3.6.1.5.5.7.3.1";

    private final Set<TrustAnchor> anchors;
    private final X509Certificate[] roots;
    private final String trustDomain;
    /** BoringSSL serves: refusals carry the X.509 error of their alert ({@link OpenSslAlerts}). */
    private final boolean openSsl;

    /** A verifier whose refusals are plain {@link PeerCertificateException}s (the JDK provider, checks of files). */
    PeerVerifier(List<X509Certificate> roots, String trustDomain) {
        this(roots, trustDomain, false);
    }

    /** @param openSsl whether the TLS stack is BoringSSL, whose alerts the refusals must name */
    PeerVerifier(List<X509Certificate> roots, String trustDomain, boolean openSsl) {
        requireNonNull(roots, "roots");
        this.openSsl = openSsl;
        this.trustDomain = requireNonNull(trustDomain, "trustDomain");
        this.roots = roots.toArray(new X509Certificate[0]);
        Set<TrustAnchor> set = new HashSet<>();
        for (X509Certificate root : roots) {
            set.add(new TrustAnchor(root, null));
        }
        this.anchors = Set.copyOf(set);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        check(chain, CLIENT_AUTH);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        check(chain, SERVER_AUTH);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        check(chain, CLIENT_AUTH);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        check(chain, SERVER_AUTH);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        check(chain, CLIENT_AUTH);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        check(chain, SERVER_AUTH);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return roots.clone();
    }

    /** The TLS stack's check: {@link #verify}, its refusal in the form the stack turns into the right alert. */
    private void check(X509Certificate[] chain, String purpose) throws CertificateException {
        try {
            verify(chain, purpose);
        } catch (PeerCertificateException e) {
            throw openSsl ? OpenSslAlerts.withAlert(e) : e;
        }
    }

    /** Returns the peer's SPIFFE ID when the chain is acceptable for {@code purpose}. */
    SpiffeId verify(X509Certificate[] chain, String purpose) throws PeerCertificateException {
        if (chain == null || chain.length == 0) {
            throw new PeerCertificateException(HandshakeFailure.NO_CLIENT_CERT, "no peer certificate");
        }
        X509Certificate leaf = chain[0];
        try {
            leaf.checkValidity();
        } catch (CertificateExpiredException e) {
            throw new PeerCertificateException(HandshakeFailure.EXPIRED,
                    "certificate expired at " + leaf.getNotAfter().toInstant(), e);
        } catch (CertificateNotYetValidException e) {
            throw new PeerCertificateException(HandshakeFailure.NOT_YET_VALID,
                    "certificate not valid before " + leaf.getNotBefore().toInstant(), e);
        }
        validatePath(chain);
        checkUsage(leaf, purpose);
        return spiffeId(leaf, trustDomain);
    }

    private void validatePath(X509Certificate[] chain) throws PeerCertificateException {
        List<X509Certificate> path = new ArrayList<>(Arrays.asList(chain));
        // A peer may send the root too; PKIX wants the path without its anchor.
        while (path.size() > 1 && isAnchor(path.getLast())) {
            path.removeLast();
        }
        try {
            CertPath certPath = CertificateFactory.getInstance("X.509").generateCertPath(path);
            PKIXParameters params = new PKIXParameters(anchors);
            params.setRevocationEnabled(false);
            CertPathValidator.getInstance("PKIX").validate(certPath, params);
        } catch (CertPathValidatorException e) {
            if (e.getReason() == CertPathValidatorException.BasicReason.EXPIRED) {
                throw new PeerCertificateException(HandshakeFailure.EXPIRED, "a certificate in the chain expired", e);
            }
            if (e.getReason() == CertPathValidatorException.BasicReason.NOT_YET_VALID) {
                throw new PeerCertificateException(HandshakeFailure.NOT_YET_VALID,
                        "a certificate in the chain is not yet valid", e);
            }
            if (e.getReason() == PKIXReason.NO_TRUST_ANCHOR || signedByNoAnchor(e)) {
                throw new PeerCertificateException(HandshakeFailure.UNTRUSTED,
                        "certificate does not chain to the mesh trust bundle: " + e.getMessage(), e);
            }
            throw new PeerCertificateException(HandshakeFailure.UNTRUSTED, PeerCertificateException.Alert.BAD_CERTIFICATE,
                    "certificate chain is not valid: " + e.getMessage(), e);
        } catch (GeneralSecurityException e) {
            throw new PeerCertificateException(HandshakeFailure.UNTRUSTED, PeerCertificateException.Alert.BAD_CERTIFICATE,
                    "certificate path: " + e.getMessage(), e);
        }
    }

    /**
     * The top certificate of the path names a root of the bundle as its issuer but was not signed by it: a foreign
     * CA that happens to share a mesh root's name (two meshes made with the same subject), not a damaged chain.
     */
    private static boolean signedByNoAnchor(CertPathValidatorException e) {
        return e.getReason() == CertPathValidatorException.BasicReason.INVALID_SIGNATURE && e.getCertPath() != null
                && e.getIndex() == e.getCertPath().getCertificates().size() - 1;
    }

    private boolean isAnchor(X509Certificate cert) {
        for (X509Certificate root : roots) {
            if (root.equals(cert)) {
                return true;
            }
        }
        return false;
    }

    private static void checkUsage(X509Certificate leaf, String purpose) throws PeerCertificateException {
        if (leaf.getBasicConstraints() >= 0) {
            throw unusable("a CA certificate cannot be a workload's", null);
        }
        boolean[] keyUsage = leaf.getKeyUsage();
        if (keyUsage != null && !keyUsage[0]) {
            throw unusable("key usage lacks digitalSignature", null);
        }
        List<String> eku;
        try {
            eku = leaf.getExtendedKeyUsage();
        } catch (CertificateParsingException e) {
            throw unusable("unreadable extended key usage", e);
        }
        if (eku != null && !eku.contains(purpose)) {
            throw unusable("extended key usage lacks " + (purpose.equals(CLIENT_AUTH) ? "clientAuth" : "serverAuth"),
                    null);
        }
    }

    private static PeerCertificateException unusable(String message, Throwable cause) {
        return new PeerCertificateException(HandshakeFailure.UNTRUSTED,
                PeerCertificateException.Alert.UNSUPPORTED_CERTIFICATE, message, cause);
    }

    /** The one SPIFFE ID of {@code leaf} in {@code trustDomain} (X.509-SVID §2: exactly one URI SAN). */
    static SpiffeId spiffeId(X509Certificate leaf, String trustDomain) throws PeerCertificateException {
        SpiffeId id;
        try {
            id = SpiffeId.fromCertificate(leaf);
        } catch (CertificateParsingException e) {
            throw new PeerCertificateException(HandshakeFailure.IDENTITY_MISMATCH, "unreadable subject alt names", e);
        } catch (CertificateException e) {
            throw new PeerCertificateException(HandshakeFailure.IDENTITY_MISMATCH, e.getMessage());
        } catch (IllegalArgumentException e) {
            throw new PeerCertificateException(HandshakeFailure.IDENTITY_MISMATCH, e.getMessage(), e);
        }
        if (!id.trustDomain().equals(trustDomain)) {
            throw new PeerCertificateException(HandshakeFailure.IDENTITY_MISMATCH,
                    "trust domain " + id.trustDomain() + " is not this mesh's (" + trustDomain + ")");
        }
        return id;
    }
}
