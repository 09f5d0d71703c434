package dev.outrider.proxy.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.BaseUnits;
import io.netty.handler.codec.http2.Http2Error;

import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

import static java.util.Objects.requireNonNull;

/**
 * The data plane's request and connection meters. Every meter is registered here, once, for every
 * {@link Direction} and status class, so a scrape shows each series (at zero) before the first request and
 * the hot path only indexes arrays: no meter lookup, no tag allocation, no high-cardinality tags.
 *
 * <p>Threading: every method may be called from any event loop at once. The arrays are final and filled in
 * the constructor (safe publication through the final fields); the meters themselves are thread-safe.
 *
 * <p>Prometheus names (Micrometer appends {@code _total} to counters and {@code _seconds} to timers):
 * <pre>
 * outrider_requests_total{direction, status_class}        status_class = 1xx..5xx
 * outrider_request_duration_seconds{direction}            histogram, 100µs..30s
 * outrider_request_bytes_total{direction}
 * outrider_response_bytes_total{direction}
 * outrider_active_connections{direction}                  gauge
 * outrider_upstream_connect_failures_total{direction}
 * outrider_upstream_retries_total{direction}
 * outrider_connections_refused_total{direction, reason}    reason = listener_limit | peer_limit | mtls_required
 *                                                          | plaintext_required
 * outrider_inbound_plaintext_connections_total{destination_workload, destination_workload_namespace}
 * outrider_inbound_plaintext_requests_total{destination_workload, destination_workload_namespace}
 * outrider_http2_connection_errors_total{direction, error_code}   error_code = RFC 9113 §7 name, lower case
 * outrider_tunnels_total{direction, protocol}              upgraded connections (protocol = websocket, ...)
 * outrider_active_tunnels{direction, protocol}             gauge
 * outrider_tunnel_bytes_total{direction, protocol, from}   from = caller | upstream, counted when a tunnel ends
 * </pre>
 * A tunnel's protocol is one of the listener's {@code http.upgrades} (a short, configured list), so its meters are
 * made at a protocol's first tunnel.
 * and, by source and destination, the {@code outrider_mesh_*} meters of {@link MeshMetrics}.
 */
public final class ProxyMetrics {
    private static final Direction[] DIRECTIONS = Direction.values();
    private static final ConnectionRefusal[] REFUSALS = ConnectionRefusal.values();
    private static final String[] STATUS_CLASSES = {"1xx", "2xx", "3xx", "4xx", "5xx"};
    private static final Http2Error[] HTTP2_ERRORS = Http2Error.values();
    /** Bucket boundaries worth reading directly (in addition to Micrometer's percentile histogram). */
    private static final Duration[] SLOS = {
            Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(50),
            Duration.ofMillis(100), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(5)};

    private final MeterRegistry registry;
    private final MeshMetrics mesh;
    /** [direction ordinal][status / 100 - 1]. */
    private final Counter[][] requests;
    private final Timer[] durations;
    private final Counter[] requestBytes;
    private final Counter[] responseBytes;
    private final LongAdder[] activeConnections;
    private final Counter[] connectFailures;
    private final Counter[] retries;
    /** [direction ordinal][refusal ordinal]. */
    private final Counter[][] refusedConnections;
    /** [direction ordinal][Http2Error ordinal]. */
    private final Counter[][] http2ConnectionErrors;
    /** Inbound connections accepted without TLS on a PERMISSIVE port (or a plaintext listener), and their requests. */
    private final Counter plaintextConnections;
    private final Counter plaintextRequests;

    /** Tunnel meters by direction and protocol, made at the first tunnel of each (a configured, short list). */
    private final Map<String, TunnelMeters> tunnels = new ConcurrentHashMap<>();

    /** With request metrics by source and destination that know nothing of this sidecar's workload (tests). */
    public ProxyMetrics(MeterRegistry registry) {
        this(registry, new MeshMetrics(registry, MeshMetrics.Local.UNKNOWN_WORKLOAD, MeshMetrics.DEFAULT_MAX_SERIES));
    }

