package dev.outrider.proxy.accesslog;

/**
 * Where finished requests are recorded. {@link #log} is called on event loops and never blocks.
 */
public interface AccessLog extends AutoCloseable {

    /** Records one request; never blocks, never throws for a full queue (the entry is dropped and counted). */
    void log(AccessLogEntry e);

    /**
     * Whether {@link #log} records anything. Callers build an entry only when it does: with the access log off,
     * a request allocates no entry (not left to the JIT's escape analysis, which a large inlined caller defeats).
     */
    default boolean enabled() {
        return true;
    }

    /** Writes what is still queued and releases the output. */
    @Override
    void close();

    /** An access log that records nothing (the access log is turned off). */
    static AccessLog disabled() {
        return DisabledAccessLog.INSTANCE;
    }
}
