package dev.outrider.tools.cli;

/**
 * The exit codes every {@code outrider} tool shares (and the sidecar's and control plane's entry points use the
 * same values): 0 success, 1 failure at run time, 2 bad usage or bad configuration.
 */
public final class ExitCodes {
    public static final int OK = 0;
    public static final int FAILURE = 1;
    public static final int USAGE = 2;

    private ExitCodes() {
    }
}
