package dev.outrider.proxy.metrics;

import dev.outrider.core.model.SpiffeId;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.BaseUnits;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static java.util.Objects.requireNonNull;

/**
 * Request metrics by who called whom, on both directions — Istio's standard metrics under Outrider's names
 * (docs/observability.md maps them):
 * <pre>
 * outrider_mesh_requests_total{direction, source_workload, source_workload_namespace, source_principal,
 *                              destination_service, destination_workload, destination_workload_namespace,
 *                              response_code, grpc_response_status}
 * outrider_mesh_request_duration_seconds{direction, source_..., destination_...}   histogram, buckets below
 * outrider_mesh_request_bytes_total{...}, outrider_mesh_response_bytes_total{...}   (body bytes)
 * </pre>
 * Label values come only from mesh identities (a verified peer certificate's SPIFFE ID, this sidecar's own) and
 * the services of the snapshot; anything else is {@value #UNKNOWN}. Never a client key, a path or a token.
 *
 * <p>A {@link Series} holds the meters of one source and destination and is made when that pair is first seen,
 * at most {@link #maxSeries} of them; after that every new pair shares the {@value #OVERFLOW} series of its
 * direction. Per request the hot path finds its series (a map lookup on a string the connection or the route
 * already holds, or a field of the route's cluster) and increments pre-registered meters: a response code's
 * counter is registered the first time the series sees that code.
 *
 * <p>Thread-safe: any event loop, at once.
 */
