package dev.outrider.proxy.tls;

import dev.outrider.proxy.config.TlsConfig;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.OpenSslServerContext;
import io.netty.handler.ssl.OpenSslSessionTicketKey;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;

import javax.net.ssl.SSLException;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * The server and client TLS contexts built from one {@link TlsMaterial}: TLS 1.3 (1.2 only when
 * configured, with AEAD suites only), client certificates required on the server side, peer verification by
 * {@link PeerVerifier}. The server offers ALPN h2 and http/1.1; there are two client contexts, because ALPN
 * is what decides the protocol of a connection to another sidecar: {@link #client()} offers h2 (then
 * http/1.1) for requests forwarded over HTTP/2, {@link #clientHttp1()} offers only http/1.1 for requests
 * forwarded over pooled HTTP/1.1 connections. Immutable; a reload builds a new instance.
 */
public record TlsContexts(SslContext server, SslContext client, SslContext clientHttp1, TlsMaterial material,
                          SslProvider provider) {
    /** TLS 1.2 suites allowed when TLS 1.2 is enabled: ECDHE with AEAD ciphers only (RFC 7525 §4.2). */
    static final List<String> TLS12_AEAD = List.of(
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");
    static final List<String> TLS13 = List.of(
            "TLS_AES_128_GCM_SHA256",
            "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256");

    private static final ApplicationProtocolConfig ALPN = new ApplicationProtocolConfig(
            ApplicationProtocolConfig.Protocol.ALPN,
            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
            ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1);
    private static final ApplicationProtocolConfig ALPN_HTTP1 = new ApplicationProtocolConfig(
            ApplicationProtocolConfig.Protocol.ALPN,
            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
            ApplicationProtocolNames.HTTP_1_1);

    public TlsContexts {
        requireNonNull(server, "server");
        requireNonNull(client, "client");
        requireNonNull(clientHttp1, "clientHttp1");
        requireNonNull(material, "material");
        requireNonNull(provider, "provider");
    }

    /** The provider to use: BoringSSL when asked for or available, else the JDK. */
    public static SslProvider provider(TlsConfig.TlsProvider wanted) {
        return switch (wanted) {
            case OPENSSL -> {
                OpenSsl.ensureAvailability();
                yield SslProvider.OPENSSL;
            }
            case JDK -> SslProvider.JDK;
            case AUTO -> OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
        };
    }

    /**
     * The type of the in-memory key store through which Netty hands the key and chain to the provider's key
     * manager. Netty's default, PKCS#12, protects the key with PBKDF2 (10,000 HMAC-SHA-256 iterations) when it is
     * stored and again when it is read, for each of the three contexts: in a JFR profile of a start that was ~40 %
     * of the main thread's samples before {@code /ready}, and it recurs at every certificate rotation. The store
     * never leaves this process's memory, so its protection guards nothing; JKS stores the key with the JDK's
     * cheap key protector instead.
     */
    private static final String KEY_STORE_TYPE = "JKS";

    static TlsContexts build(TlsConfig config, TlsMaterial material, SslProvider provider) throws SSLException {
        X509Certificate[] chain = material.chain().toArray(new X509Certificate[0]);
        PeerVerifier verifier = new PeerVerifier(material.roots(), material.identity().trustDomain(),
                provider == SslProvider.OPENSSL);
        List<String> protocols = config.minVersion() == TlsConfig.TlsVersion.TLS_1_3
                ? List.of("TLSv1.3") : List.of("TLSv1.3", "TLSv1.2");
        List<String> ciphers = config.minVersion() == TlsConfig.TlsVersion.TLS_1_3
                ? TLS13 : concat(TLS13, TLS12_AEAD);
        SslContext server = SslContextBuilder.forServer(material.key(), chain)
                .keyStoreType(KEY_STORE_TYPE)
                .sslProvider(provider)
                .trustManager(verifier)
                .clientAuth(ClientAuth.REQUIRE)
                .protocols(protocols)
                .ciphers(ciphers, SupportedCipherSuiteFilter.INSTANCE)
                .applicationProtocolConfig(ALPN)
                .sessionTimeout(3600)
                .build();
        SslContext client = client(material, chain, verifier, provider, protocols, ciphers, ALPN);
        SslContext clientHttp1 = client(material, chain, verifier, provider, protocols, ciphers, ALPN_HTTP1);
        return new TlsContexts(server, client, clientHttp1, material, provider);
    }

    /** The client context for a connection to another sidecar that carries HTTP/2 ({@code http2}) or HTTP/1.1. */
    public SslContext client(boolean http2) {
        return http2 ? client : clientHttp1;
    }

    private static SslContext client(TlsMaterial material, X509Certificate[] chain, PeerVerifier verifier,
                                     SslProvider provider, List<String> protocols, List<String> ciphers,
                                     ApplicationProtocolConfig alpn) throws SSLException {
        return SslContextBuilder.forClient()
                .sslProvider(provider)
                .keyManager(material.key(), chain)
                .keyStoreType(KEY_STORE_TYPE)
                .trustManager(verifier)
                .protocols(protocols)
                .ciphers(ciphers, SupportedCipherSuiteFilter.INSTANCE)
                .applicationProtocolConfig(alpn)
                .sessionTimeout(3600)
                .build();
    }

    /**
     * Installs new session-ticket keys on a BoringSSL server context: {@code current} encrypts new tickets,
     * {@code previous} still decrypts tickets issued before the last rotation (RFC 5077 §5.5). The JDK
     * provider manages its own stateless ticket keys.
     */
    void setTicketKeys(OpenSslSessionTicketKey current, OpenSslSessionTicketKey previous) {
        if (server instanceof OpenSslServerContext openSsl) {
            if (previous == null) {
                openSsl.sessionContext().setTicketKeys(current);
            } else {
                openSsl.sessionContext().setTicketKeys(current, previous);
            }
        }
    }

    static OpenSslSessionTicketKey newTicketKey(SecureRandom random) {
        byte[] name = new byte[OpenSslSessionTicketKey.NAME_SIZE];
        byte[] hmac = new byte[OpenSslSessionTicketKey.HMAC_KEY_SIZE];
        byte[] aes = new byte[OpenSslSessionTicketKey.AES_KEY_SIZE];
        random.nextBytes(name);
        random.nextBytes(hmac);
        random.nextBytes(aes);
        return new OpenSslSessionTicketKey(name, hmac, aes);
    }

    private static List<String> concat(List<String> a, List<String> b) {
        return java.util.stream.Stream.concat(a.stream(), b.stream()).toList();
    }
}