    public ProxyMetrics(MeterRegistry registry, MeshMetrics mesh) {
        this.registry = requireNonNull(registry, "registry");
        this.mesh = requireNonNull(mesh, "mesh");
        int n = DIRECTIONS.length;
        requests = new Counter[n][STATUS_CLASSES.length];
        durations = new Timer[n];
        requestBytes = new Counter[n];
        responseBytes = new Counter[n];
        activeConnections = new LongAdder[n];
        connectFailures = new Counter[n];
        retries = new Counter[n];
        refusedConnections = new Counter[n][REFUSALS.length];
        http2ConnectionErrors = new Counter[n][HTTP2_ERRORS.length];
        plaintextConnections = Counter.builder("outrider.inbound.plaintext.connections")
                .description("Inbound connections accepted in plaintext (no peer identity): unmeshed callers of a"
                        + " PERMISSIVE port; when it stops growing, STRICT is safe")
                .tags(mesh.destinationWorkload()).register(registry);
        plaintextRequests = Counter.builder("outrider.inbound.plaintext.requests")
                .description("Requests received on inbound plaintext connections")
                .tags(mesh.destinationWorkload()).register(registry);
        for (Direction d : DIRECTIONS) {
            int i = d.ordinal();
            for (int c = 0; c < STATUS_CLASSES.length; c++) {
                requests[i][c] = Counter.builder("outrider.requests")
                        .description("Requests completed, by response status class")
                        .tag("direction", d.tag()).tag("status_class", STATUS_CLASSES[c])
                        .register(registry);
            }
            durations[i] = Timer.builder("outrider.request.duration")
                    .description("Time from the first byte of the request to the last byte of the response")
                    .tag("direction", d.tag())
                    .publishPercentileHistogram()
                    .serviceLevelObjectives(SLOS)
                    .minimumExpectedValue(Duration.ofNanos(100_000))
                    .maximumExpectedValue(Duration.ofSeconds(30))
                    .register(registry);
            requestBytes[i] = Counter.builder("outrider.request.bytes")
                    .description("Request body bytes received from the client")
                    .baseUnit(BaseUnits.BYTES).tag("direction", d.tag()).register(registry);
            responseBytes[i] = Counter.builder("outrider.response.bytes")
                    .description("Response body bytes sent to the client")
                    .baseUnit(BaseUnits.BYTES).tag("direction", d.tag()).register(registry);
            LongAdder active = new LongAdder();
            activeConnections[i] = active;
            Gauge.builder("outrider.active.connections", active, LongAdder::sum)
                    .description("Client connections currently open")
                    .tag("direction", d.tag()).strongReference(true).register(registry);
            connectFailures[i] = Counter.builder("outrider.upstream.connect.failures")
                    .description("Upstream connection attempts that failed")
                    .tag("direction", d.tag()).register(registry);
            retries[i] = Counter.builder("outrider.upstream.retries")
                    .description("Requests retried on another upstream attempt")
                    .tag("direction", d.tag()).register(registry);
            for (ConnectionRefusal r : REFUSALS) {
                refusedConnections[i][r.ordinal()] = Counter.builder("outrider.connections.refused")
                        .description("Client connections closed on arrival: over the listener's or the caller"
                                + " identity's connection limit, or not what the port's mTLS mode accepts")
                        .tag("direction", d.tag()).tag("reason", r.tag()).register(registry);
            }
            for (Http2Error e : HTTP2_ERRORS) {
                http2ConnectionErrors[i][e.ordinal()] = Counter.builder("outrider.http2.connection.errors")
                        .description("Downstream HTTP/2 connections ended by a connection error (GOAWAY), by the "
                                + "RFC 9113 error code")
                        .tag("direction", d.tag()).tag("error_code", e.name().toLowerCase(Locale.ROOT))
                        .register(registry);
            }
        }
    }

    /**
     * Counts one finished request. A status outside 100..599 (no valid response was produced) counts as
     * {@code 5xx}.
     */
    public void requestCompleted(Direction d, int status, long durationNanos, long requestBytes,
                                 long responseBytes) {
        requestCompleted(d, d == Direction.INBOUND ? mesh.inbound(null) : mesh.outbound(null, null), status,
                durationNanos, requestBytes, responseBytes);
    }

    /** As above, also counted in {@code series} (its source and destination, {@link MeshMetrics}). */
    public void requestCompleted(Direction d, MeshMetrics.Series series, int status, long durationNanos,
                                 long requestBytes, long responseBytes) {
        requestCompleted(d, series, status, -1, durationNanos, requestBytes, responseBytes);
    }

