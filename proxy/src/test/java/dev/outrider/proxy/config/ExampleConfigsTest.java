package dev.outrider.proxy.config;

import dev.outrider.core.model.ServiceName;
import dev.outrider.core.model.SpiffeId;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The files under examples/ are what README's quick start runs; they must keep loading. */
class ExampleConfigsTest {

    private static Path example(String name) {
        // Surefire runs in proxy/; the examples are at the repository root.
        Path p = Path.of("..", "examples", name);
        assertThat(p).as("example file").exists();
        return p;
    }

    @Test
    void sidecarA() {
        BootstrapConfig c = BootstrapLoader.load(example("sidecar-a.yaml"));
        assertThat(c.node()).isEqualTo(new NodeConfig("frontend", "shop", "frontend", "cluster.local", Map.of("app", "frontend")));
        assertThat(c.outbound().listen()).isEqualTo(new HostPort("127.0.0.1", 15001));
        assertThat(c.outbound().upstreams())
                .containsExactly(new UpstreamPortConfig(new ServiceName("orders", "shop"), 9001));
        assertThat(c.services()).containsExactly(new ServiceConfig(new ServiceName("orders", "shop"), Protocol.AUTO,
                List.of(new HostPort("127.0.0.1", 15006)),
                List.of(SpiffeId.parse("spiffe://cluster.local/ns/shop/sa/orders"))));
        assertThat(c.tls().enabled()).isTrue();
        assertThat(c.tls().certificate()).isEqualTo(Path.of("certs/out/shop/frontend/cert.pem"));
        assertThat(c.inbound().listen()).isEqualTo(new HostPort("127.0.0.1", 15106));
        assertThat(c.inbound().application()).isEqualTo(new HostPort("127.0.0.1", 8081));
        assertThat(c.health()).isEqualTo(new HostPort("0.0.0.0", 15121));
        assertThat(c.admin()).isEqualTo(new HostPort("127.0.0.1", 15100));
    }

    @Test
    void sidecarB() {
        BootstrapConfig c = BootstrapLoader.load(example("sidecar-b.yaml"));
        assertThat(c.node()).isEqualTo(new NodeConfig("orders", "shop", "orders", "cluster.local", Map.of("app", "orders")));
        assertThat(c.inbound()).isEqualTo(new InboundConfig(new HostPort("0.0.0.0", 15006),
                new HostPort("127.0.0.1", 8080), Protocol.HTTP1, 4096, 1024));
        assertThat(c.outbound().listen()).isEqualTo(new HostPort("127.0.0.1", 15101));
        assertThat(c.health()).isEqualTo(new HostPort("0.0.0.0", 15021));
        assertThat(c.admin()).isEqualTo(new HostPort("127.0.0.1", 15000));
    }

    /** The pair configured by the control plane (README "The control plane"). */
    @Test
    void meshSidecarsTakeTheirConfigurationFromTheControlPlane() {
        BootstrapConfig orders = BootstrapLoader.load(example("mesh/sidecar-orders.yaml"));
        BootstrapConfig frontend = BootstrapLoader.load(example("mesh/sidecar-frontend.yaml"));
        for (BootstrapConfig c : List.of(orders, frontend)) {
            assertThat(c.fromControlPlane()).isTrue();
            assertThat(c.controlPlane().addresses()).containsExactly(new HostPort("127.0.0.1", 15010));
            assertThat(c.policies().directory()).isNull();
        }
        assertThat(frontend.outbound().upstreams())
                .containsExactly(new UpstreamPortConfig(new ServiceName("orders", "shop"), 9001));
        assertThat(ports(orders)).doesNotContainAnyElementsOf(ports(frontend));
    }

    /** Both run on one machine in the quick start: no listener of one may collide with the other's. */
    @Test
    void thePairCanShareOneHost() {
        BootstrapConfig a = BootstrapLoader.load(example("sidecar-a.yaml"));
        BootstrapConfig b = BootstrapLoader.load(example("sidecar-b.yaml"));
        List<Integer> portsA = ports(a);
        List<Integer> portsB = ports(b);
        assertThat(portsA).doesNotContainAnyElementsOf(portsB);
    }

    private static List<Integer> ports(BootstrapConfig c) {
        List<Integer> ports = new ArrayList<>(List.of(c.inbound().listen().port(),
                c.outbound().listen().port(), c.health().port(), c.admin().port()));
        c.outbound().upstreams().forEach(u -> ports.add(u.port()));
        return ports;
    }
}
