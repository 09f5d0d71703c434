package dev.outrider.core.policy;

import dev.outrider.core.client.TestPki;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** ServiceEntry documents and AuthorizationPolicy targetRefs: what is read, and every refusal with its path. */
class ServiceEntryDocumentsTest {
    private static final String CA_PEM = TestPki.Ca.create("external-ca").pem();
    private static final String SE = "ServiceEntry shop/api";

    record Case(String yaml, String document, String path, String problem) {
        @Override
        public String toString() {
            return path + ": " + problem;
        }
    }

    private static Case entry(String spec, String path, String problem) {
        return new Case("""
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: api, namespace: shop}
                spec: %s
                """.formatted(spec), SE, path, problem);
    }

    private static final String PORTS = "ports: [{number: 80, name: http, protocol: HTTP}]";

    private static Case valid(String more, String path, String problem) {
        return entry("{hosts: [api.example.com], resolution: DNS, " + PORTS + more + "}", path, problem);
    }

    private static Case ap(String spec, String path, String problem) {
        return new Case("""
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: p, namespace: shop}
                spec: %s
                """.formatted(spec), "AuthorizationPolicy shop/p", path, problem);
    }

    static List<Case> refusals() {
        return List.of(
                entry("{resolution: DNS, " + PORTS + "}", "spec.hosts", "is required"),
                entry("{hosts: [], resolution: DNS, " + PORTS + "}", "spec.hosts", "must not be empty"),
                entry("{hosts: ['*.example.com'], resolution: DNS, " + PORTS + "}", "spec.hosts[0]",
                        "wildcard hosts are not supported"),
                entry("{hosts: [Api.Example.com], resolution: DNS, " + PORTS + "}", "spec.hosts[0]",
                        "is not a DNS name"),
                entry("{hosts: ['api.example.com:443'], resolution: DNS, " + PORTS + "}", "spec.hosts[0]",
                        "is not a DNS name"),
                entry("{hosts: [10.0.0.1], resolution: DNS, " + PORTS + "}", "spec.hosts[0]", "is an IP address"),
                entry("{hosts: [orders.shop.svc.cluster.local], resolution: DNS, " + PORTS + "}", "spec.hosts[0]",
                        "is a mesh service name"),
                entry("{hosts: [a.example.com, a.example.com], resolution: DNS, " + PORTS + "}", "spec.hosts[1]",
                        "is already listed at spec.hosts[0]"),
                entry("{hosts: [api.example.com], " + PORTS + "}", "spec.resolution", "is required"),
                entry("{hosts: [api.example.com], resolution: NONE, " + PORTS + "}", "spec.resolution",
                        "NONE is not supported; use DNS or STATIC"),
                entry("{hosts: [api.example.com], resolution: dns, " + PORTS + "}", "spec.resolution",
                        "'dns' is not a resolution"),
                entry("{hosts: [api.example.com], resolution: DNS}", "spec.ports", "is required"),
                entry("{hosts: [api.example.com], resolution: DNS, ports: [{name: http, protocol: HTTP}]}",
                        "spec.ports[0].number", "is required"),
                entry("{hosts: [api.example.com], resolution: DNS, ports: [{number: 0, name: http, protocol: HTTP}]}",
                        "spec.ports[0].number", "1"),
                entry("{hosts: [api.example.com], resolution: DNS, ports: [{number: 80, name: http}]}",
                        "spec.ports[0].protocol", "is required"),
                entry("{hosts: [api.example.com], resolution: DNS, ports: [{number: 80, name: t, protocol: TCP}]}",
                        "spec.ports[0].protocol", "protocol TCP is not supported for external services yet"),
                entry("{hosts: [api.example.com], resolution: DNS, ports: [{number: 80, name: t, protocol: TLS}]}",
                        "spec.ports[0].protocol", "protocol TLS is not supported"),
                entry("{hosts: [api.example.com], resolution: DNS, ports: [{number: 80, name: t, protocol: FTP}]}",
                        "spec.ports[0].protocol", "'FTP' is not a protocol; use HTTP or HTTPS"),
                entry("{hosts: [api.example.com], resolution: DNS, ports: [{number: 80, protocol: HTTP}]}",
                        "spec.ports[0].name", "is required"),
                entry("{hosts: [api.example.com], resolution: DNS, ports: [{number: 80, name: a, protocol: HTTP},"
                        + " {number: 80, name: b, protocol: HTTP}]}", "spec.ports[1].number", "80 is already declared"),
                entry("{hosts: [api.example.com], resolution: DNS, ports: [{number: 80, name: a, protocol: HTTP},"
                        + " {number: 81, name: a, protocol: HTTP}]}", "spec.ports[1].name", "'a' is already declared"),
                entry("{hosts: [api.example.com], resolution: DNS, ports: [{number: 80, name: a, protocol: HTTP,"
                        + " targetPort: 70000}]}", "spec.ports[0].targetPort", "65535"),
                entry("{hosts: [api.example.com], resolution: DNS, ports: [{number: 80, name: a, protocol: HTTP,"
                        + " nodePort: 1}]}", "spec.ports[0].nodePort", ""),
                valid(", location: MESH_INTERNAL", "spec.location", "MESH_INTERNAL is not supported"),
                valid(", location: outside", "spec.location", "'outside' is not a location"),
                valid(", addresses: [10.0.0.0/8]", "spec.addresses", "Istio's 'addresses' is not supported"),
                valid(", workloadSelector: {labels: {app: x}}", "spec.workloadSelector", "is not supported"),
                valid(", subjectAltNames: [x]", "spec.subjectAltNames", "is not supported"),
                valid(", endpoints: [{address: 10.0.0.1}]", "spec.endpoints", "are for resolution STATIC"),
                entry("{hosts: [api.example.com], resolution: STATIC, " + PORTS + "}", "spec.endpoints",
                        "is required with resolution STATIC"),
                entry("{hosts: [api.example.com], resolution: STATIC, " + PORTS + ", endpoints: [{address: db.example}]}",
                        "spec.endpoints[0].address", "is not an IPv4 or IPv6 address"),
                entry("{hosts: [api.example.com], resolution: STATIC, " + PORTS + ", endpoints: [{address: 10.0.0.1,"
                        + " ports: {https: 443}}]}", "spec.endpoints[0].ports[https]", "is not the name of a port"),
                entry("{hosts: [api.example.com], resolution: STATIC, " + PORTS + ", endpoints: [{address: 10.0.0.1,"
                        + " ports: {http: '80'}}]}", "spec.endpoints[0].ports[http]", "must be a port number"),
                entry("{hosts: [api.example.com], resolution: STATIC, " + PORTS + ", endpoints: [{address: 10.0.0.1,"
                        + " weight: 2}]}", "spec.endpoints[0].weight", "is not supported"),
                valid(", exportTo: ['*', shop]", "spec.exportTo[0]", "cannot be combined"),
                valid(", exportTo: [Shop]", "spec.exportTo[0]", "is not '*'"),
                valid(", exportTo: []", "spec.exportTo", "must not be empty"),
                valid(", tls: {}", "spec.tls.mode", "is required"),
                valid(", tls: {mode: MUTUAL}", "spec.tls.mode", "MUTUAL is not supported"),
                valid(", tls: {mode: ISTIO_MUTUAL}", "spec.tls.mode", "ISTIO_MUTUAL is not supported"),
                valid(", tls: {mode: simple}", "spec.tls.mode", "'simple' is not a TLS mode"),
                valid(", tls: {mode: SIMPLE, insecureSkipVerify: true}", "spec.tls.insecureSkipVerify",
                        "true is refused"),
                valid(", tls: {mode: SIMPLE, caCertificates: 'not pem'}", "spec.tls.caCertificates",
                        "is not PEM certificates"),
                valid(", tls: {mode: SIMPLE, sni: 'Bad_Name'}", "spec.tls.sni", "is not a DNS name"),
                valid(", tls: {mode: SIMPLE, credentialName: x}", "spec.tls.credentialName", "no client certificate"),
                valid(", tls: {mode: SIMPLE, subjectAltNames: [x]}", "spec.tls.subjectAltNames", "is not supported"),
                valid(", tls: {mode: DISABLE, sni: api.example.com}", "spec.tls.sni", "has no effect with mode DISABLE"),
                valid(", tls: {mode: SIMPLE, verify: true}", "spec.tls.verify", ""),
                entry("{hosts: [api.example.com], resolution: DNS, ports: [{number: 443, name: https, protocol: HTTPS}],"
                        + " tls: {mode: DISABLE}}", "spec.tls.mode", "DISABLE contradicts spec.ports[0]"),
                new Case("""
                        apiVersion: security.istio.io/v1
                        kind: ServiceEntry
                        metadata: {name: api, namespace: shop}
                        spec: {}
                        """, SE, "apiVersion", "is not a supported apiVersion for ServiceEntry"),
                ap("{targetRefs: [{kind: ServiceEntry, group: networking.istio.io, name: api}], selector: {matchLabels:"
                        + " {app: x}}}", "spec.targetRefs", "cannot be combined with selector"),
                ap("{targetRefs: []}", "spec.targetRefs", "must not be empty"),
                ap("{targetRefs: [{kind: Service, group: '', name: api}]}", "spec.targetRefs[0].kind",
                        "'Service' is not supported as a target; only ServiceEntry"),
                ap("{targetRefs: [{kind: ServiceEntry, group: security.istio.io, name: api}]}",
                        "spec.targetRefs[0].group", "use networking.istio.io"),
                ap("{targetRefs: [{kind: ServiceEntry, name: api}]}", "spec.targetRefs[0].group", "is required"),
                ap("{targetRefs: [{kind: ServiceEntry, group: networking.istio.io}]}", "spec.targetRefs[0].name",
                        "is required"),
                ap("{targetRefs: [{kind: ServiceEntry, group: networking.istio.io, name: api, namespace: x}]}",
                        "spec.targetRefs[0].namespace", ""),
                ap("{targetRefs: [{kind: ServiceEntry, group: networking.istio.io, name: api},"
                        + " {kind: ServiceEntry, group: networking.istio.io, name: api}]}", "spec.targetRefs[1].name",
                        "'api' is already targeted"));
    }

