package dev.outrider.proxy.config;

import dev.outrider.core.model.ServiceName;
import dev.outrider.core.model.SpiffeId;
import dev.outrider.core.snapshot.RedisSettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BootstrapLoaderTest {

    private static BootstrapConfig parse(String yaml) {
        return BootstrapLoader.parse(yaml, "test.yaml");
    }

    private static ConfigException error(String yaml) {
        try {
            parse(yaml);
        } catch (ConfigException e) {
            assertThat(e.source()).isEqualTo("test.yaml");
            return e;
        }
        throw new AssertionError("expected a ConfigException for:\n" + yaml);
    }

    @Test
    void almostEmptyFileGetsEveryDefault() {
        BootstrapConfig c = parse("node: {service: orders}\n");

        assertThat(c.node()).isEqualTo(new NodeConfig("orders", "default", "orders", "cluster.local", Map.of("app", "orders")));
        assertThat(c.inbound()).isEqualTo(new InboundConfig(new HostPort("0.0.0.0", 15006),
                new HostPort("127.0.0.1", 8080), Protocol.HTTP1, 4096, 1024));
        assertThat(c.outbound()).isEqualTo(new OutboundConfig(new HostPort("127.0.0.1", 15001), List.of(), 4096));
        assertThat(c.services()).isEmpty();
        assertThat(c.http()).isEqualTo(new HttpConfig(8192, 16384, 100, 256, Duration.ofMinutes(5),
                Duration.ofSeconds(10)));
        assertThat(c.upstream()).isEqualTo(new UpstreamConfig(Duration.ofSeconds(1), Duration.ofSeconds(15),
                Duration.ofSeconds(60), 2, 20, 3, 128));
        assertThat(c.health()).isEqualTo(new HostPort("0.0.0.0", 15021));
        assertThat(c.admin()).isEqualTo(new HostPort("127.0.0.1", 15000));
        assertThat(c.runtime()).isEqualTo(new RuntimeConfig(TransportKind.AUTO, 0, Duration.ofSeconds(20)));
        assertThat(c.accessLog()).isEqualTo(new AccessLogConfig(true, "-", 8192));
        assertThat(c.securityEvents()).isEqualTo(new SecurityEventsConfig(true, "stdout", 20, 100,
                Duration.ofSeconds(10)));
    }

    @Test
    void securityEventsAreRead() {
        BootstrapConfig c = parse("""
                node: {service: orders}
                securityEvents: {enabled: false, path: /var/log/outrider-security.log, ratePerSecond: 5, burst: 7,
                                 summaryInterval: 1m}
                """);
        assertThat(c.securityEvents()).isEqualTo(new SecurityEventsConfig(false, "/var/log/outrider-security.log",
                5, 7, Duration.ofMinutes(1)));
    }

    @Test
    void badSecurityEventsNameTheField() {
        assertThat(error("node: {service: a}\nsecurityEvents: {ratePerSecond: 0}\n").getMessage())
                .startsWith("securityEvents.ratePerSecond: 0 is out of range (1-");
        assertThat(error("node: {service: a}\nsecurityEvents: {burst: -1}\n").getMessage())
                .startsWith("securityEvents.burst: -1 is out of range (1-");
        assertThat(error("node: {service: a}\nsecurityEvents: {path: ' '}\n").getMessage())
                .isEqualTo("securityEvents.path: must not be empty (stdout, stderr or a file)");
        assertThat(error("node: {service: a}\nsecurityEvents: {summaryInterval: 10ms}\n").getMessage())
                .isEqualTo("securityEvents.summaryInterval: must be at least 100ms, got 10ms");
        assertThat(error("node: {service: a}\nsecurityEvents: {summaryInterval: 0}\n").getMessage())
                .startsWith("securityEvents.summaryInterval: ");
        assertThat(error("node: {service: a}\nsecurityEvents: {enabled: yes please}\n").getMessage())
                .isEqualTo("securityEvents.enabled: expected true or false, got string 'yes please'");
        assertThat(error("node: {service: a}\nsecurityEvents: {rate: 5}\n").getMessage())
                .startsWith("securityEvents.rate: ");
    }

    @Test
    void everyFieldIsRead() {
        BootstrapConfig c = parse("""
                node: {service: frontend, namespace: shop, trustDomain: example.org}
                inbound: {listen: "[::]:16006", application: 127.0.0.1:9090, applicationProtocol: H2C,
                          maxConnections: 100, maxConnectionsPerPeer: 10}
                outbound:
                  listen: 127.0.0.2:16001
                  maxConnections: 200
                  upstreams: [{service: orders, port: 9001}, {service: billing.pay, port: 9002}]
                services:
                  - {name: orders, protocol: http1, endpoints: ["127.0.0.1:15006", "10.0.0.2:15006"]}
                  - {name: billing, namespace: pay, endpoints: ["[::1]:15006"]}
                http: {maxInitialLineLength: 4096, maxHeaderSize: 8192, maxHeaderCount: 50,
                       maxConcurrentStreams: 100, idleTimeout: 0, requestHeaderTimeout: 2s}
                upstream: {connectTimeout: 250ms, requestTimeout: PT30S, idleTimeout: 2m, maxRetries: 0,
                           retryBudgetPercent: 50, minRetryConcurrency: 1, maxIdlePerEndpoint: 0}
                health: {listen: 0.0.0.0:0}
                admin: {listen: "[::1]:0"}
                runtime: {transport: IO_URING, eventLoops: 2, drainTimeout: 1h}
                accessLog: {enabled: false, path: /var/log/outrider.log, queueSize: 16}
                """);

        assertThat(c.node()).isEqualTo(new NodeConfig("frontend", "shop", "frontend", "example.org", Map.of("app", "frontend")));
        assertThat(c.inbound()).isEqualTo(new InboundConfig(new HostPort("::", 16006),
                new HostPort("127.0.0.1", 9090), Protocol.H2C, 100, 10));
        assertThat(c.outbound().listen()).isEqualTo(new HostPort("127.0.0.2", 16001));
        assertThat(c.outbound().maxConnections()).isEqualTo(200);
        assertThat(c.outbound().upstreams()).containsExactly(
                new UpstreamPortConfig(new ServiceName("orders", "shop"), 9001),
                new UpstreamPortConfig(new ServiceName("billing", "pay"), 9002));
        assertThat(c.services()).containsExactly(
                new ServiceConfig(new ServiceName("orders", "shop"), Protocol.HTTP1,
                        List.of(new HostPort("127.0.0.1", 15006), new HostPort("10.0.0.2", 15006)),
                        List.of(SpiffeId.parse("spiffe://example.org/ns/shop/sa/orders"))),
                new ServiceConfig(new ServiceName("billing", "pay"), Protocol.AUTO,
                        List.of(new HostPort("::1", 15006)),
                        List.of(SpiffeId.parse("spiffe://example.org/ns/pay/sa/billing"))));
        assertThat(c.http()).isEqualTo(new HttpConfig(4096, 8192, 50, 100, Duration.ZERO, Duration.ofSeconds(2)));
        assertThat(c.upstream()).isEqualTo(new UpstreamConfig(Duration.ofMillis(250), Duration.ofSeconds(30),
                Duration.ofMinutes(2), 0, 50, 1, 0));
        assertThat(c.health()).isEqualTo(new HostPort("0.0.0.0", 0));
        assertThat(c.admin()).isEqualTo(new HostPort("::1", 0));
        assertThat(c.runtime()).isEqualTo(new RuntimeConfig(TransportKind.IO_URING, 2, Duration.ofHours(1)));
        assertThat(c.accessLog()).isEqualTo(new AccessLogConfig(false, "/var/log/outrider.log", 16));
    }

    @Test
    void nullSectionsMeanDefaults() {
        BootstrapConfig c = parse("node: {service: orders}\nhttp:\nservices:\n");
        assertThat(c.http()).isEqualTo(BootstrapLoader.DEFAULT_HTTP);
        assertThat(c.services()).isEmpty();
    }

    @Test
    void loadsFromFile(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("sidecar.yaml");
        Files.writeString(file, "node: {service: orders}\n");
        assertThat(BootstrapLoader.load(file).node().service()).isEqualTo("orders");
    }

    @Test
    void missingFileIsAConfigError(@TempDir Path dir) {
        Path file = dir.resolve("absent.yaml");
        assertThatThrownBy(() -> BootstrapLoader.load(file))
                .isInstanceOf(ConfigException.class)
                .hasMessage("no such file")
                .extracting(e -> ((ConfigException) e).source()).isEqualTo(file.toString());
    }

    // --- the file as a whole -------------------------------------------------------------------------

    @Test
    void emptyFile() {
        assertThat(error("").getMessage()).contains("empty");
        assertThat(error("# only a comment\n").getMessage()).contains("empty");
    }

    @Test
    void topLevelMustBeAMapping() {
        assertThat(error("- node\n").getMessage()).contains("expected a mapping at the top level");
    }

    @Test
    void notYaml() {
        assertThat(error("node: {service: orders\n").getMessage()).startsWith("not valid YAML (line");
    }

    @Test
    void moreThanOneDocument() {
        assertThat(error("node: {service: a}\n---\nnode: {service: b}\n").getMessage())
                .contains("more than one YAML document");
    }

    @Test
    void duplicateKeysAreRejectedWithTheirPath() {
        ConfigException e = error("node: {service: orders}\nhttp:\n  maxHeaderSize: 1024\n  maxHeaderSize: 2048\n");
        assertThat(e.path()).isEqualTo("http.maxHeaderSize");
        assertThat(e.getMessage()).startsWith("http.maxHeaderSize: duplicate key (line 4");
    }

    @Test
    void duplicateTopLevelSection() {
        assertThat(error("node: {service: a}\nnode: {service: b}\n").getMessage()).startsWith("node: duplicate key");
    }

    // --- unknown fields and types --------------------------------------------------------------------

    @Test
    void unknownFieldListsTheKnownOnes() {
        assertThat(error("node: {service: orders}\nhttp: {maxHeaderSizes: 1}\n").getMessage()).isEqualTo(
                "http.maxHeaderSizes: unknown field 'maxHeaderSizes' (known: maxInitialLineLength, maxHeaderSize,"
                        + " maxHeaderCount, maxConcurrentStreams, idleTimeout, requestHeaderTimeout, upgrades)");
    }

    @Test
    void upgradesDefaultToWebSocketAndCanBeListedOrNone() {
        assertThat(parse("node: {service: orders}\n").http().upgrades()).containsExactly("websocket");
        assertThat(parse("node: {service: orders}\nhttp: {upgrades: [websocket, connect-udp]}\n").http().upgrades())
                .containsExactly("websocket", "connect-udp");
        assertThat(parse("node: {service: orders}\nhttp: {upgrades: []}\n").http().upgrades()).isEmpty();
    }

    @Test
    void anUpgradeThatCannotBeAllowedIsNamed() {
        assertThat(error("node: {service: orders}\nhttp: {upgrades: [h2c]}\n").getMessage()).isEqualTo(
                "http.upgrades[0]: 'h2c' is HTTP/2's own upgrade between one client and one server; it cannot cross a"
                        + " proxy (callers speak HTTP/2 to the sidecar directly)");
        assertThat(error("node: {service: orders}\nhttp: {upgrades: [websocket, WebSocket]}\n").getMessage())
                .isEqualTo("http.upgrades[1]: 'WebSocket' must be lower case (upgrade names compare without case)");
        assertThat(error("node: {service: orders}\nhttp: {upgrades: ['web socket']}\n").getMessage())
                .isEqualTo("http.upgrades[0]: 'web socket' is not a protocol name (an HTTP token such as websocket)");
        assertThat(error("node: {service: orders}\nhttp: {upgrades: websocket}\n").getMessage())
                .startsWith("http.upgrades: expected a list");
    }

    @Test
    void unknownTopLevelField() {
        assertThat(error("node: {service: orders}\nlisten: 1\n").getMessage())
                .startsWith("listen: unknown field 'listen' (known: node, inbound,");
    }

    @Test
    void unknownFieldInAListElement() {
        assertThat(error("""
                node: {service: orders}
                services: [{name: a, endpoints: ["h:1"], endpoint: "h:2"}]
                """).getMessage()).startsWith("services[0].endpoint: unknown field 'endpoint'");
    }

    @Test
    void sectionMustBeAMapping() {
        assertThat(error("node: {service: orders}\nhttp: 5\n").getMessage())
                .isEqualTo("http: expected a mapping, got number 5");
    }

    @Test
    void listMustBeAList() {
        assertThat(error("node: {service: orders}\nservices: {name: a}\n").getMessage())
                .isEqualTo("services: expected a list, got a mapping");
    }

    @Test
    void integerFieldRejectsAString() {
        assertThat(error("node: {service: orders}\nhttp: {maxHeaderCount: many}\n").getMessage())
                .isEqualTo("http.maxHeaderCount: expected an integer, got string 'many'");
    }

    @Test
    void integerFieldRejectsAFraction() {
        assertThat(error("node: {service: orders}\nhttp: {maxHeaderCount: 1.5}\n").getMessage())
                .isEqualTo("http.maxHeaderCount: expected an integer, got number 1.5");
    }

    @Test
    void stringFieldRejectsANumber() {
        assertThat(error("node: {service: 42}\n").getMessage()).isEqualTo("node.service: expected a string, got number 42");
    }

    @Test
    void booleanFieldRejectsAString() {
        assertThat(error("node: {service: orders}\naccessLog: {enabled: sometimes}\n").getMessage())
                .isEqualTo("accessLog.enabled: expected true or false, got string 'sometimes'");
    }

    // --- node ----------------------------------------------------------------------------------------

    @Test
    void nodeIsRequired() {
        assertThat(error("http: {maxHeaderCount: 10}\n").getMessage()).startsWith("node: required");
    }

    @Test
    void nodeServiceIsRequired() {
        assertThat(error("node: {namespace: shop}\n").getMessage()).isEqualTo("node.service: required");
    }

    @Test
    void serviceNameMustBeADnsLabel() {
        assertThat(error("node: {service: Orders_1}\n").getMessage())
                .isEqualTo("node.service: service name 'Orders_1' is not a DNS label (RFC 1123)");
    }

    @Test
    void namespaceMustBeADnsLabel() {
        assertThat(error("node: {service: orders, namespace: -shop}\n").getMessage())
                .isEqualTo("node.namespace: namespace '-shop' is not a DNS label (RFC 1123)");
    }

    @Test
    void trustDomainCharacters() {
        assertThat(error("node: {service: orders, trustDomain: \"Cluster Local\"}\n").getMessage())
                .startsWith("node.trustDomain: 'Cluster Local' is not a trust domain");
    }

    // --- addresses and ports -------------------------------------------------------------------------

    @Test
    void hostPortNeedsAPort() {
        assertThat(error("node: {service: orders}\ninbound: {application: localhost}\n").getMessage())
                .isEqualTo("inbound.application: expected host:port, got 'localhost'");
    }

    @Test
    void hostPortMustBeAString() {
        assertThat(error("node: {service: orders}\ninbound: {application: 8080}\n").getMessage())
                .isEqualTo("inbound.application: expected host:port, got number 8080");
    }

    @Test
    void portThatIsNotANumber() {
        assertThat(error("node: {service: orders}\ninbound: {listen: \"0.0.0.0:http\"}\n").getMessage())
                .isEqualTo("inbound.listen: port is not a number in '0.0.0.0:http'");
    }

    @Test
    void listenerPortOutOfRange() {
        assertThat(error("node: {service: orders}\nhealth: {listen: 0.0.0.0:65536}\n").getMessage())
                .isEqualTo("health.listen: 65536 is not a port (0-65535)");
    }

    @Test
    void listenerPortZeroIsEphemeral() {
        assertThat(parse("node: {service: orders}\ninbound: {listen: 127.0.0.1:0}\n").inbound().listen().port())
                .isZero();
    }

    @Test
    void applicationPortZeroIsRejected() {
        assertThat(error("node: {service: orders}\ninbound: {application: 127.0.0.1:0}\n").getMessage())
                .isEqualTo("inbound.application: 0 is not a port (1-65535)");
    }

    @Test
    void requestHeaderTimeoutMustBePositiveAndBounded() {
        assertThat(error("node: {service: orders}\nhttp: {requestHeaderTimeout: 0}\n").getMessage())
                .isEqualTo("http.requestHeaderTimeout: must be greater than 0");
        assertThat(error("node: {service: orders}\nhttp: {requestHeaderTimeout: -1s}\n").getMessage())
                .startsWith("http.requestHeaderTimeout: ");
        assertThat(error("node: {service: orders}\nhttp: {requestHeaderTimeout: 10}\n").getMessage())
                .isEqualTo("http.requestHeaderTimeout: 10 needs a unit (10ms, 10s, ...)");
        assertThat(error("node: {service: orders}\nhttp: {requestHeaderTimeout: 6m}\n").getMessage())
                .isEqualTo("http.requestHeaderTimeout: 6m is longer than the maximum 5m");
    }

    @Test
    void connectionLimitsArePositiveIntegers() {
        assertThat(error("node: {service: orders}\ninbound: {maxConnections: 0}\n").getMessage())
                .isEqualTo("inbound.maxConnections: 0 is out of range (1-1000000)");
        assertThat(error("node: {service: orders}\ninbound: {maxConnectionsPerPeer: -5}\n").getMessage())
                .isEqualTo("inbound.maxConnectionsPerPeer: -5 is out of range (1-1000000)");
        assertThat(error("node: {service: orders}\noutbound: {maxConnections: lots}\n").getMessage())
                .startsWith("outbound.maxConnections: expected an integer");
    }

    @Test
    void ipv6NeedsBrackets() {
        assertThat(error("node: {service: orders}\ninbound: {listen: \"::1:15006\"}\n").getMessage())
                .startsWith("inbound.listen: IPv6 hosts need brackets");
    }

    @Test
    void upstreamPortOutOfRange() {
        assertThat(error("""
                node: {service: frontend}
                outbound: {upstreams: [{service: orders, port: 9001}, {service: orders, port: 70000}]}
                services: [{name: orders, endpoints: ["127.0.0.1:15006"]}]
                """).getMessage()).isEqualTo("outbound.upstreams[1].port: 70000 is not a port (1-65535)");
    }

    @Test
    void upstreamPortIsRequired() {
        assertThat(error("node: {service: a}\noutbound: {upstreams: [{service: orders}]}\n").getMessage())
                .isEqualTo("outbound.upstreams[0].port: required");
    }

    @Test
    void upstreamServiceMustBeValid() {
        assertThat(error("node: {service: a}\noutbound: {upstreams: [{service: Orders, port: 9001}]}\n").getMessage())
                .isEqualTo("outbound.upstreams[0].service: service name 'Orders' is not a DNS label (RFC 1123)");
    }

    @Test
    void upstreamServiceMustBeInServices() {
        assertThat(error("""
                node: {service: frontend, namespace: shop}
                outbound: {upstreams: [{service: orders.other, port: 9001}]}
                services: [{name: orders, endpoints: ["127.0.0.1:15006"]}]
                """).getMessage())
                .isEqualTo("outbound.upstreams[0].service: orders.other is not in services (known: orders.shop)");
    }

    @Test
    void endpointPortZeroIsRejected() {
        assertThat(error("""
                node: {service: a}
                services: [{name: orders, endpoints: ["127.0.0.1:15006", "127.0.0.1:0"]}]
                """).getMessage()).isEqualTo("services[0].endpoints[1]: 0 is not a port (1-65535)");
    }

    // --- services ------------------------------------------------------------------------------------

    @Test
    void serviceNeedsAnEndpoint() {
        assertThat(error("node: {service: a}\nservices: [{name: orders}]\n").getMessage())
                .isEqualTo("services[0].endpoints: at least one endpoint (host:port) is required");
        assertThat(error("node: {service: a}\nservices: [{name: orders, endpoints: []}]\n").getMessage())
                .isEqualTo("services[0].endpoints: at least one endpoint (host:port) is required");
    }

    @Test
    void serviceNeedsAName() {
        assertThat(error("node: {service: a}\nservices: [{endpoints: [\"h:1\"]}]\n").getMessage())
                .isEqualTo("services[0].name: required");
    }

    @Test
    void duplicateServices() {
        assertThat(error("""
                node: {service: a, namespace: shop}
                services:
                  - {name: orders, endpoints: ["127.0.0.1:15006"]}
                  - {name: billing, endpoints: ["127.0.0.1:15007"]}
                  - {name: orders, namespace: shop, endpoints: ["127.0.0.1:15008"]}
                """).getMessage()).isEqualTo("services[2]: duplicate service orders.shop (also services[0])");
    }

    @Test
    void sameNameInOtherNamespaceIsNotADuplicate() {
        assertThat(parse("""
                node: {service: a, namespace: shop}
                services:
                  - {name: orders, endpoints: ["127.0.0.1:15006"]}
                  - {name: orders, namespace: other, endpoints: ["127.0.0.1:15007"]}
                """).services()).hasSize(2);
    }

    // --- enums ---------------------------------------------------------------------------------------

    @Test
    void enumsAreCaseInsensitive() {
        BootstrapConfig c = parse("node: {service: a}\ninbound: {applicationProtocol: Auto}\nruntime: {transport: Epoll}\n");
        assertThat(c.inbound().applicationProtocol()).isEqualTo(Protocol.AUTO);
        assertThat(c.runtime().transport()).isEqualTo(TransportKind.EPOLL);
    }

    @Test
    void unknownEnumValueListsTheAllowedOnes() {
        assertThat(error("node: {service: a}\nruntime: {transport: kqueue}\n").getMessage())
                .isEqualTo("runtime.transport: unknown value 'kqueue' (allowed: auto, io_uring, epoll, nio)");
        assertThat(error("node: {service: a}\nservices: [{name: b, protocol: h3, endpoints: [\"h:1\"]}]\n").getMessage())
                .isEqualTo("services[0].protocol: unknown value 'h3' (allowed: http1, h2c, auto)");
    }

    // --- limits --------------------------------------------------------------------------------------

    @Test
    void maxHeaderSizeBounds() {
        assertThat(error("node: {service: a}\nhttp: {maxHeaderSize: 512}\n").getMessage())
                .isEqualTo("http.maxHeaderSize: 512 is out of range (1024-1048576)");
        assertThat(error("node: {service: a}\nhttp: {maxHeaderSize: 2097152}\n").getMessage())
                .isEqualTo("http.maxHeaderSize: 2097152 is out of range (1024-1048576)");
    }

    @Test
    void limitsMustBePositive() {
        assertThat(error("node: {service: a}\nhttp: {maxHeaderCount: 0}\n").getMessage())
                .startsWith("http.maxHeaderCount: 0 is out of range (1-");
        assertThat(error("node: {service: a}\nhttp: {maxConcurrentStreams: -1}\n").getMessage())
                .startsWith("http.maxConcurrentStreams: -1 is out of range (1-");
        assertThat(error("node: {service: a}\nhttp: {maxInitialLineLength: 10}\n").getMessage())
                .startsWith("http.maxInitialLineLength: 10 is out of range (256-");
        assertThat(error("node: {service: a}\naccessLog: {queueSize: 0}\n").getMessage())
                .startsWith("accessLog.queueSize: 0 is out of range (1-");
    }

    @Test
    void integerTooLargeForInt() {
        assertThat(error("node: {service: a}\nhttp: {maxHeaderCount: 99999999999}\n").getMessage())
                .isEqualTo("http.maxHeaderCount: 99999999999 is out of range (1-10000)");
    }

    @Test
    void retrySettings() {
        assertThat(error("node: {service: a}\nupstream: {retryBudgetPercent: 101}\n").getMessage())
                .isEqualTo("upstream.retryBudgetPercent: 101 is out of range (0-100)");
        assertThat(error("node: {service: a}\nupstream: {maxIdlePerEndpoint: 10001}\n").getMessage())
                .contains("upstream.maxIdlePerEndpoint");
        assertThat(error("node: {service: a}\nupstream: {maxRetries: -1}\n").getMessage())
                .startsWith("upstream.maxRetries: -1 is out of range (0-");
    }

    @Test
    void eventLoopsBounds() {
        assertThat(error("node: {service: a}\nruntime: {eventLoops: -2}\n").getMessage())
                .startsWith("runtime.eventLoops: -2 is out of range (0-");
    }

    @Test
    void accessLogPathMustNotBeEmpty() {
        assertThat(error("node: {service: a}\naccessLog: {path: \"\"}\n").getMessage())
                .startsWith("accessLog.path: must not be empty");
    }

    // --- listeners -----------------------------------------------------------------------------------

    @Test
    void twoListenersOnOneAddress() {
        assertThat(error("node: {service: a}\nadmin: {listen: 127.0.0.1:15001}\n").getMessage())
                .isEqualTo("admin.listen: 127.0.0.1:15001 is already used by outbound.listen (127.0.0.1:15001)");
    }

    @Test
    void wildcardListenerConflictsWithAnyHostOnItsPort() {
        assertThat(error("node: {service: a}\nhealth: {listen: 127.0.0.1:15006}\n").getMessage())
                .isEqualTo("health.listen: 127.0.0.1:15006 is already used by inbound.listen (0.0.0.0:15006)");
    }

    @Test
    void upstreamPortConflictsWithAListener() {
        assertThat(error("""
                node: {service: a}
                outbound: {upstreams: [{service: orders, port: 15000}]}
                services: [{name: orders, endpoints: ["127.0.0.1:15006"]}]
                """).getMessage())
                .isEqualTo("admin.listen: 127.0.0.1:15000 is already used by outbound.upstreams[0].port (127.0.0.1:15000)");
    }

    @Test
    void twoUpstreamPortsOnOnePort() {
        assertThat(error("""
                node: {service: a}
                outbound: {upstreams: [{service: orders, port: 9001}, {service: billing, port: 9001}]}
                services: [{name: orders, endpoints: ["h:1"]}, {name: billing, endpoints: ["h:2"]}]
                """).getMessage()).isEqualTo(
                "outbound.upstreams[1].port: 127.0.0.1:9001 is already used by outbound.upstreams[0].port (127.0.0.1:9001)");
    }

    @Test
    void differentHostsOnOnePortAreFine() {
        assertThat(parse("node: {service: a}\nhealth: {listen: 127.0.0.2:15001}\n").health().port()).isEqualTo(15001);
    }

    @Test
    void ephemeralPortsNeverConflict() {
        BootstrapConfig c = parse("""
                node: {service: a}
                inbound: {listen: 127.0.0.1:0}
                outbound: {listen: 127.0.0.1:0}
                health: {listen: 127.0.0.1:0}
                admin: {listen: 127.0.0.1:0}
                """);
        assertThat(c.admin().port()).isZero();
    }

    @Test
    void adminMustBeLoopback() {
        assertThat(error("node: {service: a}\nadmin: {listen: 0.0.0.0:15000}\n").getMessage())
                .isEqualTo("admin.listen: must be a loopback address (127.0.0.1, ::1 or localhost), got '0.0.0.0'");
        assertThat(error("node: {service: a}\nadmin: {listen: admin.example:15000}\n").path()).isEqualTo("admin.listen");
    }

    @Test
    void adminOnAnyLoopbackForm() {
        assertThat(parse("node: {service: a}\nadmin: {listen: localhost:15000}\n").admin().host()).isEqualTo("localhost");
        assertThat(parse("node: {service: a}\nadmin: {listen: \"[::1]:15000\"}\n").admin().host()).isEqualTo("::1");
        assertThat(parse("node: {service: a}\nadmin: {listen: 127.0.0.9:15000}\n").admin().host()).isEqualTo("127.0.0.9");
    }

    // --- node.labels ---------------------------------------------------------------------------------

    @Test
    void labelsDefaultToTheServiceAsApp() {
        assertThat(parse("node: {service: orders}\n").node().labels()).isEqualTo(Map.of("app", "orders"));
        assertThat(parse("node: {service: orders, labels: {}}\n").node().labels()).isEqualTo(Map.of("app", "orders"));
        assertThat(parse("node: {service: orders, labels:}\n").node().labels()).isEqualTo(Map.of("app", "orders"));
    }

    @Test
    void explicitAppLabelIsKeptAndOtherLabelsAdded() {
        NodeConfig node = parse("""
                node:
                  service: orders
                  labels:
                    app: orders-v2
                    tier: backend
                    version: 2
                    canary: true
                    app.kubernetes.io/part-of: shop
                    empty:
                """).node();
        assertThat(node.labels()).isEqualTo(Map.of("app", "orders-v2", "tier", "backend", "version", "2",
                "canary", "true", "app.kubernetes.io/part-of", "shop", "empty", ""));
    }

    @Test
    void labelNamesMustBeKubernetesLabelNames() {
        assertThat(error("node: {service: orders, labels: {\"bad key\": x}}\n").getMessage()).isEqualTo(
                "node.labels.bad key: 'bad key' is not a label name ([prefix/]name, name at most 63 letters, digits,"
                        + " '-', '_', '.')");
        ConfigException tooLong = error("node: {service: orders, labels: {" + "k".repeat(64) + ": x}}\n");
        assertThat(tooLong.path()).isEqualTo("node.labels." + "k".repeat(64));
        assertThat(tooLong.getMessage()).contains("is not a label name");
        assertThat(error("node: {service: orders, labels: {Example.com/team: x}}\n").path())
                .isEqualTo("node.labels.Example.com/team");
        assertThat(error("node: {service: orders, labels: {-tier: x}}\n").path()).isEqualTo("node.labels.-tier");
    }

    @Test
    void labelValuesMustBeKubernetesLabelValues() {
        assertThat(error("node: {service: orders, labels: {tier: \"back end\"}}\n").getMessage()).isEqualTo(
                "node.labels.tier: 'back end' is not a label value (at most 63 letters, digits, '-', '_', '.')");
        assertThat(error("node: {service: orders, labels: {tier: -backend}}\n").path()).isEqualTo("node.labels.tier");
        assertThat(error("node: {service: orders, labels: {tier: " + "v".repeat(64) + "}}\n").path())
                .isEqualTo("node.labels.tier");
        assertThat(parse("node: {service: orders, labels: {tier: " + "v".repeat(63) + "}}\n").node().labels())
                .containsEntry("tier", "v".repeat(63));
        assertThat(error("node: {service: orders, labels: {app: \"\\u00e9\"}}\n").path()).isEqualTo("node.labels.app");
    }

    @Test
    void labelValueMustBeAScalar() {
        assertThat(error("node: {service: orders, labels: {tier: {a: b}}}\n").getMessage())
                .isEqualTo("node.labels.tier: expected a string, got a mapping");
        assertThat(error("node: {service: orders, labels: {tier: [a]}}\n").getMessage())
                .isEqualTo("node.labels.tier: expected a string, got a list");
    }

    @Test
    void labelsMustBeAMapping() {
        assertThat(error("node: {service: orders, labels: [app, orders]}\n").getMessage())
                .isEqualTo("node.labels: expected a mapping of label names to values");
        assertThat(error("node: {service: orders, labels: app=orders}\n").getMessage())
                .isEqualTo("node.labels: expected a mapping of label names to values");
    }

    // --- policies ------------------------------------------------------------------------------------

    @Test
    void policiesDefaults() {
        BootstrapConfig c = parse("node: {service: orders}\n");
        assertThat(c.policies()).isEqualTo(new PolicyConfig(null, DefaultAction.DENY, "outrider-system",
                EscapedSlashes.REJECT, PathParameters.REJECT, Duration.ofSeconds(2)));
        assertThat(c.policies()).isEqualTo(BootstrapLoader.DEFAULT_POLICIES);
    }

    @Test
    void everyPoliciesFieldIsRead() {
        BootstrapConfig c = parse("""
                node: {service: orders}
                policies:
                  directory: /etc/outrider/policies
                  defaultAction: allow
                  rootNamespace: mesh-root
                  escapedSlashes: decode
                  reloadInterval: 500ms
                """);
        assertThat(c.policies()).isEqualTo(new PolicyConfig(Path.of("/etc/outrider/policies"), DefaultAction.ALLOW,
                "mesh-root", EscapedSlashes.DECODE, PathParameters.REJECT, Duration.ofMillis(500)));
        assertThat(parse("node: {service: orders}\npolicies: {escapedSlashes: KEEP, defaultAction: Deny}\n")
                .policies()).extracting(PolicyConfig::escapedSlashes, PolicyConfig::defaultAction)
                .containsExactly(EscapedSlashes.KEEP, DefaultAction.DENY);
    }

    @Test
    void policiesDefaultActionUnknownValue() {
        assertThat(error("node: {service: orders}\npolicies: {defaultAction: permit}\n").getMessage())
                .isEqualTo("policies.defaultAction: unknown value 'permit' (allowed: deny, allow)");
    }

    @Test
    void policiesEscapedSlashesUnknownValue() {
        assertThat(error("node: {service: orders}\npolicies: {escapedSlashes: merge}\n").getMessage())
                .isEqualTo("policies.escapedSlashes: unknown value 'merge' (allowed: reject, decode, keep)");
    }

    @Test
    void policiesRootNamespaceMustBeADnsLabel() {
        assertThat(error("node: {service: orders}\npolicies: {rootNamespace: Mesh_Root}\n").getMessage())
                .isEqualTo("policies.rootNamespace: namespace 'Mesh_Root' is not a DNS label (RFC 1123)");
    }

    @Test
    void policiesReloadIntervalBounds() {
        assertThat(error("node: {service: orders}\npolicies: {reloadInterval: 0}\n").getMessage())
                .isEqualTo("policies.reloadInterval: must be greater than 0");
        assertThat(error("node: {service: orders}\npolicies: {reloadInterval: 0s}\n").getMessage())
                .isEqualTo("policies.reloadInterval: must be greater than 0");
        assertThat(error("node: {service: orders}\npolicies: {reloadInterval: 2h}\n").getMessage())
                .isEqualTo("policies.reloadInterval: 2h is longer than the maximum 1h");
        assertThat(error("node: {service: orders}\npolicies: {reloadInterval: 5}\n").getMessage())
                .startsWith("policies.reloadInterval: 5 needs a unit");
    }

    @Test
    void policiesDirectoryMustNotBeBlank() {
        assertThat(error("node: {service: orders}\npolicies: {directory: \" \"}\n").getMessage())
                .isEqualTo("policies.directory: must not be empty");
    }

    @Test
    void policiesUnknownField() {
        assertThat(error("node: {service: orders}\npolicies: {dir: /p}\n").getMessage()).isEqualTo(
                "policies.dir: unknown field 'dir' (known: directory, defaultAction, rootNamespace, escapedSlashes,"
                        + " pathParameters, reloadInterval)");
    }

    // --- jwt -----------------------------------------------------------------------------------------

    @Test
    void jwtDefaults() {
        assertThat(parse("node: {service: orders}\n").jwt()).isEqualTo(new JwtConfig(List.of("RS256", "ES256", "EdDSA"),
                Duration.ofSeconds(60), 16384, 10_000, Duration.ofMinutes(5)));
    }

    @Test
    void everyJwtFieldIsRead() {
        BootstrapConfig c = parse("""
                node: {service: orders}
                jwt: {algorithms: [ES384], clockSkew: 0, maxLength: 256, cacheSize: 0, jwksRefresh: 1d}
                """);
        assertThat(c.jwt()).isEqualTo(new JwtConfig(List.of("ES384"), Duration.ZERO, 256, 0, Duration.ofDays(1)));
    }

    @Test
    void jwtAlgorithmsAreCaseInsensitiveAndDeduplicated() {
        assertThat(parse("node: {service: orders}\njwt: {algorithms: [es256, ES256, eddsa, \" Ps512 \", EdDSA]}\n")
                .jwt().algorithms()).containsExactly("ES256", "EdDSA", "PS512");
    }

    @Test
    void jwtHmacAndNoneAreRefused() {
        String supported = "(supported: ES256, ES384, ES512, EdDSA, PS256, PS384, PS512, RS256, RS384, RS512)";
        assertThat(error("node: {service: orders}\njwt: {algorithms: [RS256, HS256]}\n").getMessage()).isEqualTo(
                "jwt.algorithms[1]: 'HS256' is not a supported signature algorithm (HMAC and unsigned tokens are"
                        + " never accepted) " + supported);
        assertThat(error("node: {service: orders}\njwt: {algorithms: [hs512]}\n").getMessage())
                .startsWith("jwt.algorithms[0]: 'hs512' is not a supported signature algorithm (HMAC");
        assertThat(error("node: {service: orders}\njwt: {algorithms: [none]}\n").getMessage())
                .isEqualTo("jwt.algorithms[0]: 'none' is not a supported signature algorithm (HMAC and unsigned"
                        + " tokens are never accepted) " + supported);
        assertThat(error("node: {service: orders}\njwt: {algorithms: [RS1024]}\n").getMessage())
                .isEqualTo("jwt.algorithms[0]: 'RS1024' is not a supported signature algorithm " + supported);
    }

    @Test
    void jwtAlgorithmsMustNotBeEmpty() {
        assertThat(error("node: {service: orders}\njwt: {algorithms: []}\n").getMessage())
                .isEqualTo("jwt.algorithms: at least one algorithm is required");
        assertThat(error("node: {service: orders}\njwt: {algorithms: [\"\"]}\n").getMessage())
                .isEqualTo("jwt.algorithms[0]: must not be empty");
        assertThat(error("node: {service: orders}\njwt: {algorithms: RS256}\n").getMessage())
                .isEqualTo("jwt.algorithms: expected a list, got string 'RS256'");
    }

    @Test
    void jwtClockSkewAtMostTenMinutes() {
        assertThat(parse("node: {service: orders}\njwt: {clockSkew: 10m}\n").jwt().clockSkew())
                .isEqualTo(Duration.ofMinutes(10));
        assertThat(error("node: {service: orders}\njwt: {clockSkew: 11m}\n").getMessage())
                .isEqualTo("jwt.clockSkew: 11m is longer than the maximum 10m");
        assertThat(error("node: {service: orders}\njwt: {clockSkew: 601s}\n").path()).isEqualTo("jwt.clockSkew");
    }

    // --- rateLimits ----------------------------------------------------------------------------------

    @Test
    void rateLimitsDefaultsAndOverrides() {
        assertThat(parse("node: {service: orders}\n").rateLimits())
                .isEqualTo(new RateLimitConfig(10_000, Duration.ofSeconds(1)));
        assertThat(parse("node: {service: orders}\nrateLimits: {maxTracked: 100, sweepInterval: 1m}\n").rateLimits())
                .isEqualTo(new RateLimitConfig(100, Duration.ofMinutes(1)));
    }

    @Test
    void rateLimitsBadValuesAreNamed() {
        assertThat(error("node: {service: orders}\nrateLimits: {maxTracked: 99}\n").getMessage())
                .isEqualTo("rateLimits.maxTracked: 99 is out of range (100-10000000)");
        assertThat(error("node: {service: orders}\nrateLimits: {maxTracked: 10000001}\n").path())
                .isEqualTo("rateLimits.maxTracked");
        assertThat(error("node: {service: orders}\nrateLimits: {sweepInterval: 0s}\n").path())
                .isEqualTo("rateLimits.sweepInterval");
        assertThat(error("node: {service: orders}\nrateLimits: {sweepInterval: 2m}\n").getMessage())
                .isEqualTo("rateLimits.sweepInterval: 2m is longer than the maximum 1m");
        assertThat(error("node: {service: orders}\nrateLimits: {maxKeys: 5}\n").getMessage())
                .startsWith("rateLimits.maxKeys: unknown field");
    }

    @Test
    void tracingIsOffByDefaultAndItsValuesAreChecked() {
        assertThat(parse("node: {service: orders}\n").tracing()).isEqualTo(TracingConfig.OFF);
        TracingConfig t = parse("node: {service: orders}\ntracing: {enabled: true, endpoint: "
                + "'https://collector.observability:4318/v1/traces', samplingRatio: 0.25, queueSize: 100}\n").tracing();
        assertThat(t).isEqualTo(new TracingConfig(true, java.net.URI.create(
                "https://collector.observability:4318/v1/traces"), 0.25, 100));
        assertThat(error("node: {service: orders}\ntracing: {samplingRatio: 1.5}\n").getMessage())
                .startsWith("tracing.samplingRatio: must be a number from 0 to 1");
        assertThat(error("node: {service: orders}\ntracing: {samplingRatio: 'half'}\n").path())
                .isEqualTo("tracing.samplingRatio");
        assertThat(error("node: {service: orders}\ntracing: {endpoint: 'grpc://collector:4317'}\n").getMessage())
                .startsWith("tracing.endpoint: 'grpc://collector:4317' is not an http:// or https:// URL");
        assertThat(error("node: {service: orders}\ntracing: {queueSize: 0}\n").path()).isEqualTo("tracing.queueSize");
        assertThat(error("node: {service: orders}\ntracing: {ratio: 0.1}\n").getMessage())
                .startsWith("tracing.ratio: unknown field");
    }

    @Test
    void rateLimitsRedis() {
        RateLimitConfig rl = parse("node: {service: orders}\nrateLimits: {redis: {uri: 'rediss://outrider@redis:6380/2',"
                + " passwordFile: /run/secrets/redis, timeout: 20ms}}\n").rateLimits();
        assertThat(rl.redis()).isEqualTo(new RedisSettings(URI.create("rediss://outrider@redis:6380/2"),
                Path.of("/run/secrets/redis"), Duration.ofMillis(20)));
        assertThat(parse("node: {service: orders}\nrateLimits: {redis: {uri: 'redis://127.0.0.1:6379'}}\n")
                .rateLimits().redis().timeout()).as("default").isEqualTo(Duration.ofMillis(5));
        assertThat(parse("node: {service: orders}\n").rateLimits().redis()).isNull();
        assertThat(parse("node: {service: orders}\nrateLimits: {redis: {uri: 'redis://redis-0:6379', cluster: true}}\n")
                .rateLimits().redis().cluster()).isTrue();
        assertThat(error("node: {service: orders}\nrateLimits: {redis: {uri: 'redis-sentinel://s:26379/0#m', cluster:"
                + " true}}\n").getMessage()).isEqualTo("rateLimits.redis.uri: a Sentinel URI names a monitored primary,"
                + " not a cluster node");
        assertThat(parse("node: {service: orders}\nrateLimits: {redis: {uri: 'redis-sentinel://s1:26379,s2:26379/0#main'}}\n")
                .rateLimits().redis().uri().getScheme()).isEqualTo("redis-sentinel");

        assertThat(error("node: {service: orders}\nrateLimits: {redis: {uri: 'redis://:secret@redis:6379'}}\n")
                .getMessage()).isEqualTo("rateLimits.redis.uri: holds a password: put the password in a file and name"
                + " that file instead");
        assertThat(error("node: {service: orders}\nrateLimits: {redis: {uri: 'http://redis:6379'}}\n").getMessage())
                .startsWith("rateLimits.redis.uri: 'http://redis:6379' is not a Redis URI (redis://, rediss://");
        assertThat(error("node: {service: orders}\nrateLimits: {redis: {timeout: 5ms}}\n").path())
                .isEqualTo("rateLimits.redis.uri");
        assertThat(error("node: {service: orders}\nrateLimits: {redis: {uri: 'redis://r:6379', timeout: 0s}}\n")
                .path()).isEqualTo("rateLimits.redis.timeout");
        assertThat(error("node: {service: orders}\nrateLimits: {redis: {uri: 'redis://r:6379', password: x}}\n")
                .getMessage()).startsWith("rateLimits.redis.password: unknown field");
    }

    @Test
    void jwtMaxLengthRange() {
        assertThat(parse("node: {service: orders}\njwt: {maxLength: 1048576}\n").jwt().maxLength()).isEqualTo(1_048_576);
        assertThat(error("node: {service: orders}\njwt: {maxLength: 255}\n").getMessage())
                .isEqualTo("jwt.maxLength: 255 is out of range (256-1048576)");
        assertThat(error("node: {service: orders}\njwt: {maxLength: 1048577}\n").getMessage())
                .isEqualTo("jwt.maxLength: 1048577 is out of range (256-1048576)");
    }

    @Test
    void jwtCacheSizeZeroDisablesTheCache() {
        assertThat(parse("node: {service: orders}\njwt: {cacheSize: 0}\n").jwt().cacheSize()).isZero();
        assertThat(error("node: {service: orders}\njwt: {cacheSize: -1}\n").getMessage())
                .isEqualTo("jwt.cacheSize: -1 is out of range (0-10000000)");
    }

    @Test
    void jwtJwksRefreshMustBePositive() {
        assertThat(error("node: {service: orders}\njwt: {jwksRefresh: 0}\n").getMessage())
                .isEqualTo("jwt.jwksRefresh: must be greater than 0");
    }
}
