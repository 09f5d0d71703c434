package dev.outrider.controlplane.registry;

import static java.util.Objects.requireNonNull;

/**
 * A registration the registry refuses, with the {@link Reason} the API maps to its answer (NOT_FOUND → 404,
 * FORBIDDEN → 403, INVALID → 400) and, for INVALID, the request field at fault.
 */
public final class RegistryException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Why a registration is refused. */
    public enum Reason {
        /** The Service does not exist in the caller's namespace (or the instance to deregister does not). */
        NOT_FOUND,
        /** The caller's service account may not register that Service, or the instance belongs to another identity. */
        FORBIDDEN,
        /** A request field is malformed. */
        INVALID
    }

    private final Reason reason;
    private final String field;

    private RegistryException(Reason reason, String field, String message) {
        super(message);
        this.reason = requireNonNull(reason, "reason");
        this.field = field;
    }

    static RegistryException notFound(String message) {
        return new RegistryException(Reason.NOT_FOUND, null, message);
    }

    static RegistryException forbidden(String message) {
        return new RegistryException(Reason.FORBIDDEN, null, message);
    }

    static RegistryException invalid(String field, String message) {
        return new RegistryException(Reason.INVALID, requireNonNull(field, "field"), message);
    }

    public Reason reason() {
        return reason;
    }

    /** The request field at fault ({@code service}, {@code instance}, {@code address}); null unless INVALID. */
    public String field() {
        return field;
    }
}
