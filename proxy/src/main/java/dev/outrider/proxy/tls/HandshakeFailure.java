package dev.outrider.proxy.tls;

import io.netty.handler.ssl.NotSslRecordException;

import java.util.Locale;

/** Why a handshake failed: the {@code reason} tag of {@code outrider_tls_handshake_failures_total}. */
public enum HandshakeFailure {
    /** The client sent no certificate where one is required. */
    NO_CLIENT_CERT,
    /** The chain does not lead to a root of the trust bundle, or the certificate is not fit for the role. */
    UNTRUSTED,
    EXPIRED,
    NOT_YET_VALID,
    /** Not exactly one SPIFFE URI SAN, another trust domain, or (outbound) not an expected identity. */
    IDENTITY_MISMATCH,
    /** Version, cipher, ALPN or a malformed message; also a handshake timeout. */
    PROTOCOL,
    /** The caller spoke plaintext to a port that requires mTLS (the first bytes were not a TLS record). */
    PLAINTEXT;

    private final String tag = name().toLowerCase(Locale.ROOT);

    public String tag() {
        return tag;
    }

    /** The reason carried in {@code cause}'s chain, else a guess from the TLS stack's message. */
    public static HandshakeFailure of(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof PeerCertificateException p) {
                return p.reason();
            }
            if (t instanceof NotSslRecordException) {
                return PLAINTEXT;
            }
        }
        for (Throwable t = cause; t != null; t = t.getCause()) {
            String m = t.getMessage() == null ? "" : t.getMessage().toLowerCase(Locale.ROOT);
            if (m.contains("empty client certificate chain") || m.contains("did_not_return_a_certificate")
                    || m.contains("did not return a certificate") || m.contains("certificate_required")
                    || m.contains("certificate required")) {
                return NO_CLIENT_CERT;
            }
            if (m.contains("certificate_expired") || m.contains("certificate expired")) {
                return EXPIRED;
            }
            if (m.contains("unknown_ca") || m.contains("bad_certificate") || m.contains("certificate_unknown")
                    || m.contains("unsupported_certificate")) {
                return UNTRUSTED;
            }
        }
        return PROTOCOL;
    }
}
