package dev.outrider.controlplane.store;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ResourceKeyTest {

    @Test
    void acceptsAnyLetterKindAndDnsLabels() {
        ResourceKey key = new ResourceKey("AuthorizationPolicy", "shop", "allow-orders-1");
        assertThat(key).hasToString("AuthorizationPolicy/shop/allow-orders-1");
    }

    @Test
    void rejectsEachBadComponentNamingIt() {
        assertThatThrownBy(() -> new ResourceKey("", "shop", "a"))
                .hasMessage("kind '' is not a non-empty word of letters [A-Za-z]+");
        assertThatThrownBy(() -> new ResourceKey("Policy1", "shop", "a"))
                .hasMessage("kind 'Policy1' is not a non-empty word of letters [A-Za-z]+");
        assertThatThrownBy(() -> new ResourceKey("Policy", "..", "a"))
                .hasMessage("namespace '..' is not a DNS label (RFC 1123)");
        assertThatThrownBy(() -> new ResourceKey("Policy", "shop", "a/b"))
                .hasMessage("name 'a/b' is not a DNS label (RFC 1123)");
        assertThatThrownBy(() -> new ResourceKey("Policy", "shop", "Upper"))
                .hasMessage("name 'Upper' is not a DNS label (RFC 1123)");
        assertThatThrownBy(() -> new ResourceKey("Policy", "shop", "x".repeat(64)))
                .hasMessageContaining("is not a DNS label");
        assertThatThrownBy(() -> new ResourceKey("Policy", null, "a")).hasMessage("namespace");
    }

    @Test
    void ordersByKindNamespaceName() {
        ResourceKey a = new ResourceKey("A", "z", "z");
        ResourceKey b = new ResourceKey("B", "a", "a");
        ResourceKey b2 = new ResourceKey("B", "a", "b");
        assertThat(a).isLessThan(b);
        assertThat(b).isLessThan(b2);
    }

    @Test
    void storedResourceCopiesTheDocumentBothWays() {
        byte[] doc = "spec".getBytes(StandardCharsets.UTF_8);
        StoredResource stored = new StoredResource(new ResourceKey("Policy", "shop", "a"), 1, doc);
        doc[0] = 'X';
        stored.document()[1] = 'X';
        assertThat(stored.document()).asString(StandardCharsets.UTF_8).isEqualTo("spec");
        assertThat(stored).isEqualTo(new StoredResource(stored.key(), 1, "spec".getBytes(StandardCharsets.UTF_8)));
        assertThatThrownBy(() -> new StoredResource(stored.key(), 0, doc))
                .hasMessage("resourceVersion must be positive: 0");
    }
}
