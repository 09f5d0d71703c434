package dev.outrider.proxy.it;

import dev.outrider.proxy.Sidecar;
import dev.outrider.proxy.config.BootstrapLoader;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/**
 * Two sidecars on 127.0.0.1 with ephemeral ports, built from YAML like a deployment would:
 * <pre>
 * client ──▶ A outbound (Host routing, or A's explicit upstream port) ──▶ B inbound ──▶ backend
 * </pre>
 * A (service {@code frontend}) knows the service {@code orders.shop} with B's inbound listener as its one
 * endpoint, plus whatever {@code extraServices} lists; B (service {@code orders}) forwards to the backend.
 * {@code common} is top-level YAML (e.g. {@code http:} or {@code upstream:} sections) given to both.
 */
final class SidecarPair implements AutoCloseable {
    final Sidecar a;
    final Sidecar b;
    /** A's explicit outbound port for {@code orders}. */
    final int upstreamPort;

    private SidecarPair(Sidecar a, Sidecar b, int upstreamPort) {
        this.a = a;
        this.b = b;
        this.upstreamPort = upstreamPort;
    }

    static SidecarPair start(int backendPort, String applicationProtocol) throws Exception {
        return start(backendPort, applicationProtocol, "", "");
    }

    static SidecarPair start(int backendPort, String applicationProtocol, String common, String extraServices)
            throws Exception {
        Sidecar b = Sidecar.start(BootstrapLoader.parse("""
                node: {service: orders, namespace: shop}
                inbound:
                  listen: 127.0.0.1:0
                  application: 127.0.0.1:%d
                  applicationProtocol: %s
                outbound: {listen: 127.0.0.1:0}
                health: {listen: 127.0.0.1:0}
                admin: {listen: 127.0.0.1:0}
                accessLog: {enabled: false}
                runtime: {eventLoops: 2, drainTimeout: 2s}
                %s
                """.formatted(backendPort, applicationProtocol, common), "sidecar-b"));
        try {
            int upstreamPort = freePort();
            Sidecar a = Sidecar.start(BootstrapLoader.parse("""
                    node: {service: frontend, namespace: shop}
                    inbound: {listen: 127.0.0.1:0, application: 127.0.0.1:1}
                    outbound:
                      listen: 127.0.0.1:0
                      upstreams:
                        - {service: orders, port: %d}
                    services:
                      - name: orders
                        namespace: shop
                        protocol: auto
                        endpoints: ["127.0.0.1:%d"]
                    %s
                    health: {listen: 127.0.0.1:0}
                    admin: {listen: 127.0.0.1:0}
                    accessLog: {enabled: false}
                    runtime: {eventLoops: 2, drainTimeout: 2s}
                    %s
                    """.formatted(upstreamPort, b.inboundAddress().getPort(), extraServices.indent(2), common),
                    "sidecar-a"));
            return new SidecarPair(a, b, upstreamPort);
        } catch (Exception | Error e) {
            b.close();
            throw e;
        }
    }

    /** A's outbound listener (Host routing). */
    InetSocketAddress outbound() {
        return a.outboundAddress();
    }

    /** A port with nothing listening on it right now (bind, read the port, close). */
    static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        try {
            a.close();
        } finally {
            b.close();
        }
    }
}
