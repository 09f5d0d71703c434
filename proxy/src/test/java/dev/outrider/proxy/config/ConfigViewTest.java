package dev.outrider.proxy.config;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConfigViewTest {

    private static final String FULL = """
            node: {service: frontend, namespace: shop}
            outbound:
              upstreams: [{service: orders, port: 9001}]
            services: [{name: orders, endpoints: ["127.0.0.1:15006", "[::1]:15007"]}]
            upstream: {connectTimeout: 250ms}
            runtime: {transport: io_uring}
            """;

    @Test
    void showsTheEffectiveConfigAsPlainValues() {
        Map<String, Object> view = ConfigView.redacted(BootstrapLoader.parse(FULL, "t"));

        assertThat(view).containsOnlyKeys("node", "inbound", "outbound", "services", "http", "upstream", "health",
                "admin", "runtime", "accessLog", "securityEvents", "tracing", "tls", "policies", "jwt", "rateLimits");
        assertThat(view.get("rateLimits")).isEqualTo(Map.of("maxTracked", 10000, "sweepInterval", "1s"));
        assertThat(view.get("node")).isEqualTo(
                Map.of("service", "frontend", "namespace", "shop", "serviceAccount", "frontend",
                        "trustDomain", "cluster.local", "labels", Map.of("app", "frontend")));
        Map<String, Object> policies = new java.util.HashMap<>();
        policies.put("directory", null);
        policies.put("defaultAction", "deny");
        policies.put("rootNamespace", "outrider-system");
        policies.put("escapedSlashes", "reject");
        policies.put("pathParameters", "reject");
        policies.put("reloadInterval", "2s");
        assertThat(view.get("policies")).isEqualTo(policies);
        assertThat(view.get("jwt")).isEqualTo(Map.of("algorithms", List.of("RS256", "ES256", "EdDSA"),
                "clockSkew", "1m", "maxLength", 16384, "cacheSize", 10000, "jwksRefresh", "5m"));
        assertThat(view.get("inbound")).isEqualTo(
                Map.of("listen", "0.0.0.0:15006", "application", "127.0.0.1:8080", "applicationProtocol", "http1",
                        "maxConnections", 4096, "maxConnectionsPerPeer", 1024,
                        "tcp", Map.of("ports", List.of(), "maxConnectionsPerSource", 1024,
                                "connectionsPerSecond", 1000, "connectionBurst", 1000)));
        assertThat(view.get("outbound")).isEqualTo(Map.of("listen", "127.0.0.1:15001",
                "upstreams", List.of(Map.of("service", "orders.shop", "port", 9001)), "maxConnections", 4096));
        assertThat(view.get("services")).isEqualTo(List.of(Map.of("name", "orders", "namespace", "shop",
                "protocol", "auto", "endpoints", List.of("127.0.0.1:15006", "[::1]:15007"),
                "identities", List.of("spiffe://cluster.local/ns/shop/sa/orders"))));
        assertThat(view.get("tls")).isEqualTo(Map.of("mode", "mtls", "certificate", "/etc/outrider/tls/cert.pem",
                "privateKey", "/etc/outrider/tls/key.pem", "trustBundle", "/etc/outrider/tls/ca-bundle.pem",
                "minVersion", "TLSv1.3", "provider", "auto", "handshakeTimeout", "10s", "reloadInterval", "2s",
                "ticketKeyRotation", "1h"));
        assertThat(view.get("upstream")).isEqualTo(Map.of("connectTimeout", "250ms", "requestTimeout", "15s",
                "idleTimeout", "1m", "maxRetries", 2, "retryBudgetPercent", 20, "minRetryConcurrency", 3,
                "maxIdlePerEndpoint", 128));
        assertThat(view.get("http")).extracting(m -> ((Map<?, ?>) m).get("idleTimeout")).isEqualTo("5m");
        assertThat(view.get("http")).extracting(m -> ((Map<?, ?>) m).get("requestHeaderTimeout")).isEqualTo("10s");
        assertThat(view.get("runtime")).isEqualTo(Map.of("transport", "io_uring", "eventLoops", 0, "drainTimeout", "20s"));
        assertThat(view.get("admin")).isEqualTo(Map.of("listen", "127.0.0.1:15000"));
        assertThat(view.get("accessLog")).isEqualTo(Map.of("enabled", true, "path", "-", "queueSize", 8192));
        assertThat(view.get("securityEvents")).isEqualTo(Map.of("enabled", true, "path", "stdout",
                "ratePerSecond", 20, "burst", 100, "summaryInterval", "10s"));
        assertThat(view.get("tracing")).isEqualTo(Map.of("enabled", false, "endpoint",
                "http://127.0.0.1:4318/v1/traces", "samplingRatio", 0.01, "queueSize", 2048));
    }

    @Test
    void viewIsUnmodifiable() {
        Map<String, Object> view = ConfigView.redacted(BootstrapLoader.parse(FULL, "t"));
        assertThatThrownBy(() -> view.put("x", 1)).isInstanceOf(UnsupportedOperationException.class);
    }

    /** The view, serialised and read back as the file format, gives the same config: nothing is lost. */
    @Test
    void roundTripsThroughTheLoader() throws Exception {
        BootstrapConfig config = BootstrapLoader.parse(FULL, "t");
        String json = new ObjectMapper().writeValueAsString(ConfigView.redacted(config));
        assertThat(BootstrapLoader.parse(json, "view")).isEqualTo(config);
    }

    @Test
    void nothingInTodaysConfigIsRedacted() {
        String json = ConfigView.redacted(BootstrapLoader.parse(FULL, "t")).toString();
        assertThat(json).doesNotContain(ConfigView.REDACTED);
    }

    /** The controlPlane block shows where its files are; the paths are no secret (the files' content never shows). */
    @Test
    void controlPlaneFilesAreShownAsPaths() throws Exception {
        BootstrapConfig config = BootstrapLoader.parse("""
                node: {service: orders, namespace: shop}
                controlPlane:
                  address: 127.0.0.1:15010
                  snapshotKeys: /etc/outrider/mesh/snapshot-keys.json
                  serviceAccountToken: /var/run/secrets/outrider/token
                  cacheDirectory: /var/run/outrider/cache
                """, "t");

        Map<?, ?> cp = (Map<?, ?>) ConfigView.redacted(config).get("controlPlane");

        assertThat(cp.get("serviceAccountToken")).isEqualTo("/var/run/secrets/outrider/token");
        assertThat(cp.get("snapshotKeys")).isEqualTo("/etc/outrider/mesh/snapshot-keys.json");
        assertThat(cp.get("joinToken")).isNull();
        assertThat(BootstrapLoader.parse(new ObjectMapper().writeValueAsString(ConfigView.redacted(config)), "view"))
                .isEqualTo(config);
    }

    @Test
    void sensitiveKeyNames() {
        assertThat(Arrays.asList("privateKeyPath", "key", "apiToken", "TOKEN", "clientSecret", "password",
                "credentials", "jwksKeys")).allMatch(ConfigView::isSensitive);
        assertThat(Arrays.asList("listen", "path", "maxHeaderSize", "service", "endpoints", "queueSize"))
                .noneMatch(ConfigView::isSensitive);
    }

    @Test
    void redactsSensitiveKeysAtAnyDepthWhateverTheValue() {
        Map<String, Object> tls = new LinkedHashMap<>();
        tls.put("certificatePath", "/etc/outrider/cert.pem");
        tls.put("privateKeyPath", "/etc/outrider/key.pem");
        tls.put("keyPassword", List.of("a", "b"));
        Map<String, Object> tree = new LinkedHashMap<>();
        tree.put("tls", tls);
        tree.put("issuers", List.of(Map.of("issuer", "https://id.example", "clientSecret", Map.of("x", 1))));
        tree.put("apiToken", null);

        Object out = ConfigView.redact(tree);

        assertThat(out).isEqualTo(Map.of(
                "tls", Map.of("certificatePath", "/etc/outrider/cert.pem", "privateKeyPath", "[redacted]",
                        "keyPassword", "[redacted]"),
                "issuers", List.of(Map.of("issuer", "https://id.example", "clientSecret", "[redacted]")),
                "apiToken", "[redacted]"));
    }
}
