package dev.outrider.controlplane.server;

import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;

import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import static java.util.Objects.requireNonNull;

/**
 * The API listener's TLS: TLS 1.3 only (RFC 8446; its three AEAD suites), ALPN {@code http/1.1}, the
 * serving chain issued by the control plane's own CA, and a client certificate <em>requested</em> but not
 * required ({@link ClientAuth#OPTIONAL}: a new sidecar has none yet and comes with a join token). A client
 * certificate that is presented must chain to the mesh CA (PKIX by the JDK's trust manager: validity, path,
 * clientAuth usage), or the handshake fails with a certificate alert: BoringSSL sends {@code unknown_ca} for a
 * foreign CA ({@link OpenSslTrustAlerts}), the JDK {@code certificate_unknown}.
 */
public final class ServerTls {
    static final List<String> TLS13 = List.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256");
    private static final ApplicationProtocolConfig ALPN = new ApplicationProtocolConfig(
            ApplicationProtocolConfig.Protocol.ALPN,
            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
            ApplicationProtocolNames.HTTP_1_1);

    /** Which TLS implementation serves: BoringSSL (netty-tcnative) or the JDK's. */
    public enum Provider {
        /** BoringSSL when it loads, else the JDK. */
        AUTO,
        OPENSSL,
        JDK;

        public static Provider parse(String text) {
            try {
                return valueOf(requireNonNull(text, "text").toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("TLS provider '" + text + "' is not one of auto, openssl, jdk", e);
            }
        }

        SslProvider resolve() {
            return switch (this) {
                case OPENSSL -> {
                    OpenSsl.ensureAvailability();
                    yield SslProvider.OPENSSL;
                }
                case JDK -> SslProvider.JDK;
                case AUTO -> OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
            };
        }
    }

    private ServerTls() {
    }

    /**
     * PKIX to {@code trustRoot} (the JDK's trust manager: validity, path, clientAuth usage); with BoringSSL its
     * refusals name their TLS alert ({@link OpenSslTrustAlerts}: {@code unknown_ca} for a foreign CA).
     */
    static X509ExtendedTrustManager clientTrust(X509Certificate trustRoot, SslProvider provider) throws SSLException {
        X509ExtendedTrustManager pkix;
        try {
            KeyStore anchors = KeyStore.getInstance(KeyStore.getDefaultType());
            anchors.load(null, null);
            anchors.setCertificateEntry("mesh-ca", requireNonNull(trustRoot, "trustRoot"));
            TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
            factory.init(anchors);
            pkix = (X509ExtendedTrustManager) Arrays.stream(factory.getTrustManagers())
                    .filter(X509ExtendedTrustManager.class::isInstance).findFirst()
                    .orElseThrow(() -> new SSLException("the JDK's PKIX trust manager factory made no trust manager"));
        } catch (GeneralSecurityException | IOException e) {
            throw new SSLException("trust in the mesh CA: " + e.getMessage(), e);
        }
        return provider == SslProvider.OPENSSL ? new OpenSslTrustAlerts(pkix) : pkix;
    }

    /**
     * @param chain     the serving certificate first, then its issuers
     * @param trustRoot the mesh CA client certificates must chain to
     */
    static SslContext serverContext(PrivateKey key, List<X509Certificate> chain, X509Certificate trustRoot,
                                    SslProvider provider) throws SSLException {
        return SslContextBuilder.forServer(key, chain.toArray(new X509Certificate[0]))
                .sslProvider(provider)
                .trustManager(clientTrust(trustRoot, provider))
                .clientAuth(ClientAuth.OPTIONAL)
                .protocols("TLSv1.3")
                .ciphers(TLS13, SupportedCipherSuiteFilter.INSTANCE)
                .applicationProtocolConfig(ALPN)
                .build();
    }
}
