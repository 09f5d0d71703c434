package dev.outrider.tools.inject;

import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * Input {@code outrider inject} cannot inject: a text that does not parse, or documents whose pods conflict with
 * the sidecar or are malformed. Each problem names the source, the document (number and line) and the field;
 * nothing is written when there is one (half an injected manifest piped to {@code kubectl apply} would be worse).
 */
public final class InjectException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final List<String> problems;

    InjectException(List<String> problems) {
        super(String.join(System.lineSeparator(), requireNonNull(problems, "problems")));
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("problems is empty");
        }
        this.problems = List.copyOf(problems);
    }

    InjectException(String problem) {
        this(List.of(problem));
    }

    /** One line each, in document order. */
    public List<String> problems() {
        return problems;
    }
}
