package dev.outrider.proxy.accesslog;

/**
 * Where finished requests are recorded. {@link #log} is called on event loops and never blocks.
 */
public interface AccessLog extends AutoCloseable {

    /** Records one request; never blocks, never throws for a full queue (the entry is dropped and counted). */
    void log(AccessLogEntry e);

    /** Writes what is still queued and releases the output. */
    @Override
    void close();

    /** An access log that records nothing (the access log is turned off). */
    static AccessLog disabled() {
        return DisabledAccessLog.INSTANCE;
    }
}
