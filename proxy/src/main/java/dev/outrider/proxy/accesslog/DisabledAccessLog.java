package dev.outrider.proxy.accesslog;

/** Records nothing. Stateless, so one shared instance is harmless. */
enum DisabledAccessLog implements AccessLog {
    INSTANCE;

    @Override
    public void log(AccessLogEntry e) {
    }

    @Override
    public boolean enabled() {
        return false;
    }

    @Override
    public void close() {
    }
}
