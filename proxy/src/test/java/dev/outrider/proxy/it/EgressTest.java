package dev.outrider.proxy.it;

import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.outrider.core.pem.Pem;
import dev.outrider.proxy.Sidecar;
import dev.outrider.proxy.config.BootstrapLoader;
import dev.outrider.proxy.tls.TestPki;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The egress allow-list end to end (docs/control-plane.md, "ServiceEntry"): real sidecars whose outbound listeners
 * read ServiceEntries and targeting AuthorizationPolicies from a policy directory, the JDK HttpClient as the
 * application, and "external" servers on loopback: HTTPS servers with certificates of their own test CAs and a
 * plaintext HTTP server. Allowed with TLS originated and verified against the entry's CA bundle; an undeclared host
 * refused with 403 and counted; a server certificate from another CA, one naming another host, and one only the
 * system trust store could vouch for (it cannot) refused with 503 naming the reason and counted; plaintext HTTP to a
 * DNS-resolved entry; a policy targeting an entry allowing one workload and refusing another; a mesh-form name
 * unknown to the mesh still 404.
 */
class EgressTest {
    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir
    static Path dir;
    static HttpsServer trusted;
    static HttpsServer otherCa;
    static HttpServer plain;
    static Sidecar orders;
    static Sidecar frontend;
    static final AtomicReference<String> lastSni = new AtomicReference<>();

    @BeforeAll
    static void start() throws Exception {
        TestPki.Ca ca = TestPki.root("external-ca");
        TestPki.Ca other = TestPki.root("other-ca");
        trusted = https(ca.leaf().dns("api.allowed.test").dns("api.restricted.test").dns("api.default-trust.test")
                .issue(), "trusted");
        otherCa = https(other.leaf().dns("api.wrongca.test").issue(), "other-ca");
        plain = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        plain.createContext("/", exchange -> {
            byte[] body = ("plain " + exchange.getRequestURI() + " host " + exchange.getRequestHeaders()
                    .getFirst("Host")).getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        plain.start();

        Path policies = Files.createDirectories(dir.resolve("policies"));
        String caPem = Pem.write(ca.cert()).indent(6);
        int trustedPort = trusted.getAddress().getPort();
        Files.writeString(policies.resolve("egress.yaml"), """
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: allowed, namespace: shop}
                spec:
                  hosts: [api.allowed.test, api.wrongname.test]
                  location: MESH_EXTERNAL
                  ports: [{number: 80, name: http, protocol: HTTP, targetPort: %1$d}]
                  resolution: STATIC
                  endpoints: [{address: 127.0.0.1}]
                  tls:
                    mode: SIMPLE
                    caCertificates: |
                %2$s
                ---
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: wrong-ca, namespace: shop}
                spec:
                  hosts: [api.wrongca.test]
                  ports: [{number: 80, name: http, protocol: HTTP}]
                  resolution: STATIC
                  endpoints: [{address: 127.0.0.1, ports: {http: %3$d}}]
                  tls:
                    mode: SIMPLE
                    caCertificates: |
                %2$s
                ---
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: default-trust, namespace: shop}
                spec:
                  hosts: [api.default-trust.test]
                  ports: [{number: 443, name: https, protocol: HTTPS, targetPort: %1$d}]
                  resolution: STATIC
                  endpoints: [{address: 127.0.0.1}]
                ---
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: restricted, namespace: shop}
                spec:
                  hosts: [api.restricted.test]
                  ports: [{number: 80, name: http, protocol: HTTP, targetPort: %1$d}]
                  resolution: STATIC
                  endpoints: [{address: 127.0.0.1}]
                  tls:
                    mode: SIMPLE
                    caCertificates: |
                %2$s
                ---
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: plain, namespace: shop}
                spec:
                  hosts: [localhost]
                  ports: [{number: %4$d, name: http, protocol: HTTP}]
                  resolution: DNS
                ---
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: restricted-callers, namespace: shop}
                spec:
                  targetRefs: [{kind: ServiceEntry, group: networking.istio.io, name: restricted}]
                  action: ALLOW
                  rules:
                  - from: [{source: {principals: [cluster.local/ns/shop/sa/orders]}}]
                    to: [{operation: {methods: [GET], paths: ["/reports/*"], ports: ["80"]}}]
                """.formatted(trustedPort, caPem.stripTrailing(), otherCa.getAddress().getPort(),
                plain.getAddress().getPort()));
        orders = sidecar("orders", policies);
        frontend = sidecar("frontend", policies);
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[] {orders, frontend}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception ignored) {
                // best effort
            }
        }
        for (HttpServer s : new HttpServer[] {trusted, otherCa, plain}) {
            if (s != null) {
                s.stop(0);
            }
        }
    }

