package dev.outrider.proxy.tls;

import java.util.Locale;

import static java.util.Objects.requireNonNull;

/**
 * New TLS material that cannot be used, with the config field it came from and why. At start-up this stops
 * the sidecar; on a reload the material in use stays and the reason is logged and counted.
 */
public final class TlsMaterialException extends Exception {
    /** The {@code reason} tag of {@code outrider_tls_reload_failures_total}. */
    public enum Reason {
        UNREADABLE, BAD_PEM, KEY_MISMATCH, EXPIRED, NOT_YET_VALID, WRONG_IDENTITY, UNTRUSTED;

        public String tag() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final String field;
    private final Reason reason;

    TlsMaterialException(String field, Reason reason, String message, Throwable cause) {
        super(field + ": " + message, cause);
        this.field = requireNonNull(field, "field");
        this.reason = requireNonNull(reason, "reason");
    }

    public String field() {
        return field;
    }

    public Reason reason() {
        return reason;
    }
}
