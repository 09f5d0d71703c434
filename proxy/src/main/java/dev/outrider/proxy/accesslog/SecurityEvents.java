package dev.outrider.proxy.accesslog;

/**
 * The security event stream: one JSON line per refusal, rate-limited ({@link AsyncSecurityEvents}). Used on
 * event loops; neither method blocks or throws. A caller builds an event only after {@link #admit} said yes:
 * <pre>
 *   if (events.admit()) {
 *       events.emit(state.securityEvent(...));
 *   }
 * </pre>
 * so an admitted request never builds one, and a flood of refusals over the limit builds none either.
 */
public interface SecurityEvents extends AutoCloseable {

    /**
     * Takes the stream's permission for one event: false when the stream is off, or over its rate limit (the
     * event is then counted as dropped, and must not be built).
     */
    boolean admit();

    /** Writes an event {@link #admit} allowed; a full queue drops and counts it. */
    void emit(SecurityEvent e);

    /** Writes what is still queued and releases the output. */
    @Override
    void close();

    /** A stream that records nothing (security events are turned off). */
    static SecurityEvents disabled() {
        return DisabledSecurityEvents.INSTANCE;
    }
}
