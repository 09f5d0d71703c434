package dev.outrider.controlplane.registry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.outrider.core.model.ServiceName;
import dev.outrider.core.model.SpiffeId;
import dev.outrider.controlplane.store.StoredResource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashSet;
import java.util.Set;

/**
 * The stored form of a {@link Registration}:
 * {@code {"service":"orders","instance":"orders-1","address":"10.0.0.5:15006","identity":"spiffe://..."}},
 * under the key {@code Registration/<namespace of the service>/<instance>}. Stateless.
 */
final class RegistrationJson {
    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();
    private static final Set<String> FIELDS = Set.of("service", "instance", "address", "identity");

    private RegistrationJson() {
    }

    static byte[] write(Registration r) {
        try {
            return JSON.writeValueAsBytes(JSON.createObjectNode()
                    .put("service", r.service().name())
                    .put("instance", r.instance())
                    .put("address", r.address())
                    .put("identity", r.identity().toString()));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e); // a tree of strings always serializes
        }
    }

    /** @throws IllegalStateException naming the key when the stored document is not a registration of that key */
    static Registration read(StoredResource stored) {
        try {
            JsonNode node = JSON.readTree(stored.document());
            if (node == null || !node.isObject() || !fieldNames(node).equals(FIELDS)) {
                throw new IllegalArgumentException("expected exactly the fields " + FIELDS);
            }
            Registration r = new Registration(
                    new ServiceName(text(node, "service"), stored.key().namespace()), text(node, "instance"),
                    text(node, "address"), SpiffeId.parse(text(node, "identity")));
            if (!r.instance().equals(stored.key().name())) {
                throw new IllegalArgumentException("instance '" + r.instance() + "' is not the key's name");
            }
            return r;
        } catch (IllegalArgumentException | JsonProcessingException e) {
            throw new IllegalStateException("stored " + stored.key() + " is not a valid registration: "
                    + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // reading a byte array does no I/O
        }
    }

    private static Set<String> fieldNames(JsonNode node) {
        Set<String> names = new HashSet<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || !value.isTextual()) {
            throw new IllegalArgumentException(field + " is not a string");
        }
        return value.textValue();
    }
}