    /** As above, for a response with gRPC status {@code grpcStatus} (-1: none). */
    public void requestCompleted(Direction d, MeshMetrics.Series series, int status, int grpcStatus,
                                 long durationNanos, long requestBytes, long responseBytes) {
        series.record(status, grpcStatus, durationNanos, requestBytes, responseBytes);
        int i = d.ordinal();
        requests[i][statusClassIndex(status)].increment();
        durations[i].record(durationNanos, TimeUnit.NANOSECONDS);
        if (requestBytes > 0) {
            this.requestBytes[i].increment(requestBytes);
        }
        if (responseBytes > 0) {
            this.responseBytes[i].increment(responseBytes);
        }
    }

    public void connectionOpened(Direction d) {
        activeConnections[d.ordinal()].increment();
    }

    public void connectionClosed(Direction d) {
        activeConnections[d.ordinal()].decrement();
    }

    public void connectionRefused(Direction d, ConnectionRefusal reason) {
        refusedConnections[d.ordinal()][reason.ordinal()].increment();
    }

    /** An inbound connection accepted in plaintext: no TLS, no peer identity. */
    public void plaintextConnection() {
        plaintextConnections.increment();
    }

    /** A request on an inbound plaintext connection. */
    public void plaintextRequest() {
        plaintextRequests.increment();
    }

    /** Inbound plaintext connections accepted since start, as reported to the control plane. */
    public long plaintextConnections() {
        return (long) plaintextConnections.count();
    }

    /** A connection became a tunnel (an HTTP/1.1 upgrade to {@code protocol}). */
    public void tunnelOpened(Direction d, String protocol) {
        TunnelMeters t = tunnel(d, protocol);
        t.opened.increment();
        t.active.increment();
    }

    /** A tunnel ended, having carried {@code fromCaller} and {@code fromUpstream} bytes. */
    public void tunnelClosed(Direction d, String protocol, long fromCaller, long fromUpstream) {
        TunnelMeters t = tunnel(d, protocol);
        t.active.decrement();
        t.fromCaller.increment(fromCaller);
        t.fromUpstream.increment(fromUpstream);
    }

    private TunnelMeters tunnel(Direction d, String protocol) {
        return tunnels.computeIfAbsent(d.tag() + '/' + protocol, k -> new TunnelMeters(registry, d, protocol));
    }

    private record TunnelMeters(Counter opened, LongAdder active, Counter fromCaller, Counter fromUpstream) {
        TunnelMeters(MeterRegistry registry, Direction d, String protocol) {
            this(Counter.builder("outrider.tunnels")
                            .description("Connections that became tunnels (HTTP/1.1 upgrades), by protocol")
                            .tag("direction", d.tag()).tag("protocol", protocol).register(registry),
                    new LongAdder(), bytes(registry, d, protocol, "caller"), bytes(registry, d, protocol, "upstream"));
            Gauge.builder("outrider.active.tunnels", active, LongAdder::sum)
                    .description("Tunnels open now")
                    .tag("direction", d.tag()).tag("protocol", protocol).strongReference(true).register(registry);
        }

        private static Counter bytes(MeterRegistry registry, Direction d, String protocol, String from) {
            return Counter.builder("outrider.tunnel.bytes")
                    .description("Bytes carried by tunnels that ended, by the side that sent them")
                    .baseUnit(BaseUnits.BYTES).tag("direction", d.tag()).tag("protocol", protocol).tag("from", from)
                    .register(registry);
        }
    }

    public void upstreamConnectFailure(Direction d) {
        connectFailures[d.ordinal()].increment();
    }

    public void upstreamRetry(Direction d) {
        retries[d.ordinal()].increment();
    }

    /** Counts a downstream HTTP/2 connection ended by a connection error with {@code error}. */
    public void http2ConnectionError(Direction d, Http2Error error) {
        http2ConnectionErrors[d.ordinal()][error.ordinal()].increment();
    }

    public MeterRegistry registry() {
        return registry;
    }

    /** Request metrics by source and destination. */
    public MeshMetrics mesh() {
        return mesh;
    }

    static int statusClassIndex(int status) {
        int c = status / 100;
        return c >= 1 && c <= 5 ? c - 1 : 4;
    }
}
