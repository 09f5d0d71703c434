package dev.outrider.core.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SpiffeIdTest {
    @Test
    void parsesKubernetesForm() {
        SpiffeId id = SpiffeId.parse("spiffe://cluster.local/ns/shop/sa/orders");
        assertThat(id.trustDomain()).isEqualTo("cluster.local");
        assertThat(id.path()).isEqualTo("/ns/shop/sa/orders");
        assertThat(id.namespace()).isEqualTo("shop");
        assertThat(id.serviceAccount()).isEqualTo("orders");
        assertThat(id).hasToString("spiffe://cluster.local/ns/shop/sa/orders")
                .isEqualTo(SpiffeId.ofServiceAccount("cluster.local", "shop", "orders"));
    }

    @Test
    void otherPathsHaveNoNamespace() {
        SpiffeId id = SpiffeId.parse("spiffe://example.org/workload/web");
        assertThat(id.namespace()).isNull();
        assertThat(id.serviceAccount()).isNull();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "https://cluster.local/ns/a/sa/b | does not start with spiffe://",
            "spiffe://cluster.local | has no path",
            "spiffe://Cluster.local/ns/a | trust domain",
            "spiffe://cluster.local:8443/ns/a | trust domain",
            "spiffe://user@cluster.local/ns/a | trust domain",
            "spiffe://cluster.local/ns//a | empty, '.' or '..' segment",
            "spiffe://cluster.local/ns/../a | empty, '.' or '..' segment",
            "spiffe://cluster.local/ns/a/ | ends with '/'",
            "spiffe://cluster.local/ns/a?x=1 | has '?'",
            "spiffe://cluster.local/ns/a#f | has '#'",
            "spiffe:///ns/a | empty trust domain",
    })
    void rejectsWhatTheSpecificationRejects(String text, String message) {
        assertThatThrownBy(() -> SpiffeId.parse(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message);
    }

    @Test
    void lenientParsingLowerCasesSchemeAndTrustDomainOnly() {
        assertThat(SpiffeId.parseLenient("SPIFFE://Cluster.Local/ns/Shop/sa/x"))
                .hasToString("spiffe://cluster.local/ns/Shop/sa/x");
    }
}
