package dev.outrider.core.policy;

import dev.outrider.core.document.FieldErrors;

import static java.util.Objects.requireNonNull;

/**
 * Names the source and the document being read, so every {@link PolicyException} says where it comes from.
 * Confined to the thread reading one source.
 */
final class ErrorContext implements FieldErrors {
    private final String source;
    private String document;

    ErrorContext(String source) {
        this.source = requireNonNull(source, "source");
    }

    /** Start a document: {@code <Kind> <namespace>/<name>} or {@code document <n> (line <l>)}. */
    void document(String document) {
        this.document = document;
    }

    @Override
    public PolicyException fail(String path, String problem) {
        return new PolicyException(source, document, path, problem);
    }
}
