package dev.outrider.control.policy;

import static java.util.Objects.requireNonNull;

/**
 * Names the source and the document being read, so every {@link PolicyException} says where it comes from.
 * Confined to the thread reading one source.
 */
final class ErrorContext {
    private static final int MAX_QUOTED = 80;

    private final String source;
    private String document;

    ErrorContext(String source) {
        this.source = requireNonNull(source, "source");
    }

    /** Start a document: {@code <Kind> <namespace>/<name>} or {@code document <n> (line <l>)}. */
    void document(String document) {
        this.document = document;
    }

    PolicyException fail(String path, String problem) {
        return new PolicyException(source, document, path, problem);
    }

    /**
     * A value from a document as it may appear in an error and so in a log: single-quoted, control characters
     * escaped, long values cut.
     */
    static String quote(String value) {
        StringBuilder sb = new StringBuilder(Math.min(value.length(), MAX_QUOTED) + 8).append('\'');
        for (int i = 0; i < value.length(); i++) {
            if (i == MAX_QUOTED) {
                sb.append("...");
                break;
            }
            char c = value.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.append('\'').toString();
    }
}
