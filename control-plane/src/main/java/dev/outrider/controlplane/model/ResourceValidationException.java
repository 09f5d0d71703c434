package dev.outrider.controlplane.model;

import dev.outrider.core.document.FieldErrors;

import static java.util.Objects.requireNonNull;

/**
 * A resource document the API refuses. {@link #reason()} tells the server which answer to give
 * ({@link Reason#INVALID} → 400 {@code Invalid}, {@link Reason#UNSUPPORTED_MEDIA_TYPE} → 415
 * {@code UnsupportedMediaType}); {@link #field()} is the one field at fault, when there is one
 * ({@code spec.exportTo[1]}), and the message reads {@code <field>: <problem>}. Messages quote document
 * values but never the whole body.
 */
public final class ResourceValidationException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Why the document is refused. */
    public enum Reason {
        /** The body is not an acceptable document (syntax, schema, values, or a mismatch with the URL). */
        INVALID,
        /** The body's Content-Type is not YAML or JSON. */
        UNSUPPORTED_MEDIA_TYPE
    }

    /** Reports a document problem as {@link #invalid}, for {@link dev.outrider.core.document.DocumentFields}. */
    static final FieldErrors FIELDS = ResourceValidationException::invalid;

    private final Reason reason;
    private final String field;
    private final String problem;

    private ResourceValidationException(Reason reason, String field, String problem) {
        super(field == null || field.isEmpty() ? problem : field + ": " + problem);
        this.reason = requireNonNull(reason, "reason");
        this.field = field == null || field.isEmpty() ? null : field;
        this.problem = requireNonNull(problem, "problem");
    }

    /** An invalid document; {@code field} null or empty when the document as a whole is at fault. */
    public static ResourceValidationException invalid(String field, String problem) {
        return new ResourceValidationException(Reason.INVALID, field, problem);
    }

    /** A body whose media type is not one the API reads. */
    public static ResourceValidationException unsupportedMediaType(String problem) {
        return new ResourceValidationException(Reason.UNSUPPORTED_MEDIA_TYPE, null, problem);
    }

    public Reason reason() {
        return reason;
    }

    /** The field at fault ({@code metadata.name}, {@code spec.rules[0].to[0]}), or null. */
    public String field() {
        return field;
    }

    /** What is wrong, without the field. */
    public String problem() {
        return problem;
    }
}
