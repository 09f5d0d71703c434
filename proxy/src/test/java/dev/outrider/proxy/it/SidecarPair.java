package dev.outrider.proxy.it;

import dev.outrider.core.testing.FreePorts;

import dev.outrider.proxy.Sidecar;
import dev.outrider.proxy.config.BootstrapLoader;
import dev.outrider.proxy.tls.TestPki;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Two sidecars on 127.0.0.1 with ephemeral ports, built from YAML like a deployment would:
 * <pre>
 * client ──▶ A outbound (Host routing, or A's explicit upstream port) ──▶ B inbound ──▶ backend
 * </pre>
 * A (service {@code frontend}) knows the service {@code orders.shop} with B's inbound listener as its one
 * endpoint, plus whatever {@code extraServices} lists; B (service {@code orders}) forwards to the backend.
 * {@code common} is top-level YAML (e.g. {@code http:} or {@code upstream:} sections) given to both;
 * {@code ${B_INBOUND}} in {@code extraServices} stands for B's inbound address.
 *
 * <p>A → B is mTLS, as in a deployment: a fresh mesh root and one certificate per sidecar
 * ({@code spiffe://cluster.local/ns/shop/sa/orders} and {@code .../sa/frontend}) are made for each pair, with
 * the TLS provider of the system property {@code outrider.test.tlsProvider} (default auto).
 */
final class SidecarPair implements AutoCloseable {
    final Sidecar a;
    final Sidecar b;
    /** The pair's mesh root: tests issue their own callers' certificates from it. */
    final TestPki.Ca ca;
    /** A's explicit outbound port for {@code orders}. */
    final int upstreamPort;

    private SidecarPair(Sidecar a, Sidecar b, TestPki.Ca ca, int upstreamPort) {
        this.a = a;
        this.b = b;
        this.ca = ca;
        this.upstreamPort = upstreamPort;
    }

    /** Without {@code policies:} in {@code common}, B lets every caller in (these tests are about transport). */
    static final String ALLOW_BY_DEFAULT = "policies: {defaultAction: allow}";

    static SidecarPair start(int backendPort, String applicationProtocol) throws Exception {
        return start(backendPort, applicationProtocol, "", "");
    }

    static SidecarPair start(int backendPort, String applicationProtocol, String common, String extraServices)
            throws Exception {
        Path dir = Files.createTempDirectory("outrider-pair");
        TestPki.Ca ca = TestPki.root("pair root");
        ca.writeBundle(dir.resolve("bundle.pem"));
        String tlsB = tls(ca, dir, "orders");
        String tlsA = tls(ca, dir, "frontend");
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
                %s
                %s
                """.formatted(backendPort, applicationProtocol, tlsB, common,
                common.contains("policies:") ? "" : ALLOW_BY_DEFAULT), "sidecar-b"));
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
                    %s
                    """.formatted(upstreamPort, b.inboundAddress().getPort(),
                    extraServices.replace("${B_INBOUND}", "127.0.0.1:" + b.inboundAddress().getPort()).indent(2), tlsA,
                    common), "sidecar-a"));
            return new SidecarPair(a, b, ca, upstreamPort);
        } catch (Exception | Error e) {
            b.close();
            throw e;
        }
    }

    /** The tls: section for service account {@code sa} in namespace shop, its files written to {@code dir}. */
    static String tls(TestPki.Ca ca, Path dir, String sa) {
        Path cert = dir.resolve(sa + "-cert.pem");
        Path key = dir.resolve(sa + "-key.pem");
        ca.leaf().spiffe(TestPki.spiffe("cluster.local", "shop", sa)).issue().writeTo(cert, key);
        return "tls: {certificate: '%s', privateKey: '%s', trustBundle: '%s', provider: %s}".formatted(cert, key,
                dir.resolve("bundle.pem"), System.getProperty("outrider.test.tlsProvider", "auto"));
    }

    /** A's outbound listener (Host routing). */
    InetSocketAddress outbound() {
        return a.outboundAddress();
    }

    /** A port with nothing listening on it right now (bind, read the port, close). */
    /** A free loopback port below the kernel's ephemeral range ({@link FreePorts#belowEphemeralRange}). */
    static int freePort() {
        try {
            return FreePorts.belowEphemeralRange();
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
