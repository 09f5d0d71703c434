package dev.outrider.core.document;

/**
 * How a reader of documents reports a problem with one field: the exception it throws, built from the field's
 * path ({@code spec.rules[0].to[0]}; empty for the document as a whole) and the problem. The policy reader
 * names the source and the document as well; the control plane's API answers 400 naming the field.
 */
@FunctionalInterface
public interface FieldErrors {
    /** The exception to throw for {@code problem} at {@code path}; never null. */
    RuntimeException fail(String path, String problem);
}
