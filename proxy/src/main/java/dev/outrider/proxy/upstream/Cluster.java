package dev.outrider.proxy.upstream;

import dev.outrider.proxy.config.Protocol;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static java.util.Objects.requireNonNull;

/**
 * A named set of endpoints spoken to with one protocol: a service this workload calls (outbound) or the
 * local application (inbound). Immutable except for the in-flight counters the balancer and the retry
 * budget read.
 */
public final class Cluster {
    private final String name;
    private final Protocol protocol;
    private final List<Endpoint> endpoints;
    private final UpstreamTls tls;
    private final OriginatedTls originated;
    private final AtomicInteger activeRequests = new AtomicInteger();
    private final AtomicInteger activeRetries = new AtomicInteger();

    /** A plaintext cluster (the local application; or every cluster when mTLS is off). */
    public Cluster(String name, Protocol protocol, List<Endpoint> endpoints) {
        this(name, protocol, endpoints, null);
    }

    /** @param tls mTLS to this cluster's endpoints, or null for plaintext */
    public Cluster(String name, Protocol protocol, List<Endpoint> endpoints, UpstreamTls tls) {
        this(name, protocol, endpoints, tls, null);
    }

    /** An external service (ServiceEntry): HTTP/1.1, plaintext or over TLS the sidecar originates. */
    public static Cluster external(String name, List<Endpoint> endpoints, OriginatedTls originated) {
        return new Cluster(name, Protocol.HTTP1, endpoints, null, originated);
    }

    private Cluster(String name, Protocol protocol, List<Endpoint> endpoints, UpstreamTls tls, OriginatedTls originated) {
        this.tls = tls;
        this.originated = originated;
        this.name = requireNonNull(name, "name");
        this.protocol = requireNonNull(protocol, "protocol");
        this.endpoints = List.copyOf(endpoints);
        if (this.endpoints.isEmpty()) {
            throw new IllegalArgumentException("cluster " + name + " has no endpoints");
        }
    }

    public String name() {
        return name;
    }

    public Protocol protocol() {
        return protocol;
    }

    public List<Endpoint> endpoints() {
        return endpoints;
    }

    /** mTLS settings, or null for plaintext. */
    public UpstreamTls tls() {
        return tls;
    }

    /** TLS the sidecar originates to an external service, or null (mesh clusters, plaintext external services). */
    public OriginatedTls originated() {
        return originated;
    }

    public void requestStarted() {
        activeRequests.incrementAndGet();
    }

    public void requestFinished() {
        activeRequests.decrementAndGet();
    }

    /**
     * Retry budget (Envoy's retry_budget): a retry may start while retries in flight stay below
     * {@code percent}% of requests in flight, or below {@code minConcurrency}, whichever allows more. Under
     * an upstream outage this keeps retries from multiplying the load. A true result must be paired with
     * {@link #retryFinished()}.
     */
    public boolean tryStartRetry(int percent, int minConcurrency) {
        int limit = Math.max(minConcurrency, (int) ((long) activeRequests.get() * percent / 100));
        for (;;) {
            int current = activeRetries.get();
            if (current >= limit) {
                return false;
            }
            if (activeRetries.compareAndSet(current, current + 1)) {
                return true;
            }
        }
    }

    public void retryFinished() {
        activeRetries.decrementAndGet();
    }

    @Override
    public String toString() {
        return name;
    }
}