public final class MeshMetrics {
    public static final String UNKNOWN = "unknown";
    public static final String OVERFLOW = "overflow";
    /** The default cap on source and destination pairs per sidecar. */
    public static final int DEFAULT_MAX_SERIES = 1_000;
    /** The duration histogram's buckets (Istio's request-duration buckets, from 1 ms). */
    private static final Duration[] BUCKETS = {
            Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25),
            Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500),
            Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10),
            Duration.ofSeconds(30)};

    private final MeterRegistry registry;
    private final Local local;
    private final int maxSeries;
    private final AtomicInteger made = new AtomicInteger();
    /** Inbound: by the caller's principal (Istio form); outbound: by the destination service. */
    private final ConcurrentHashMap<String, Series> inbound = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Series> outbound = new ConcurrentHashMap<>();
    private final Series inboundUnknown;
    private final Series inboundOverflow;
    private final Series outboundUnknown;
    private final Series outboundOverflow;

    /**
     * This sidecar's workload: the destination of what it receives, the source of what it sends.
     *
     * @param service the service it serves (inbound destination), or null for one that only calls others
     */
    public record Local(String service, SpiffeId identity) {
        public static final Local UNKNOWN_WORKLOAD = new Local(null, null);
    }

    public MeshMetrics(MeterRegistry registry, Local local, int maxSeries) {
        this.registry = requireNonNull(registry, "registry");
        this.local = requireNonNull(local, "local");
        if (maxSeries < 1) {
            throw new IllegalArgumentException("maxSeries must be at least 1: " + maxSeries);
        }
        this.maxSeries = maxSeries;
        inboundUnknown = inboundSeries(UNKNOWN, UNKNOWN, UNKNOWN);
        inboundOverflow = inboundSeries(OVERFLOW, OVERFLOW, OVERFLOW);
        outboundUnknown = outboundSeries(UNKNOWN, UNKNOWN, UNKNOWN);
        outboundOverflow = outboundSeries(OVERFLOW, OVERFLOW, OVERFLOW);
    }

    /** The series of a request received from {@code principal} (Istio's form, {@code td/ns/N/sa/S}), or null. */
    public Series inbound(String principal) {
        if (principal == null) {
            return inboundUnknown;
        }
        Series s = inbound.get(principal);
        return s != null ? s : make(inbound, principal, inboundOverflow, () -> {
            SpiffeId id;
            try {
                id = SpiffeId.parse("spiffe://" + principal);
            } catch (IllegalArgumentException e) { // not of a verified certificate: nothing to label by
                return inboundUnknown;
            }
            return inboundSeries(orUnknown(id.serviceAccount()), orUnknown(id.namespace()), principal);
        });
    }

    /**
     * The series of a request sent to {@code service} ({@code name.namespace}), whose endpoints must prove one of
     * {@code identities} (the destination workload when there is exactly one), or null when no route matched.
     */
    public Series outbound(String service, Set<SpiffeId> identities) {
        if (service == null) {
            return outboundUnknown;
        }
        Series s = outbound.get(service);
        return s != null ? s : make(outbound, service, outboundOverflow, () -> {
            SpiffeId id = identities != null && identities.size() == 1 ? identities.iterator().next() : null;
            return outboundSeries(service, id == null ? UNKNOWN : orUnknown(id.serviceAccount()),
                    id == null ? UNKNOWN : orUnknown(id.namespace()));
        });
    }

    /** How many source and destination pairs have their own series (the overflow and unknown ones not counted). */
    public int seriesCount() {
        return made.get();
    }

    private interface Maker {
        Series make();
    }

    private Series make(ConcurrentHashMap<String, Series> map, String key, Series overflow, Maker maker) {
        // a bounded number of keys: reserve a place first, so a flood of new peers cannot pass the cap at once
        if (made.incrementAndGet() > maxSeries) {
            made.decrementAndGet();
            return overflow;
        }
        Series[] created = new Series[1];
        Series s = map.computeIfAbsent(key, k -> created[0] = maker.make());
        if (created[0] == null) {
            made.decrementAndGet(); // another thread made it first
        }
        return s;
    }

    private Series inboundSeries(String workload, String namespace, String principal) {
        SpiffeId self = local.identity();
        return new Series(Tags.of("direction", Direction.INBOUND.tag(),
                "source_workload", workload, "source_workload_namespace", namespace, "source_principal", principal,
                "destination_service", local.service() == null || self == null ? UNKNOWN
                        : local.service() + "." + self.namespace(),
                "destination_workload", self == null ? UNKNOWN : orUnknown(self.serviceAccount()),
                "destination_workload_namespace", self == null ? UNKNOWN : orUnknown(self.namespace())));
    }

    private Series outboundSeries(String service, String workload, String namespace) {
        SpiffeId self = local.identity();
        return new Series(Tags.of("direction", Direction.OUTBOUND.tag(),
                "source_workload", self == null ? UNKNOWN : orUnknown(self.serviceAccount()),
                "source_workload_namespace", self == null ? UNKNOWN : orUnknown(self.namespace()),
                "source_principal", self == null ? UNKNOWN : self.principal(),
                "destination_service", service, "destination_workload", workload,
                "destination_workload_namespace", namespace));
    }

    /**
     * This sidecar's workload as the inbound series name it ({@code destination_workload},
     * {@code destination_workload_namespace}): for per-workload meters that are not by source.
     */
    public Tags destinationWorkload() {
        SpiffeId self = local.identity();
        return Tags.of("destination_workload", self == null ? UNKNOWN : orUnknown(self.serviceAccount()),
                "destination_workload_namespace", self == null ? UNKNOWN : orUnknown(self.namespace()));
    }

    private static String orUnknown(String value) {
        return value == null || value.isEmpty() ? UNKNOWN : value;
    }

    /** The meters of one source and destination pair. */
    public final class Series {
        private final Tags tags;
        private final Timer duration;
        private final Counter requestBytes;
        private final Counter responseBytes;
        /** The response codes seen so far with their counters; replaced (copy on write) when a new code comes. */
        private volatile Codes codes = new Codes(new int[0], new Counter[0]);

        private Series(Tags tags) {
            this.tags = tags;
            duration = Timer.builder("outrider.mesh.request.duration")
                    .description("Time from the first byte of the request to the last byte of the response, by"
                            + " source and destination")
                    .tags(tags).serviceLevelObjectives(BUCKETS).register(registry);
            requestBytes = Counter.builder("outrider.mesh.request.bytes").baseUnit(BaseUnits.BYTES)
                    .description("Request body bytes, by source and destination").tags(tags).register(registry);
            responseBytes = Counter.builder("outrider.mesh.response.bytes").baseUnit(BaseUnits.BYTES)
                    .description("Response body bytes, by source and destination").tags(tags).register(registry);
        }

        /** One finished request; a status outside 100..599 (no response was produced) counts as code {@code 0}. */
        public void record(int status, long durationNanos, long requestBodyBytes, long responseBodyBytes) {
            record(status, -1, durationNanos, requestBodyBytes, responseBodyBytes);
        }

        /**
         * As above, with the gRPC status of a gRPC response ({@code grpc-status}, 0..16), or -1 for none (the label
         * is then empty, as Istio leaves it for HTTP).
         */
        public void record(int status, int grpcStatus, long durationNanos, long requestBodyBytes,
                           long responseBodyBytes) {
            int code = status >= 100 && status <= 599 ? status : 0;
            int grpc = grpcStatus >= 0 && grpcStatus <= 16 ? grpcStatus : -1;
            int key = code * 32 + grpc + 1;
            Counter c = codes.find(key);
            if (c == null) {
                c = add(key, code, grpc);
            }
            c.increment();
            duration.record(durationNanos, TimeUnit.NANOSECONDS);
            if (requestBodyBytes > 0) {
                requestBytes.increment(requestBodyBytes);
            }
            if (responseBodyBytes > 0) {
                responseBytes.increment(responseBodyBytes);
            }
        }

        /** The first request with {@code code}: registers its counter (rare; registering twice returns the same). */
        private synchronized Counter add(int key, int code, int grpc) {
            Codes now = codes;
            Counter c = now.find(key);
            if (c != null) {
                return c;
            }
            c = Counter.builder("outrider.mesh.requests")
                    .description("Requests completed, by source, destination, response code and gRPC status")
                    .tags(tags).tag("response_code", Integer.toString(code))
                    .tag("grpc_response_status", grpc < 0 ? "" : Integer.toString(grpc)).register(registry);
            int n = now.keys.length;
            int[] keys = java.util.Arrays.copyOf(now.keys, n + 1);
            Counter[] counters = java.util.Arrays.copyOf(now.counters, n + 1);
            keys[n] = key;
            counters[n] = c;
            codes = new Codes(keys, counters);
            return c;
        }
    }

    /** Response codes (with the gRPC status: code * 32 + status + 1) and their counters, first seen first. */
    private record Codes(int[] keys, Counter[] counters) {
        Counter find(int code) {
            for (int i = 0; i < keys.length; i++) {
                if (keys[i] == code) {
                    return counters[i];
                }
            }
            return null;
        }
    }
}
