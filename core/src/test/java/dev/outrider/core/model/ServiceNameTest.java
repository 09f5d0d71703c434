package dev.outrider.core.model;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ServiceNameTest {
    @ParameterizedTest
    @CsvSource({
            "orders, orders.shop",
            "orders:8080, orders.shop",
            "ORDERS, orders.shop",
            "orders.billing, orders.billing",
            "orders.billing:80, orders.billing",
            "orders.billing.svc, orders.billing",
            "orders.billing.svc.cluster.local, orders.billing",
            "orders.billing.svc.cluster.local., orders.billing",
            "orders.billing.svc.cluster.local:443, orders.billing",
    })
    void kubernetesHostFormsNameTheService(String host, String expected) {
        assertThat(ServiceName.fromHost(host, "shop", "cluster.local")).hasToString(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "[::1]:8080", "a.b.c", "orders.shop.svc.other.domain", "-orders", "or_ders",
            "127.0.0.1:8080", "orders..shop"})
    void otherHostsAreNoService(String host) {
        assertThat(ServiceName.fromHost(host, "shop", "cluster.local")).isNull();
    }

    @Test
    void nullHostIsNoService() {
        assertThat(ServiceName.fromHost(null, "shop", "cluster.local")).isNull();
    }

    @Test
    void namesAreDnsLabels() {
        assertThatThrownBy(() -> new ServiceName("Orders", "shop"))
                .hasMessageContaining("service name 'Orders' is not a DNS label");
        assertThatThrownBy(() -> new ServiceName("orders", "x".repeat(64)))
                .hasMessageContaining("namespace");
        assertThat(new ServiceName("a-1", "b")).hasToString("a-1.b");
    }

    @Test
    void parseTakesNameOrNameDotNamespace() {
        assertThat(ServiceName.parse("orders", "shop")).isEqualTo(new ServiceName("orders", "shop"));
        assertThat(ServiceName.parse("orders.billing", "shop")).isEqualTo(new ServiceName("orders", "billing"));
        assertThatThrownBy(() -> ServiceName.parse("orders.a.b", "shop")).isInstanceOf(IllegalArgumentException.class);
    }
}
