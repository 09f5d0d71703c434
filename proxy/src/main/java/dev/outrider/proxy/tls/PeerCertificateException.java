package dev.outrider.proxy.tls;

import java.security.cert.CertificateException;

import static java.util.Objects.requireNonNull;

/** A peer certificate refused by {@link PeerVerifier}, with the reason the metrics report. */
public final class PeerCertificateException extends CertificateException {
    private final HandshakeFailure reason;

    PeerCertificateException(HandshakeFailure reason, String message) {
        super(message);
        this.reason = requireNonNull(reason, "reason");
    }

    PeerCertificateException(HandshakeFailure reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = requireNonNull(reason, "reason");
    }

    public HandshakeFailure reason() {
        return reason;
    }
}
