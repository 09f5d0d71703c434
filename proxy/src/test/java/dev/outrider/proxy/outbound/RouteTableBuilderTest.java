package dev.outrider.proxy.outbound;

import dev.outrider.core.model.ServiceName;
import dev.outrider.core.model.ServiceProtocol;
import dev.outrider.core.model.SpiffeId;
import dev.outrider.core.snapshot.SnapshotEndpoint;
import dev.outrider.proxy.config.BootstrapConfig;
import dev.outrider.proxy.config.BootstrapLoader;
import dev.outrider.proxy.config.Protocol;
import dev.outrider.proxy.forward.NoRoute;
import dev.outrider.proxy.forward.Route;
import dev.outrider.proxy.forward.RouteResult;
import dev.outrider.proxy.upstream.Endpoint;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Routing tables from bootstrap services and control-plane endpoints (plaintext clusters: tls null). */
class RouteTableBuilderTest {
    private static final SpiffeId ORDERS = SpiffeId.parse("spiffe://cluster.local/ns/shop/sa/orders");
    private static final SpiffeId ORDERS_V2 = SpiffeId.parse("spiffe://cluster.local/ns/shop/sa/orders-v2");
    private static final SpiffeId BILLING = SpiffeId.parse("spiffe://cluster.local/ns/money/sa/billing");
    private final EmbeddedChannel connection = new EmbeddedChannel();

    @AfterEach
    void close() {
        connection.finishAndReleaseAll();
    }

    private static BootstrapConfig config(String extra) {
        return BootstrapLoader.parse("node: {service: web, namespace: shop}\ntls: {mode: disabled}\n" + extra,
                "test.yaml");
    }

    private RouteResult resolve(OutboundRouter router, String host) {
        HttpRequest r = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/");
        r.headers().set("Host", host);
        return router.resolve(r, connection);
    }

    private static SnapshotEndpoint ep(String service, String ns, String address, SpiffeId id) {
        return new SnapshotEndpoint(new ServiceName(service, ns), address, id);
    }

    @Test
    void snapshotEndpointsBecomeRoutesAndReplaceBootstrapOnes() {
        RouteTableBuilder b = new RouteTableBuilder(config("""
                services:
                  - {name: orders, endpoints: ["127.0.0.1:7001"]}
                  - {name: stock, endpoints: ["127.0.0.1:7002"]}
                """), null);
        OutboundRouter first = b.build(List.of());
        assertThat(((Route) resolve(first, "orders")).cluster().endpoints()).extracting(Endpoint::toString)
                .containsExactly("127.0.0.1:7001");

        OutboundRouter next = b.build(List.of(ep("orders", "shop", "127.0.0.1:8001", ORDERS),
                ep("orders", "shop", "127.0.0.1:8002", ORDERS), ep("billing", "money", "127.0.0.1:8003", BILLING)));
        assertThat(((Route) resolve(next, "orders")).cluster().endpoints()).extracting(Endpoint::toString)
                .containsExactly("127.0.0.1:8001", "127.0.0.1:8002");
        assertThat(((Route) resolve(next, "billing.money")).cluster().name()).isEqualTo("billing.money");
        assertThat(((Route) resolve(next, "stock")).cluster().endpoints()).extracting(Endpoint::toString)
                .containsExactly("127.0.0.1:7002");
        assertThat(resolve(next, "payments")).isInstanceOf(NoRoute.class);
    }

    private static SnapshotEndpoint ep(String service, String address, ServiceProtocol protocol) {
        return new SnapshotEndpoint(new ServiceName(service, "shop"), address, ORDERS, protocol);
    }

