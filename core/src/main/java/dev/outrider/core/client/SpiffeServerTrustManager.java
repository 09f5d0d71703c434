package dev.outrider.core.client;

import dev.outrider.core.model.SpiffeId;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;

import static java.util.Objects.requireNonNull;

/**
 * The client's trust decision for the control plane's certificate: first the JDK's PKIX trust manager over the
 * mesh trust bundle (chain, validity, usage, and the host name when the engine or socket asks for endpoint
 * identification, as {@link java.net.http.HttpClient} does with {@code HTTPS}); then the leaf's one SPIFFE URI
 * SAN must be exactly the expected control-plane identity. A certificate from the mesh CA for any other
 * workload, however valid, is refused: a compromised sidecar cannot pose as the control plane.
 *
 * <p>Immutable; called by the TLS stack on the HTTP client's threads during handshakes. Client-side only:
 * checking clients is refused.
 */
final class SpiffeServerTrustManager extends X509ExtendedTrustManager {
    private final X509ExtendedTrustManager pkix;
    private final SpiffeId expected;

    SpiffeServerTrustManager(X509ExtendedTrustManager pkix, SpiffeId expected) {
        this.pkix = requireNonNull(pkix, "pkix");
        this.expected = requireNonNull(expected, "expected");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        pkix.checkServerTrusted(chain, authType, engine);
        checkIdentity(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        pkix.checkServerTrusted(chain, authType, socket);
        checkIdentity(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        pkix.checkServerTrusted(chain, authType);
        checkIdentity(chain);
    }

    private void checkIdentity(X509Certificate[] chain) throws CertificateException {
        SpiffeId actual;
        try {
            actual = X509Checks.spiffeId(chain[0]);
        } catch (CertificateException e) {
            throw new CertificateException("control plane certificate: " + e.getMessage() + "; expected " + expected, e);
        }
        if (!actual.equals(expected)) {
            throw new CertificateException("control plane certificate is for " + actual + ", expected " + expected);
        }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        throw new CertificateException("the control-plane client does not accept TLS clients");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        throw new CertificateException("the control-plane client does not accept TLS clients");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("the control-plane client does not accept TLS clients");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return pkix.getAcceptedIssuers();
    }
}
