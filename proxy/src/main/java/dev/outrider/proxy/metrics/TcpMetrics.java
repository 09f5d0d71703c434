package dev.outrider.proxy.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.BaseUnits;

import java.util.Collection;
import java.util.Map;
import java.util.TreeMap;

import static java.util.Objects.requireNonNull;

/**
 * The TCP ports' meters, registered at start-up for every port the bootstrap file declares (so the labels are
 * bounded by the configuration; a port nobody declared counts under {@code port="other"}):
 * <pre>
 * outrider_tcp_connections_opened_total{direction, port}
 * outrider_tcp_connections_closed_total{direction, port}
 * outrider_tcp_connections_refused_total{direction, port, reason}     reason: {@link TcpRefusal}
 * outrider_tcp_received_bytes_total{direction, port}   bytes from the connecting side (app or caller sidecar)
 * outrider_tcp_sent_bytes_total{direction, port}       bytes to the connecting side
 * </pre>
 * {@code port} is the application port the connection is for: on inbound the local application's, on outbound
 * the service's {@code targetPort}. Threading: immutable after construction; any event loop counts.
 */
public final class TcpMetrics {
    private static final TcpRefusal[] REFUSALS = TcpRefusal.values();

    /** The meters of one direction and port. */
    public static final class Port {
        private final Counter opened;
        private final Counter closed;
        private final Counter[] refused;
        private final Counter received;
        private final Counter sent;

        private Port(MeterRegistry registry, Direction direction, String port) {
            opened = Counter.builder("outrider.tcp.connections.opened")
                    .description("TCP connections relayed through the sidecar pair (tunnel established)")
                    .tag("direction", direction.tag()).tag("port", port).register(registry);
            closed = Counter.builder("outrider.tcp.connections.closed")
                    .description("Relayed TCP connections that ended")
                    .tag("direction", direction.tag()).tag("port", port).register(registry);
            refused = new Counter[REFUSALS.length];
            for (TcpRefusal r : REFUSALS) {
                refused[r.ordinal()] = Counter.builder("outrider.tcp.connections.refused")
                        .description("TCP connections refused before any byte was relayed, by reason")
                        .tag("direction", direction.tag()).tag("port", port).tag("reason", r.tag())
                        .register(registry);
            }
            received = Counter.builder("outrider.tcp.received.bytes")
                    .description("Bytes received from the side that opened the TCP connection")
                    .baseUnit(BaseUnits.BYTES).tag("direction", direction.tag()).tag("port", port)
                    .register(registry);
            sent = Counter.builder("outrider.tcp.sent.bytes")
                    .description("Bytes sent to the side that opened the TCP connection")
                    .baseUnit(BaseUnits.BYTES).tag("direction", direction.tag()).tag("port", port)
                    .register(registry);
        }

        public void opened() {
            opened.increment();
        }

        /** A relayed connection ended after {@code received} bytes from its opener and {@code sent} to it. */
        public void closed(long received, long sent) {
            closed.increment();
            if (received > 0) {
                this.received.increment(received);
            }
            if (sent > 0) {
                this.sent.increment(sent);
            }
        }

        public void refused(TcpRefusal reason) {
            refused[reason.ordinal()].increment();
        }
    }

    private final Map<Integer, Port> inbound;
    private final Map<Integer, Port> outbound;
    private final Port otherInbound;
    private final Port otherOutbound;

    /**
     * @param inboundPorts  the application's TCP ports ({@code inbound.tcp.ports})
     * @param outboundPorts the {@code targetPort}s of the TCP upstream ports
     */
    public TcpMetrics(MeterRegistry registry, Collection<Integer> inboundPorts, Collection<Integer> outboundPorts) {
        requireNonNull(registry, "registry");
        inbound = ports(registry, Direction.INBOUND, inboundPorts);
        outbound = ports(registry, Direction.OUTBOUND, outboundPorts);
        otherInbound = new Port(registry, Direction.INBOUND, "other");
        otherOutbound = new Port(registry, Direction.OUTBOUND, "other");
    }

    private static Map<Integer, Port> ports(MeterRegistry registry, Direction d, Collection<Integer> ports) {
        Map<Integer, Port> m = new TreeMap<>();
        for (int p : ports) {
            m.computeIfAbsent(p, k -> new Port(registry, d, Integer.toString(k)));
        }
        return Map.copyOf(m);
    }

    /** The meters of {@code port} in {@code direction}; {@code port="other"} for a port not declared. */
    public Port port(Direction direction, int port) {
        Port p = (direction == Direction.INBOUND ? inbound : outbound).get(port);
        return p != null ? p : direction == Direction.INBOUND ? otherInbound : otherOutbound;
    }
}
