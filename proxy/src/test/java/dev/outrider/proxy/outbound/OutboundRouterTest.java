package dev.outrider.proxy.outbound;

import dev.outrider.core.model.ServiceName;
import dev.outrider.proxy.config.Protocol;
import dev.outrider.proxy.forward.NoRoute;
import dev.outrider.proxy.forward.Route;
import dev.outrider.proxy.upstream.Cluster;
import dev.outrider.proxy.upstream.Endpoint;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class OutboundRouterTest {
    private final Route orders = route("orders.shop");
    private final Route billing = route("billing.money");
    private final OutboundRouter router = new OutboundRouter(
            Map.of(new ServiceName("orders", "shop"), orders, new ServiceName("billing", "money"), billing),
            Map.of(9001, billing), "shop");
    private final EmbeddedChannel connection = new EmbeddedChannel();

    @AfterEach
    void close() {
        connection.finishAndReleaseAll();
    }

    private static Route route(String name) {
        return new Route(new Cluster(name, Protocol.AUTO, List.of(new Endpoint(new InetSocketAddress("127.0.0.1", 1)))));
    }

    private static HttpRequest request(String host) {
        HttpRequest r = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/x");
        if (host != null) {
            r.headers().set("Host", host);
        }
        return r;
    }

    @Test
    void routesByHostInEveryForm() {
        assertThat(router.resolve(request("orders"), connection)).isSameAs(orders);
        assertThat(router.resolve(request("orders.shop:8080"), connection)).isSameAs(orders);
        assertThat(router.resolve(request("billing.money.svc.cluster.local"), connection)).isSameAs(billing);
    }

    @Test
    void unknownServiceIs404NamingIt() {
        var r = router.resolve(request("payments"), connection);
        assertThat(r).isInstanceOf(NoRoute.class);
        assertThat(((NoRoute) r).status().code()).isEqualTo(404);
        assertThat(((NoRoute) r).message()).isEqualTo("no route to service 'payments.shop'");
        var odd = (NoRoute) router.resolve(request("not_a.valid.host.name"), connection);
        assertThat(odd.message()).contains("not_a.valid.host.name");
    }

    @Test
    void missingHostIs400() {
        var r = (NoRoute) router.resolve(request(null), connection);
        assertThat(r.status().code()).isEqualTo(400);
        assertThat(r.message()).contains("Host");
    }
}
