package dev.outrider.proxy.tls;

import io.netty.handler.ssl.OpenSslCertificateException;
import io.netty.internal.tcnative.CertificateVerifier;

import java.security.cert.CertificateException;

/**
 * How a {@link PeerVerifier} refusal tells BoringSSL which TLS alert to send. Netty derives the X.509 error it
 * hands BoringSSL from the exception a trust manager throws; an exception it cannot place becomes
 * {@code X509_V_ERR_UNSPECIFIED}, which BoringSSL sends as {@code internal_error}, telling the peer this sidecar is
 * broken when it is the peer's certificate. An {@link OpenSslCertificateException} carries the error itself:
 * <pre>
 *   UNKNOWN_CA              X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY   unknown_ca
 *   CERTIFICATE_EXPIRED     X509_V_ERR_CERT_HAS_EXPIRED                    certificate_expired
 *   UNSUPPORTED_CERTIFICATE X509_V_ERR_INVALID_PURPOSE                     unsupported_certificate
 *   BAD_CERTIFICATE         X509_V_ERR_CERT_REJECTED                       bad_certificate
 * </pre>
 * The refusal stays the cause, so {@link HandshakeFailure#of} still finds its reason. Only for
 * {@code SslProvider.OPENSSL}: the codes are read from netty-tcnative's native library, loaded then.
 */
final class OpenSslAlerts {
    private OpenSslAlerts() {
    }

    static CertificateException withAlert(PeerCertificateException refusal) {
        int error = switch (refusal.alert()) {
            case UNKNOWN_CA -> CertificateVerifier.X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY;
            case CERTIFICATE_EXPIRED -> CertificateVerifier.X509_V_ERR_CERT_HAS_EXPIRED;
            case UNSUPPORTED_CERTIFICATE -> CertificateVerifier.X509_V_ERR_INVALID_PURPOSE;
            case BAD_CERTIFICATE -> CertificateVerifier.X509_V_ERR_CERT_REJECTED;
        };
        return new OpenSslCertificateException(refusal.getMessage(), refusal, error);
    }
}
