package dev.outrider.core.policy;

import static java.util.Objects.requireNonNull;

/**
 * A policy document that cannot be accepted. The message reads
 * {@code <source>: <document>: <path>: <problem>}, e.g.
 * {@code policies.yaml: AuthorizationPolicy shop/allow-frontend: spec.rules[0].to[0].operation.methods[1]: 'get' is not an HTTP method in upper case}.
 * {@code document} is {@code <Kind> <namespace>/<name>} once those are known and valid, otherwise
 * {@code document <n>} (1-based, counting every document of the source) with the line it starts on.
 */
public final class PolicyException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String source;
    private final String document;
    private final String path;
    private final String problem;

    PolicyException(String source, String document, String path, String problem) {
        super(format(source, document, path, problem));
        this.source = requireNonNull(source, "source");
        this.document = document;
        this.path = path;
        this.problem = requireNonNull(problem, "problem");
    }

    private static String format(String source, String document, String path, String problem) {
        StringBuilder sb = new StringBuilder(source);
        if (document != null) {
            sb.append(": ").append(document);
        }
        if (path != null && !path.isEmpty()) {
            sb.append(": ").append(path);
        }
        return sb.append(": ").append(problem).toString();
    }

    /** Where the document came from: a file name, or what the caller passed to {@link PolicyDocuments#parse}. */
    public String source() {
        return source;
    }

    /** {@code <Kind> <namespace>/<name>} or {@code document <n> (line <l>)}; null when no document is concerned. */
    public String document() {
        return document;
    }

    /** The field, e.g. {@code spec.rules[0].to[0].operation.methods[1]}; empty for the document as a whole. */
    public String path() {
        return path == null ? "" : path;
    }

    /** What is wrong, without source, document or path. */
    public String problem() {
        return problem;
    }
}