    @Test
    void aDeclaredHostIsReachedOverTlsTheSidecarOriginatesAndVerifies() throws Exception {
        double before = Metrics.sum(orders, "outrider_egress_requests_total", "outcome", "allowed");
        HttpResponse<String> r = get(orders, "api.allowed.test", "/hello?x=1");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("trusted /hello?x=1 host api.allowed.test");
        assertThat(lastSni.get()).isEqualTo("api.allowed.test");
        assertThat(Metrics.sum(orders, "outrider_egress_requests_total", "outcome", "allowed")).isEqualTo(before + 1);
        // Again, on a pooled connection.
        assertThat(get(orders, "api.allowed.test", "/again").body()).isEqualTo("trusted /again host api.allowed.test");
    }

    @Test
    void theAdminConfigViewListsTheEntriesInForce() throws Exception {
        InetSocketAddress admin = orders.adminAddress();
        HttpResponse<String> config = CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + admin.getPort() + "/config")).build(), HttpResponse.BodyHandlers.ofString());
        var entries = new com.fasterxml.jackson.databind.ObjectMapper().readTree(config.body())
                .at("/policySnapshot/serviceEntries");
        assertThat(entries.toString()).isEqualTo(
                "[\"shop/allowed\",\"shop/wrong-ca\",\"shop/default-trust\",\"shop/restricted\",\"shop/plain\"]");
    }

    @Test
    void anUndeclaredExternalHostIsRefusedWith403AndCounted() throws Exception {
        double before = Metrics.sum(orders, "outrider_egress_requests_total", "outcome", "not_declared");
        HttpResponse<String> r = get(orders, "www.example.com", "/");
        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(r.body()).contains("'www.example.com'").contains("not in the egress allow-list");
        HttpResponse<String> port = get(orders, "api.allowed.test:8080", "/");
        assertThat(port.statusCode()).isEqualTo(403);
        assertThat(port.body()).contains("port 8080 of 'api.allowed.test' is not in the egress allow-list");
        assertThat(Metrics.sum(orders, "outrider_egress_requests_total", "outcome", "not_declared"))
                .isEqualTo(before + 2);
        assertThat(Metrics.scrape(orders)).doesNotContain("www.example.com");
    }

    @Test
    void aMeshFormNameUnknownToTheMeshIsStill404() throws Exception {
        HttpResponse<String> r = get(orders, "payments", "/");
        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(r.body()).contains("no route to service 'payments.shop'");
    }

    @Test
    void aCertificateFromAnotherCaIsRefusedNeverForwardedInPlaintext() throws Exception {
        double before = Metrics.sum(orders, "outrider_egress_tls_failures_total", "reason", "untrusted");
        HttpResponse<String> r = get(orders, "api.wrongca.test", "/secret");
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.body()).contains("ServiceEntry shop/wrong-ca host api.wrongca.test")
                .contains("not issued by a trusted CA");
        assertThat(Metrics.sum(orders, "outrider_egress_tls_failures_total", "reason", "untrusted"))
                .isGreaterThan(before);
    }

    @Test
    void aCertificateNamingAnotherHostIsRefused() throws Exception {
        double before = Metrics.sum(orders, "outrider_egress_tls_failures_total", "reason", "name_mismatch");
        HttpResponse<String> r = get(orders, "api.wrongname.test", "/");
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.body()).contains("does not name api.wrongname.test");
        assertThat(Metrics.sum(orders, "outrider_egress_tls_failures_total", "reason", "name_mismatch"))
                .isGreaterThan(before);
    }

    @Test
    void anHttpsPortWithoutACaBundleTrustsOnlyTheSystemStore() throws Exception {
        HttpResponse<String> r = get(orders, "api.default-trust.test:443", "/");
        assertThat(r.statusCode()).isEqualTo(503);
        assertThat(r.body()).contains("not issued by a trusted CA");
    }

    @Test
    void plaintextHttpToADnsResolvedEntry() throws Exception {
        HttpResponse<String> r = get(orders, "localhost:" + plain.getAddress().getPort(), "/plain");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("plain /plain host localhost:" + plain.getAddress().getPort());
    }

    @Test
    void aPolicyTargetingTheEntryAllowsOneWorkloadAndRefusesAnother() throws Exception {
        HttpResponse<String> allowed = get(orders, "api.restricted.test", "/reports/today");
        assertThat(allowed.statusCode()).as(allowed.body()).isEqualTo(200);
        assertThat(allowed.body()).isEqualTo("trusted /reports/today host api.restricted.test");

        HttpResponse<String> otherPath = get(orders, "api.restricted.test", "/admin");
        assertThat(otherPath.statusCode()).isEqualTo(403);

        double before = Metrics.sum(frontend, "outrider_egress_requests_total", "outcome", "denied_by_policy");
        HttpResponse<String> refused = get(frontend, "api.restricted.test", "/reports/today");
        assertThat(refused.statusCode()).isEqualTo(403);
        assertThat(refused.body()).contains("ServiceEntry shop/restricted").contains("refused for this workload")
                .contains("no allow policy matched");
        assertThat(Metrics.sum(frontend, "outrider_egress_requests_total", "outcome", "denied_by_policy"))
                .isEqualTo(before + 1);
        // The entry without a targeting policy is open to every workload it is exported to.
        assertThat(get(frontend, "api.allowed.test", "/").statusCode()).isEqualTo(200);
    }

    private static HttpResponse<String> get(Sidecar sidecar, String host, String path) throws Exception {
        InetSocketAddress out = sidecar.outboundAddress();
        return CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + out.getPort() + path))
                .header("Host", host).timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static Sidecar sidecar(String sa, Path policies) throws Exception {
        return Sidecar.start(BootstrapLoader.parse("""
                node: {service: %s, namespace: shop}
                inbound: {listen: 127.0.0.1:0, application: 127.0.0.1:1}
                outbound: {listen: 127.0.0.1:0}
                health: {listen: 127.0.0.1:0}
                admin: {listen: 127.0.0.1:0}
                accessLog: {enabled: false}
                runtime: {eventLoops: 2, drainTimeout: 1s}
                tls: {mode: disabled}
                policies: {directory: '%s', defaultAction: allow}
                """.formatted(sa, policies), "egress-" + sa));
    }

    /** An HTTPS server presenting {@code leaf}; it answers with its name, the request target and Host. */
    private static HttpsServer https(TestPki.Leaf leaf, String name) throws Exception {
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        keys.setKeyEntry("server", leaf.key(), new char[0], leaf.chain().toArray(X509Certificate[]::new));
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, new char[0]);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(kmf.getKeyManagers(), null, null);
        HttpsServer server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(context));
        server.createContext("/", exchange -> {
            if (exchange instanceof com.sun.net.httpserver.HttpsExchange https) {
                var names = https.getSSLSession() instanceof javax.net.ssl.ExtendedSSLSession ext
                        ? ext.getRequestedServerNames() : java.util.List.<javax.net.ssl.SNIServerName>of();
                if (!names.isEmpty() && names.getFirst() instanceof javax.net.ssl.SNIHostName sni) {
                    lastSni.set(sni.getAsciiName());
                }
            }
            byte[] body = (name + " " + exchange.getRequestURI() + " host " + exchange.getRequestHeaders()
                    .getFirst("Host")).getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        return server;
    }
}
