package dev.outrider.controlplane.ca;

import static java.util.Objects.requireNonNull;

/**
 * A refusal by the workload CA or the bootstrap authenticators; the message says what was refused and why,
 * and never contains a credential. {@link #reason()} lets the API pick the status without parsing messages.
 */
public final class CaException extends Exception {
    /** Why; the API maps these to 401, 400, 403 and 500/503. */
    public enum Reason {
        /** The bootstrap credential is unknown, expired, already used or of a kind nobody accepts. */
        UNAUTHENTICATED,
        /** The CSR or the request is malformed, badly signed, uses a refused key, or asks for a bad ttl. */
        INVALID_REQUEST,
        /** The CSR asks for an identity other than the one the credential proves. */
        IDENTITY_MISMATCH,
        /** The CA itself cannot sign: unreadable files, not a CA, key not matching, expired. */
        CA_UNUSABLE
    }

    private final Reason reason;

    CaException(Reason reason, String message) {
        super(message);
        this.reason = requireNonNull(reason, "reason");
    }

    CaException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = requireNonNull(reason, "reason");
    }

    static CaException unauthenticated(String message) {
        return new CaException(Reason.UNAUTHENTICATED, message);
    }

    static CaException invalidRequest(String message) {
        return new CaException(Reason.INVALID_REQUEST, message);
    }

    static CaException invalidRequest(String message, Throwable cause) {
        return new CaException(Reason.INVALID_REQUEST, message, cause);
    }

    static CaException identityMismatch(String message) {
        return new CaException(Reason.IDENTITY_MISMATCH, message);
    }

    static CaException caUnusable(String message) {
        return new CaException(Reason.CA_UNUSABLE, message);
    }

    static CaException caUnusable(String message, Throwable cause) {
        return new CaException(Reason.CA_UNUSABLE, message, cause);
    }

    public Reason reason() {
        return reason;
    }
}
