package dev.outrider.proxy;

import dev.outrider.proxy.control.ControlPlaneLink;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Closing the control-plane link: deregister from the control plane and stop watching and renewing. Once, from
 * whichever thread asks first: the drain starts it in the background ({@link #inBackground}), the shutdown asks
 * again at the end and returns at once when it is already done or under way. Without a control plane
 * ({@code link} null) there is nothing to do.
 */
final class Deregistration implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Deregistration.class);

    private final ControlPlaneLink link;
    private final AtomicBoolean closed = new AtomicBoolean();

    Deregistration(ControlPlaneLink link) {
        this.link = link;
    }

    /**
     * Blocks up to the control-plane client's request timeout when the control plane does not answer; never
     * throws.
     */
    @Override
    public void close() {
        if (link != null && closed.compareAndSet(false, true)) {
            try {
                link.close();
            } catch (RuntimeException e) {
                log.warn("closing the control-plane link: {}", e.toString());
            }
        }
    }

    /**
     * {@link #close} on its own daemon thread (the control-plane client blocks until its request timeout when the
     * control plane hangs); the future completes when done or failed, never exceptionally. Nothing needs to wait
     * for it past a deadline: a registration that is not removed expires by itself on the control plane.
     */
    CompletableFuture<Void> inBackground() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        if (link == null) {
            done.complete(null);
            return done;
        }
        Thread.ofPlatform().daemon().name("outrider-deregister").start(() -> {
            try {
                close();
            } finally {
                done.complete(null);
            }
        });
        return done;
    }
}
