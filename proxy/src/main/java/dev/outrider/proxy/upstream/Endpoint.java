package dev.outrider.proxy.upstream;

import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicInteger;

import static java.util.Objects.requireNonNull;

/**
 * One instance of a service: its address and the number of requests in flight to it from this sidecar
 * (all event loops), which the least-request balancer reads. The address is resolved once when the
 * endpoint set is built, never on an event loop.
 */
public final class Endpoint {
    private final InetSocketAddress address;
    private final String label;
    private final AtomicInteger active = new AtomicInteger();

    public Endpoint(InetSocketAddress address) {
        this.address = requireNonNull(address, "address");
        this.label = address.getHostString() + ":" + address.getPort();
    }

    public InetSocketAddress address() {
        return address;
    }

    /** Requests in flight to this endpoint. */
    public int active() {
        return active.get();
    }

    void requestStarted() {
        active.incrementAndGet();
    }

    void requestFinished() {
        active.decrementAndGet();
    }

    @Override
    public String toString() {
        return label;
    }
}
