package dev.outrider.proxy.runtime;

/**
 * Whether the sidecar is draining. Set once (SIGTERM or POST /drain), read by /ready and by every
 * connection deciding whether to keep a connection alive after the current response.
 */
public final class DrainState {
    /** Written once by the draining thread, read by event loops: volatile for visibility. */
    private volatile boolean draining;

    public boolean isDraining() {
        return draining;
    }

    /** Returns true for the call that started the drain. */
    public synchronized boolean start() {
        if (draining) {
            return false;
        }
        draining = true;
        return true;
    }
}
