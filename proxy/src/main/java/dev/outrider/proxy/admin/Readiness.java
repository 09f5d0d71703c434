package dev.outrider.proxy.admin;

/**
 * Why the sidecar does not take traffic now, or null when it does. Read on an event loop for every
 * {@code /ready}: must be cheap and non-blocking. The reason is shown to whoever asks {@code /ready}, so it
 * never carries anything sensitive (no tokens, keys or request data).
 */
@FunctionalInterface
public interface Readiness {
    /** Null when ready; otherwise a short reason, e.g. {@code draining}. */
    String notReadyReason();
}
