package dev.outrider.proxy.config;

import java.nio.file.Path;
import java.time.Duration;

import static java.util.Objects.requireNonNull;

/**
 * Mutual TLS between sidecars: this workload's certificate and key, the mesh trust bundle, and how
 * handshakes are made. With {@link TlsMode#MTLS} (the default) the inbound listener requires a client
 * certificate from the mesh and the outbound side originates mTLS to every service; there is never a
 * fallback to plaintext. {@link TlsMode#DISABLED} is for development on a trusted loopback only.
 *
 * @param certificate      PEM: the workload certificate first, then any intermediates
 * @param privateKey       PEM: its key (PKCS#8, SEC1 or PKCS#1)
 * @param trustBundle      PEM: one or more mesh roots (several while a CA rotates)
 * @param minVersion       lowest TLS version accepted and offered
 * @param provider         BoringSSL (openssl) or the JDK; auto prefers BoringSSL
 * @param handshakeTimeout a handshake not finished by then fails
 * @param reloadInterval   how often the three files are checked for new content
 * @param ticketKeyRotation how often session-ticket keys rotate (the previous key still decrypts)
 */
public record TlsConfig(TlsMode mode, Path certificate, Path privateKey, Path trustBundle, TlsVersion minVersion,
                        TlsProvider provider, Duration handshakeTimeout, Duration reloadInterval,
                        Duration ticketKeyRotation) {
    public TlsConfig {
        requireNonNull(mode, "mode");
        requireNonNull(certificate, "certificate");
        requireNonNull(privateKey, "privateKey");
        requireNonNull(trustBundle, "trustBundle");
        requireNonNull(minVersion, "minVersion");
        requireNonNull(provider, "provider");
        requireNonNull(handshakeTimeout, "handshakeTimeout");
        requireNonNull(reloadInterval, "reloadInterval");
        requireNonNull(ticketKeyRotation, "ticketKeyRotation");
    }

    public boolean enabled() {
        return mode == TlsMode.MTLS;
    }

    public enum TlsMode {
        MTLS,
        DISABLED
    }

    public enum TlsProvider {
        /** BoringSSL when netty-tcnative loads, else the JDK (with one warning). */
        AUTO,
        OPENSSL,
        JDK
    }

    public enum TlsVersion {
        TLS_1_2("TLSv1.2"),
        TLS_1_3("TLSv1.3");

        private final String protocolName;

        TlsVersion(String protocolName) {
            this.protocolName = protocolName;
        }

        /** The JSSE/OpenSSL protocol name. */
        public String protocolName() {
            return protocolName;
        }
    }
}
