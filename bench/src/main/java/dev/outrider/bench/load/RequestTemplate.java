package dev.outrider.bench.load;

import java.util.List;
import java.util.Map;

import static java.util.Objects.requireNonNull;

/**
 * What every request of a run looks like: {@code GET} (or another body-less method) of one path, with the
 * authority and extra headers given on the command line (names lower-case, as HTTP/2 requires).
 */
record RequestTemplate(String method, String authority, String path, List<Map.Entry<String, String>> headers) {
    RequestTemplate {
        requireNonNull(method, "method");
        requireNonNull(authority, "authority");
        requireNonNull(path, "path");
        headers = List.copyOf(headers);
    }
}
