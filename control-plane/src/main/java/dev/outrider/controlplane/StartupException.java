package dev.outrider.controlplane;

import static java.util.Objects.requireNonNull;

/**
 * The control plane could not start; the message names the option at fault ({@code --ca-key: ...}) so an
 * operator knows what to fix. {@link #isConfiguration()} tells bad configuration (exit 2) from a failure of the
 * environment such as a port in use (exit 1).
 */
public final class StartupException extends Exception {
    private final boolean configuration;

    StartupException(String option, String message, Throwable cause, boolean configuration) {
        super(requireNonNull(option, "option") + ": " + requireNonNull(message, "message"), cause);
        this.configuration = configuration;
    }

    static StartupException config(String option, String message, Throwable cause) {
        return new StartupException(option, message, cause, true);
    }

    static StartupException environment(String option, String message, Throwable cause) {
        return new StartupException(option, message, cause, false);
    }

    public boolean isConfiguration() {
        return configuration;
    }
}
