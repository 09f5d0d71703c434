package dev.outrider.proxy.upstream;

import dev.outrider.proxy.tls.HandshakeFailure;

/** The mTLS handshake with an upstream sidecar failed; {@link #reason()} is the metric's reason. */
public final class UpstreamTlsException extends Exception {
    private final HandshakeFailure reason;

    UpstreamTlsException(String service, HandshakeFailure reason, Throwable cause) {
        super("upstream TLS handshake failed for service " + service + " (" + reason.tag() + "): "
                + (cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage()), cause);
        this.reason = reason;
    }

    public HandshakeFailure reason() {
        return reason;
    }
}