    @ParameterizedTest
    @MethodSource("refusals")
    void refused(Case c) {
        PolicyException e = catchThrowableOfType(PolicyException.class, () -> PolicyDocuments.parse(c.yaml(), "test.yaml"));
        assertThat(e).as("refused: %s", c).isNotNull();
        assertThat(e.document()).isEqualTo(c.document());
        assertThat(e.path()).isEqualTo(c.path());
        assertThat(e.getMessage()).contains(c.problem());
    }

    @Test
    void readsAnEntryWithTlsOrigination() {
        String yaml = """
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: api, namespace: shop}
                spec:
                  hosts: [api.example.com, api2.example.com]
                  location: MESH_EXTERNAL
                  ports:
                  - {number: 80, name: http, protocol: HTTP, targetPort: 443}
                  - {number: 8443, name: https, protocol: HTTPS}
                  - {number: 8080, name: plain, protocol: HTTP}
                  resolution: STATIC
                  endpoints: [{address: 127.0.0.1, ports: {https: 9443}}]
                  exportTo: [".", payments]
                  tls:
                    mode: SIMPLE
                    sni: api.example.com
                    insecureSkipVerify: false
                    caCertificates: |
                """ + CA_PEM.indent(6);
        ServiceEntry e = (ServiceEntry) PolicyDocuments.parse(yaml, "test.yaml").getFirst();
        assertThat(e.hosts()).containsExactly("api.example.com", "api2.example.com");
        assertThat(e.ports()).containsExactly(new ServiceEntry.Port(80, ServiceEntry.Protocol.HTTP, "http", 443),
                new ServiceEntry.Port(8443, ServiceEntry.Protocol.HTTPS, "https", 8443),
                new ServiceEntry.Port(8080, ServiceEntry.Protocol.HTTP, "plain", 8080));
        assertThat(e.resolution()).isEqualTo(ServiceEntry.Resolution.STATIC);
        assertThat(e.endpoints()).containsExactly(new ServiceEntry.Endpoint("127.0.0.1", Map.of("https", 9443)));
        assertThat(e.tls().mode()).isEqualTo(ServiceEntry.TlsMode.SIMPLE);
        assertThat(e.tls().sni()).isEqualTo("api.example.com");
        assertThat(e.tls().caCertificates()).contains("BEGIN CERTIFICATE");
        assertThat(e.originatesTls(e.ports().get(0))).isTrue();
        assertThat(e.exportedTo("shop")).isTrue();
        assertThat(e.exportedTo("payments")).isTrue();
        assertThat(e.exportedTo("other")).isFalse();
    }

