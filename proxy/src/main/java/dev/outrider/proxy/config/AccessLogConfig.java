package dev.outrider.proxy.config;

import static java.util.Objects.requireNonNull;

/**
 * The JSON access log.
 *
 * @param enabled   write one line per request
 * @param path      {@code -} for standard output, otherwise a file appended to
 * @param queueSize lines waiting for the writer thread; when full, lines are dropped and counted
 *                  (the event loop never waits for the disk)
 */
public record AccessLogConfig(boolean enabled, String path, int queueSize) {
    public AccessLogConfig {
        requireNonNull(path, "path");
    }
}
