package dev.outrider.proxy;

import dev.outrider.proxy.http.DownstreamConnections;
import dev.outrider.proxy.runtime.DrainState;
import io.netty.channel.Channel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A sidecar's graceful drain, on its own thread ({@code outrider-drain}), bounded by one timeout
 * ({@code runtime.drainTimeout}) counted from the signal:
 * <pre>
 *   readiness false ─▶ inbound listener closed ─▶ inbound connections finish their requests
 *   ─▶ outbound listeners closed ─▶ outbound connections finish
 *   ─▶ deregistration done (started in the background at the beginning) ─▶ shutdown
 * </pre>
 * The inbound listener closes first (a caller's connect is refused from then on, and its sidecar moves to another
 * endpoint, which is always safe); its connections finish their in-flight requests (HTTP/1.1 closes after the
 * current response with {@code Connection: close}, HTTP/2 sends GOAWAY). The outbound listeners stay open until
 * the inbound side is done, so the application can still call its dependencies while it finishes requests. A
 * control plane that does not answer the deregistration delays nothing; what is left at the deadline is closed
 * by the shutdown.
 */
final class SidecarDrain {
    private static final Logger log = LoggerFactory.getLogger(SidecarDrain.class);

    private final Duration timeout;
    private final DrainState state;
    private final Channel inboundListener;
    private final List<Channel> outboundListeners;
    private final DownstreamConnections inbound;
    private final DownstreamConnections outbound;
    private final Deregistration deregistration;
    private final Runnable shutdown;

    /** @param shutdown closes everything that is left; runs last, whatever happened */
    SidecarDrain(Duration timeout, DrainState state, Channel inboundListener, List<Channel> outboundListeners,
                 DownstreamConnections inbound, DownstreamConnections outbound, Deregistration deregistration,
                 Runnable shutdown) {
        this.timeout = timeout;
        this.state = state;
        this.inboundListener = inboundListener;
        this.outboundListeners = List.copyOf(outboundListeners);
        this.inbound = inbound;
        this.outbound = outbound;
        this.deregistration = deregistration;
        this.shutdown = shutdown;
    }

    /** Starts the drain (idempotent, returns at once; called on an event loop by {@code POST /drain}). */
    void start() {
        if (!state.start()) {
            return;
        }
        Thread t = new Thread(this::run, "outrider-drain");
        t.setDaemon(false);
        t.start();
    }

    private void run() {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            inboundListener.close().syncUninterruptibly(); // first: nothing new is accepted from here on
            log.info("draining: not ready; inbound listener closed; finishing in-flight requests (timeout {} ms)",
                    timeout.toMillis());
            CompletableFuture<Void> deregistered = deregistration.inBackground();
            inbound.drain();
            awaitEmpty(inbound, deadline);
            for (Channel ch : outboundListeners) {
                ch.close().syncUninterruptibly();
            }
            outbound.drain();
            awaitEmpty(outbound, deadline);
            awaitDeregistration(deregistered, deadline);
            int left = inbound.size() + outbound.size();
            if (left > 0) {
                log.warn("drain timeout reached: closing {} connection(s) still open", left);
            }
            log.info("drained");
        } catch (RuntimeException e) {
            log.error("drain failed; shutting down", e);
        } finally {
            shutdown.run();
        }
    }

    private static void awaitDeregistration(CompletableFuture<Void> deregistered, long deadlineNanos) {
        try {
            deregistered.get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            log.warn("drain deadline reached before the control plane answered the deregistration; the registration "
                    + "expires by itself");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            // Deregistration logs its own failures and never completes exceptionally
        }
    }

    private static void awaitEmpty(DownstreamConnections connections, long deadlineNanos) {
        while (connections.size() > 0 && System.nanoTime() < deadlineNanos) {
            try {
                Thread.sleep(10); // the drain thread, never an event loop
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
