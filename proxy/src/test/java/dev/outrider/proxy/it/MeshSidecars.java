package dev.outrider.proxy.it;

import dev.outrider.proxy.Sidecar;
import dev.outrider.proxy.config.BootstrapLoader;

/**
 * Single sidecars on 127.0.0.1 with ephemeral ports, for tests that need one side of the pair on its own or
 * with its own material: namespace {@code shop}, trust domain {@code cluster.local}, access log off.
 */
final class MeshSidecars {
    private MeshSidecars() {
    }

    /** A sidecar for service account {@code sa} whose inbound listener forwards to the backend. */
    static Sidecar inbound(String sa, int backendPort, String tlsYaml, String extraYaml) throws Exception {
        return Sidecar.start(BootstrapLoader.parse("""
                node: {service: %s, namespace: shop}
                inbound:
                  listen: 127.0.0.1:0
                  application: 127.0.0.1:%d
                  applicationProtocol: http1
                outbound: {listen: 127.0.0.1:0}
                health: {listen: 127.0.0.1:0}
                admin: {listen: 127.0.0.1:0}
                runtime: {eventLoops: 2, drainTimeout: 1s}
                %s
                %s
                %s
                """.formatted(sa, backendPort, tlsYaml, extraYaml.contains("accessLog:") ? "" : "accessLog: {enabled: false}",
                extraYaml.contains("policies:") ? "" : SidecarPair.ALLOW_BY_DEFAULT)
                + extraYaml, "sidecar-" + sa));
    }

    /**
     * A caller's sidecar (service account {@code sa}); {@code servicesYaml} is the {@code services:} list
     * (indented list items).
     */
    static Sidecar outbound(String sa, String servicesYaml, String tlsYaml) throws Exception {
        return outbound(sa, servicesYaml, tlsYaml, "");
    }

    /** As above, with more top-level sections ({@code extraYaml}, e.g. {@code tracing: {...}}). */
    static Sidecar outbound(String sa, String servicesYaml, String tlsYaml, String extraYaml) throws Exception {
        return Sidecar.start(BootstrapLoader.parse("""
                node: {service: %s, namespace: shop}
                inbound: {listen: 127.0.0.1:0, application: 127.0.0.1:1}
                outbound: {listen: 127.0.0.1:0}
                services:
                %s
                health: {listen: 127.0.0.1:0}
                admin: {listen: 127.0.0.1:0}
                accessLog: {enabled: false}
                runtime: {eventLoops: 2, drainTimeout: 1s}
                %s
                %s
                """.formatted(sa, servicesYaml.indent(2).stripTrailing(), tlsYaml, extraYaml), "sidecar-" + sa));
    }
}
