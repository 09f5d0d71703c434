package dev.outrider.proxy.accesslog;

/** Records nothing. Stateless, so one shared instance is harmless. */
enum DisabledSecurityEvents implements SecurityEvents {
    INSTANCE;

    @Override
    public void emit(SecurityEvent e) {
    }

    @Override
    public boolean admit() {
        return false;
    }

    @Override
    public void close() {
    }
}
