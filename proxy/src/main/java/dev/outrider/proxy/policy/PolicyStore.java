package dev.outrider.proxy.policy;

import java.util.concurrent.atomic.AtomicReference;

import static java.util.Objects.requireNonNull;

/**
 * The current {@link PolicySnapshot}: one {@link AtomicReference}, read once per request from any event
 * loop, replaced whole by the thread that compiled the next snapshot. No locks, no partial updates: a
 * request sees the old snapshot or the new one, never a mix.
 */
public final class PolicyStore {
    private final AtomicReference<PolicySnapshot> current;

    public PolicyStore(PolicySnapshot initial) {
        this.current = new AtomicReference<>(requireNonNull(initial, "initial"));
    }

    public PolicySnapshot current() {
        return current.get();
    }

    /** Publishes {@code next}; returns the snapshot it replaced. */
    public PolicySnapshot apply(PolicySnapshot next) {
        return current.getAndSet(requireNonNull(next, "next"));
    }
}