    @Test
    void aDiscoveredServiceIsSpokenToInTheProtocolItsServiceDeclares() {
        RouteTableBuilder b = new RouteTableBuilder(config(""), null);
        OutboundRouter r = b.build(List.of(ep("orders", "127.0.0.1:8001", ServiceProtocol.HTTP2),
                ep("orders", "127.0.0.1:8002", ServiceProtocol.HTTP2), ep("stock", "127.0.0.1:8003", ServiceProtocol.HTTP1),
                ep("billing", "127.0.0.1:8004", ServiceProtocol.AUTO)));

        assertThat(((Route) resolve(r, "orders")).cluster().protocol()).isEqualTo(Protocol.H2C);
        assertThat(((Route) resolve(r, "stock")).cluster().protocol()).isEqualTo(Protocol.HTTP1);
        assertThat(((Route) resolve(r, "billing")).cluster().protocol()).isEqualTo(Protocol.AUTO);

        // The service changes its protocol: the next table follows it.
        OutboundRouter next = b.build(List.of(ep("orders", "127.0.0.1:8001", ServiceProtocol.HTTP1)));
        assertThat(((Route) resolve(next, "orders")).cluster().protocol()).isEqualTo(Protocol.HTTP1);
    }

    @Test
    void aBootstrapServiceOfTheSameNameKeepsItsOwnProtocol() {
        RouteTableBuilder b = new RouteTableBuilder(config("""
                services:
                  - {name: orders, protocol: http1, endpoints: ["127.0.0.1:7001"]}
                  - {name: stock, endpoints: ["127.0.0.1:7002"]}
                """), null);
        OutboundRouter r = b.build(List.of(ep("orders", "127.0.0.1:8001", ServiceProtocol.HTTP2),
                ep("stock", "127.0.0.1:8002", ServiceProtocol.HTTP2)));

        Route orders = (Route) resolve(r, "orders");
        assertThat(orders.cluster().endpoints()).extracting(Endpoint::toString).containsExactly("127.0.0.1:8001");
        assertThat(orders.cluster().protocol()).isEqualTo(Protocol.HTTP1);
        assertThat(((Route) resolve(r, "stock")).cluster().protocol()).isEqualTo(Protocol.AUTO); // its default
    }

    @Test
    void unchangedInstancesKeepTheirEndpointAndAChangedIdentityGetsANewOne() {
        RouteTableBuilder b = new RouteTableBuilder(config(""), null);
        Endpoint before = ((Route) resolve(b.build(List.of(ep("orders", "shop", "127.0.0.1:8001", ORDERS))),
                "orders")).cluster().endpoints().getFirst();
        OutboundRouter again = b.build(List.of(ep("orders", "shop", "127.0.0.1:8001", ORDERS),
                ep("orders", "shop", "127.0.0.1:8002", ORDERS)));
        assertThat(((Route) resolve(again, "orders")).cluster().endpoints().getFirst()).isSameAs(before);

        OutboundRouter changed = b.build(List.of(ep("orders", "shop", "127.0.0.1:8001", ORDERS_V2)));
        assertThat(((Route) resolve(changed, "orders")).cluster().endpoints().getFirst()).isNotSameAs(before);
    }

    @Test
    void aServiceWhoseInstancesAllLeftHasNoRoute() {
        RouteTableBuilder b = new RouteTableBuilder(config(""), null);
        b.build(List.of(ep("orders", "shop", "127.0.0.1:8001", ORDERS)));
        RouteResult r = resolve(b.build(List.of()), "orders");
        assertThat(r).isInstanceOf(NoRoute.class);
        assertThat(((NoRoute) r).message()).isEqualTo("no route to service 'orders.shop'");
    }

    @Test
    void upstreamPortsFollowTheSnapshot() {
        BootstrapConfig c = BootstrapLoader.parse("""
                node: {service: web, namespace: shop}
                controlPlane: {address: 127.0.0.1:15010, snapshotKeys: k.json, cacheDirectory: cache}
                outbound: {upstreams: [{port: 15102, service: orders}]}
                """, "test.yaml");
        RouteTableBuilder b = new RouteTableBuilder(c, null);
        assertThat(b.build(List.of())).isNotNull();
        OutboundRouter r = b.build(List.of(ep("orders", "shop", "127.0.0.1:8001", ORDERS)));
        assertThat(resolve(r, "orders")).isInstanceOf(Route.class);
    }

    @Test
    void anUnresolvableBootstrapEndpointFailsTheFirstTable() {
        RouteTableBuilder b = new RouteTableBuilder(config("services: [{name: orders, endpoints: [\"no-such-host.invalid:80\"]}]\n"),
                null);
        assertThatThrownBy(() -> b.build(List.of())).hasMessage("cannot resolve endpoint host 'no-such-host.invalid'");
    }
}
