package dev.outrider.core.identity;

import static java.util.Objects.requireNonNull;

/**
 * The sidecar could not get a usable certificate within the bootstrap timeout; {@link #reason()} says why in a
 * word, the message in a sentence (never with the token).
 */
public final class CertificateBootstrapException extends Exception {
    private static final long serialVersionUID = 1L;

    public enum Reason {
        /** No usable certificate on disk and no bootstrap token (join or service-account token) to get one with. */
        NO_BOOTSTRAP_TOKEN,
        /**
         * The control plane refused the bootstrap token or the certificate (401/403): a new join token is needed, or
         * the service-account token is not one the control plane accepts (its message says why).
         */
        TOKEN_REFUSED,
        /** The control plane refused the request for another reason (e.g. 400 for the CSR). */
        REFUSED,
        /** No answer from the control plane (connection, TLS or timeout), or it answered 5xx, until the timeout. */
        UNREACHABLE,
        /** The issued certificate was not usable, or the files could not be written. */
        INSTALL_FAILED
    }

    private final Reason reason;

    CertificateBootstrapException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = requireNonNull(reason, "reason");
    }

    public Reason reason() {
        return reason;
    }
}