    @Test
    void plainHttpEntryDefaults() {
        ServiceEntry e = (ServiceEntry) PolicyDocuments.parse("""
                apiVersion: outrider.dev/v1
                kind: ServiceEntry
                metadata: {name: api, namespace: shop}
                spec: {hosts: [api.example.com], resolution: DNS, ports: [{number: 80, name: http, protocol: HTTP}]}
                """, "t").getFirst();
        assertThat(e.tls()).isNull();
        assertThat(e.originatesTls(e.ports().getFirst())).isFalse();
        assertThat(e.ports().getFirst().targetPort()).isEqualTo(80);
        assertThat(e.exportTo()).containsExactly("*");
        assertThat(e.exportedTo("anywhere")).isTrue();
    }

    @Test
    void readsTargetRefs() {
        AuthorizationPolicy p = (AuthorizationPolicy) PolicyDocuments.parse("""
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: p, namespace: shop}
                spec:
                  targetRefs: [{kind: ServiceEntry, group: networking.istio.io, name: api}]
                  rules: [{from: [{source: {principals: [cluster.local/ns/shop/sa/orders]}}]}]
                """, "t").getFirst();
        assertThat(p.targetsServiceEntries()).isTrue();
        assertThat(p.targets("shop", "api")).isTrue();
        assertThat(p.targets("other", "api")).isFalse();
        assertThat(p.targets("shop", "other")).isFalse();
    }
}
