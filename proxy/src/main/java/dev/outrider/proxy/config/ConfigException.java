package dev.outrider.proxy.config;

import static java.util.Objects.requireNonNull;

/**
 * A bootstrap file that cannot be used. The message is {@code <field path>: <problem>}, for example
 * {@code outbound.upstreams[1].port: 70000 is not a port (1-65535)}; the path is empty for problems with
 * the file as a whole (unreadable, empty, not YAML). The file's name is not part of the message: callers
 * print it in front ({@link #source()}).
 */
public final class ConfigException extends RuntimeException {
    private final String source;
    private final String path;

    public ConfigException(String source, String path, String problem) {
        super(path.isEmpty() ? problem : path + ": " + requireNonNull(problem, "problem"));
        this.source = requireNonNull(source, "source");
        this.path = path;
    }

    public ConfigException(String source, String path, String problem, Throwable cause) {
        this(source, path, problem);
        initCause(cause);
    }

    /** The file (or other source) the configuration came from. */
    public String source() {
        return source;
    }

    /** The field path ({@code http.maxHeaderSize}, {@code services[0].endpoints[1]}); empty for the whole file. */
    public String path() {
        return path;
    }
}
