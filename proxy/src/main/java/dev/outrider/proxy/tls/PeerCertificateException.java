package dev.outrider.proxy.tls;

import java.security.cert.CertificateException;

import static java.util.Objects.requireNonNull;

/**
 * A peer certificate refused by {@link PeerVerifier}, with the reason the metrics report and the TLS alert the
 * refusal should send (with BoringSSL, through {@link OpenSslAlerts}; the JDK's TLS stack picks its own).
 */
public final class PeerCertificateException extends CertificateException {
    /** The certificate alerts of RFC 8446 §6.2 a refusal may send. */
    public enum Alert {
        /** The chain leads to no trust anchor of the bundle. */
        UNKNOWN_CA,
        CERTIFICATE_EXPIRED,
        /** Not usable for the role (key usage, extended key usage, a CA certificate as a workload's). */
        UNSUPPORTED_CERTIFICATE,
        /** Anything else: not yet valid, a broken chain, not the identity it must carry. */
        BAD_CERTIFICATE
    }

    private final HandshakeFailure reason;
    private final Alert alert;

    PeerCertificateException(HandshakeFailure reason, String message) {
        this(reason, alertOf(reason), message, null);
    }

    PeerCertificateException(HandshakeFailure reason, String message, Throwable cause) {
        this(reason, alertOf(reason), message, cause);
    }

    PeerCertificateException(HandshakeFailure reason, Alert alert, String message, Throwable cause) {
        super(message, cause);
        this.reason = requireNonNull(reason, "reason");
        this.alert = requireNonNull(alert, "alert");
    }

    public HandshakeFailure reason() {
        return reason;
    }

    public Alert alert() {
        return alert;
    }

    /** The alert a refusal for {@code reason} sends unless the refusal names another. */
    private static Alert alertOf(HandshakeFailure reason) {
        return switch (reason) {
            case UNTRUSTED -> Alert.UNKNOWN_CA;
            case EXPIRED -> Alert.CERTIFICATE_EXPIRED;
            case NO_CLIENT_CERT, NOT_YET_VALID, IDENTITY_MISMATCH, PROTOCOL, PLAINTEXT -> Alert.BAD_CERTIFICATE;
        };
    }
}
