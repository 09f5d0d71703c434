package dev.outrider.core.snapshot;

import static java.util.Objects.requireNonNull;

/**
 * A snapshot that must not be applied, with the {@link Reason} a caller can count (a metric label of
 * bounded cardinality) and a message for the log. Messages never contain the payload or key material.
 */
public final class SnapshotException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Why a snapshot is refused. */
    public enum Reason {
        /** Not a JWS in compact serialization (or too large, or not text). */
        BAD_FORMAT,
        /** The header names an algorithm other than ES256 ({@code none}, HS256, RS256, EdDSA, ...). */
        UNSUPPORTED_ALGORITHM,
        /** The header's {@code typ} is not {@link SnapshotSigner#TYPE}: a token made for something else. */
        WRONG_TYPE,
        /** No {@code kid}, or a {@code kid} that is not among the trusted keys. */
        UNKNOWN_KEY,
        /** The signature does not verify with the trusted key of that {@code kid}. */
        BAD_SIGNATURE,
        /** Signed, but the payload is not a valid snapshot (JSON layout or a field's value). */
        INVALID_PAYLOAD,
        /** Signed and valid, but for another workload. */
        WRONG_WORKLOAD,
        /** Signed, but a policy document in it is refused; the message names the document and field. */
        INVALID_POLICIES,
        /** Older than the version already applied. */
        STALE_VERSION,
        /**
         * A last-known-good snapshot older than the version floor kept beside it: the file was replaced by an
         * older snapshot (a rollback), never by the sidecar itself.
         */
        BELOW_FLOOR,
        /** A last-known-good snapshot whose version floor file is missing or unreadable. */
        NO_FLOOR,
        /** A last-known-good snapshot issued longer ago than the maximum age allowed for one. */
        TOO_OLD
    }

    private final Reason reason;
    private final String detail;

    SnapshotException(Reason reason, String message) {
        this(reason, message, null);
    }

    SnapshotException(Reason reason, String message, Throwable cause) {
        super(reason + ": " + message, cause);
        this.reason = requireNonNull(reason, "reason");
        this.detail = requireNonNull(message, "message");
    }

    public Reason reason() {
        return reason;
    }

    /** The message without the reason in front. */
    public String detail() {
        return detail;
    }
}
