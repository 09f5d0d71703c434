package dev.outrider.proxy.config;

import dev.outrider.core.model.SpiffeId;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** The {@code controlPlane} block of the bootstrap file: defaults and every refusal, with the field named. */
class ControlPlaneConfigLoaderTest {
    private static final String NODE = "node: {service: orders, namespace: shop}\n";
    private static final String MINIMAL = NODE + """
            controlPlane:
              address: 127.0.0.1:15010
              snapshotKeys: /etc/outrider/snapshot-keys.json
              cacheDirectory: /var/lib/outrider
            """;

    private static String error(String yaml) {
        try {
            BootstrapLoader.parse(yaml, "test.yaml");
        } catch (ConfigException e) {
            return e.getMessage();
        }
        throw new AssertionError("expected a ConfigException for:\n" + yaml);
    }

    @Test
    void absentMeansFilesOnly() {
        BootstrapConfig c = BootstrapLoader.parse(NODE, "test.yaml");
        assertThat(c.controlPlane()).isNull();
        assertThat(c.fromControlPlane()).isFalse();
    }

    @Test
    void minimalBlockGetsDefaults() {
        ControlPlaneLinkConfig cp = BootstrapLoader.parse(MINIMAL, "test.yaml").controlPlane();
        assertThat(cp.addresses()).containsExactly(new HostPort("127.0.0.1", 15010));
        assertThat(cp.identity()).isEqualTo(SpiffeId.parse("spiffe://cluster.local/ns/outrider-system/sa/control-plane"));
        assertThat(cp.snapshotKeys()).isEqualTo(Path.of("/etc/outrider/snapshot-keys.json"));
        assertThat(cp.cacheDirectory()).isEqualTo(Path.of("/var/lib/outrider"));
        assertThat(cp.joinToken()).isNull();
        assertThat(cp.serviceAccountToken()).isNull();
        assertThat(cp.advertise()).isNull();
        assertThat(cp.instance()).isNull();
        assertThat(cp.bootstrapTimeout()).isEqualTo(Duration.ofSeconds(60));
        assertThat(cp.watchTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(cp.maxSnapshotAge()).isEqualTo(Duration.ofDays(7));
        assertThat(cp.urls()).containsExactly(java.net.URI.create("https://127.0.0.1:15010"));
    }

    @Test
    void everyFieldIsRead() {
        ControlPlaneLinkConfig cp = BootstrapLoader.parse("node: {service: orders, namespace: shop, trustDomain: example.org}\n"
                + """
                controlPlane:
                  address: "[::1]:15010"
                  snapshotKeys: keys.json
                  cacheDirectory: cache
                  joinToken: token
                  advertise: 10.0.0.5:15006
                  instance: orders-7f9c
                  bootstrapTimeout: 5s
                  watchTimeout: 10s
                  maxSnapshotAge: 30d
                """, "test.yaml").controlPlane();
        assertThat(cp.identity().toString()).isEqualTo("spiffe://example.org/ns/outrider-system/sa/control-plane");
        assertThat(cp.urls()).containsExactly(java.net.URI.create("https://[::1]:15010"));
        assertThat(cp.joinToken()).isEqualTo(Path.of("token"));
        assertThat(cp.advertise()).isEqualTo(new HostPort("10.0.0.5", 15006));
        assertThat(cp.instance()).isEqualTo("orders-7f9c");
        assertThat(cp.bootstrapTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(cp.watchTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(cp.maxSnapshotAge()).isEqualTo(Duration.ofDays(30));
    }

    @Test
    void theMaximumSnapshotAgeIsBounded() {
        assertThat(BootstrapLoader.parse(MINIMAL + "  maxSnapshotAge: 2d\n", "test.yaml").controlPlane()
                .maxSnapshotAge()).isEqualTo(Duration.ofDays(2));
        assertThat(error(MINIMAL + "  maxSnapshotAge: 1d\n")).isEqualTo("controlPlane.maxSnapshotAge: 1d is shorter"
                + " than the minimum 2d (the control plane re-signs snapshots once a day)");
        assertThat(error(MINIMAL + "  maxSnapshotAge: 400d\n"))
                .isEqualTo("controlPlane.maxSnapshotAge: 400d is longer than the maximum 365d");
        assertThat(error(MINIMAL + "  maxSnapshotAge: 0\n")).isEqualTo("controlPlane.maxSnapshotAge: must be greater than 0");
        assertThat(error(MINIMAL + "  maxSnapshotAge: soon\n")).startsWith("controlPlane.maxSnapshotAge: ");
    }

    @Test
    void aServiceAccountTokenFileInsteadOfAJoinToken() {
        ControlPlaneLinkConfig cp = BootstrapLoader.parse(MINIMAL + "  serviceAccountToken: /var/run/secrets/outrider/token\n",
                "test.yaml").controlPlane();

        assertThat(cp.serviceAccountToken()).isEqualTo(Path.of("/var/run/secrets/outrider/token"));
        assertThat(cp.joinToken()).isNull();
    }

    @Test
    void joinTokenAndServiceAccountTokenAreExclusive() {
        assertThat(error(MINIMAL + "  joinToken: /var/run/outrider/join-token\n"
                + "  serviceAccountToken: /var/run/secrets/outrider/token\n"))
                .isEqualTo("controlPlane.serviceAccountToken: set either joinToken or serviceAccountToken, not both"
                        + " (a sidecar bootstraps with one credential)");
        assertThat(error(MINIMAL + "  serviceAccountToken: \"  \"\n"))
                .isEqualTo("controlPlane.serviceAccountToken: must not be empty");
        assertThat(error(MINIMAL + "  serviceAccountToken: [a, b]\n")).startsWith("controlPlane.serviceAccountToken: ");
    }

    @Test
    void severalAddressesOnePerReplica() {
        String block = NODE + "controlPlane: {snapshotKeys: k, cacheDirectory: c, address: %s}\n";
        ControlPlaneLinkConfig cp = BootstrapLoader.parse(block.formatted(
                "[cp-0.cp:15010, cp-1.cp:15010, \"[::1]:15010\"]"), "test.yaml").controlPlane();
        assertThat(cp.addresses()).containsExactly(new HostPort("cp-0.cp", 15010), new HostPort("cp-1.cp", 15010),
                new HostPort("::1", 15010));
        assertThat(cp.urls()).extracting(Object::toString)
                .containsExactly("https://cp-0.cp:15010", "https://cp-1.cp:15010", "https://[::1]:15010");

        assertThat(error(block.formatted("[]"))).isEqualTo("controlPlane.address: the list is empty (give at least"
                + " one host:port)");
        assertThat(error(block.formatted("[cp-0:15010, cp-0:15010]")))
                .isEqualTo("controlPlane.address[1]: cp-0:15010 is listed twice");
        assertThat(error(block.formatted("[cp-0:15010, nowhere]"))).startsWith("controlPlane.address[1]: ");
        assertThat(error(block.formatted("[cp-0:15010, 7]"))).startsWith("controlPlane.address[1]: expected host:port");
    }

    @Test
    void refusals() {
        assertThat(error(NODE + "controlPlane: {snapshotKeys: k, cacheDirectory: c}\n"))
                .startsWith("controlPlane.address: required");
        assertThat(error(NODE + "controlPlane: {address: 127.0.0.1:15010, cacheDirectory: c}\n"))
                .startsWith("controlPlane.snapshotKeys: required");
        assertThat(error(NODE + "controlPlane: {address: 127.0.0.1:15010, snapshotKeys: k}\n"))
                .startsWith("controlPlane.cacheDirectory: required");
        assertThat(error(MINIMAL + "  identity: https://cp\n")).startsWith("controlPlane.identity: ");
        assertThat(error(MINIMAL + "  instance: Orders_1\n"))
                .isEqualTo("controlPlane.instance: 'Orders_1' is not a DNS label (RFC 1123: lower-case letters, "
                        + "digits, '-')");
        assertThat(error(MINIMAL + "  watchTimeout: 2m\n")).startsWith("controlPlane.watchTimeout: ");
        assertThat(error(MINIMAL + "  address: nowhere\n")).startsWith("controlPlane.address: ");
        assertThat(error(MINIMAL + "  colour: blue\n")).startsWith("controlPlane.colour: ");
    }

    @Test
    void aPolicyDirectoryAndAControlPlaneAreRefusedTogether() {
        assertThat(error(MINIMAL + "policies: {directory: examples/policies}\n"))
                .startsWith("policies.directory: not used when controlPlane is set");
    }

    @Test
    void controlPlaneNeedsMtls() {
        assertThat(error(MINIMAL + "tls: {mode: disabled}\n")).startsWith("tls.mode: controlPlane needs mTLS");
    }

    @Test
    void upstreamPortsMayNameServicesTheControlPlaneSupplies() {
        BootstrapConfig c = BootstrapLoader.parse(MINIMAL + "outbound: {upstreams: [{port: 15102, service: payments}]}\n",
                "test.yaml");
        assertThat(c.outbound().upstreams()).hasSize(1);
        assertThat(error(NODE + "outbound: {upstreams: [{port: 15102, service: payments}]}\n"))
                .contains("payments.shop is not in services");
    }
}
