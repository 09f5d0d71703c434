package dev.outrider.controlplane.server;

import io.netty.handler.ssl.OpenSslCertificateException;
import io.netty.internal.tcnative.CertificateVerifier;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import java.net.Socket;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.PKIXReason;
import java.security.cert.X509Certificate;

import static java.util.Objects.requireNonNull;

/**
 * The JDK's PKIX trust manager for the BoringSSL provider, with its refusals carrying the X.509 error that makes
 * BoringSSL send the right TLS alert (RFC 8446 §6.2). Netty derives the error from the exception a trust manager
 * throws: it knows expiry and revocation, and answers everything else with {@code X509_V_ERR_UNSPECIFIED}, which
 * BoringSSL sends as {@code internal_error}, telling the peer the server is broken. Here a chain that leads to no
 * trust anchor (also one whose top certificate names the mesh CA as issuer but was not signed by it) is
 * {@code X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY} ({@code unknown_ca}); any other refusal
 * Netty cannot place (a usage the certificate does not permit, a bad signature) is {@code X509_V_ERR_CERT_REJECTED}
 * ({@code bad_certificate}); the original exception is the cause, so logs keep the reason.
 *
 * <p>Only for {@code SslProvider.OPENSSL}: its error codes are read from netty-tcnative's native library. The JDK
 * provider sends {@code certificate_unknown} for every refused client certificate and needs no help. Immutable;
 * called by the TLS stack on event loops during handshakes.
 */
final class OpenSslTrustAlerts extends X509ExtendedTrustManager {
    private final X509ExtendedTrustManager pkix;

    OpenSslTrustAlerts(X509ExtendedTrustManager pkix) {
        this.pkix = requireNonNull(pkix, "pkix");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        try {
            pkix.checkClientTrusted(chain, authType, socket);
        } catch (CertificateException e) {
            throw withAlert(e);
        }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        try {
            pkix.checkClientTrusted(chain, authType, engine);
        } catch (CertificateException e) {
            throw withAlert(e);
        }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        try {
            pkix.checkClientTrusted(chain, authType);
        } catch (CertificateException e) {
            throw withAlert(e);
        }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        try {
            pkix.checkServerTrusted(chain, authType, socket);
        } catch (CertificateException e) {
            throw withAlert(e);
        }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        try {
            pkix.checkServerTrusted(chain, authType, engine);
        } catch (CertificateException e) {
            throw withAlert(e);
        }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        try {
            pkix.checkServerTrusted(chain, authType);
        } catch (CertificateException e) {
            throw withAlert(e);
        }
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return pkix.getAcceptedIssuers();
    }

    /** {@code refusal} as Netty should see it: unchanged where Netty already picks the alert, else with a code. */
    static CertificateException withAlert(CertificateException refusal) {
        if (refusal instanceof OpenSslCertificateException || refusal instanceof CertificateExpiredException
                || refusal instanceof CertificateNotYetValidException) {
            return refusal;
        }
        boolean noTrustAnchor = false;
        for (Throwable t = refusal.getCause(); t != null; t = t.getCause()) {
            if (t instanceof CertPathValidatorException v) {
                if (v.getReason() == CertPathValidatorException.BasicReason.EXPIRED
                        || v.getReason() == CertPathValidatorException.BasicReason.NOT_YET_VALID
                        || v.getReason() == CertPathValidatorException.BasicReason.REVOKED) {
                    return refusal; // Netty maps these itself
                }
                noTrustAnchor |= v.getReason() == PKIXReason.NO_TRUST_ANCHOR || signedByNoAnchor(v);
            }
            noTrustAnchor |= t instanceof CertPathBuilderException; // "PKIX path building failed"
        }
        int error = noTrustAnchor ? CertificateVerifier.X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
                : CertificateVerifier.X509_V_ERR_CERT_REJECTED;
        return new OpenSslCertificateException(refusal.getMessage(), refusal, error);
    }

    /**
     * The last certificate of the path names a trust anchor as its issuer but was not signed by it: a foreign CA
     * that happens to share the mesh CA's name (two meshes made with the same subject), not a damaged chain.
     */
    static boolean signedByNoAnchor(CertPathValidatorException v) {
        return v.getReason() == CertPathValidatorException.BasicReason.INVALID_SIGNATURE && v.getCertPath() != null
                && v.getIndex() == v.getCertPath().getCertificates().size() - 1;
    }
}
