package dev.outrider.controlplane.model;

import dev.outrider.controlplane.store.ResourceKey;
import dev.outrider.controlplane.store.Store;

import java.util.Arrays;

import static java.util.Objects.requireNonNull;

/**
 * A document the API accepted ({@link ResourceDocuments#parse}), ready for {@link Store#put}.
 *
 * @param key             where it goes: its kind, namespace ({@code mesh} for the MeshConfig) and name
 * @param json            the normalized document to store: JSON, {@code metadata.name} (and
 *                        {@code metadata.namespace} for namespaced kinds) filled in, without
 *                        {@code metadata.resourceVersion}; copied on the way in and out
 * @param expectedVersion {@code metadata.resourceVersion} of the body, or {@link Store#ANY_VERSION} when absent
 */
public record ValidatedResource(ResourceKey key, byte[] json, long expectedVersion) {
    public ValidatedResource {
        requireNonNull(key, "key");
        json = requireNonNull(json, "json").clone();
        if (expectedVersion <= 0 && expectedVersion != Store.ANY_VERSION) {
            throw new IllegalArgumentException("expectedVersion must be positive or ANY_VERSION: " + expectedVersion);
        }
    }

    @Override
    public byte[] json() {
        return json.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ValidatedResource other && key.equals(other.key) && Arrays.equals(json, other.json)
                && expectedVersion == other.expectedVersion;
    }

    @Override
    public int hashCode() {
        return 31 * (31 * key.hashCode() + Arrays.hashCode(json)) + Long.hashCode(expectedVersion);
    }

    @Override
    public String toString() {
        return "ValidatedResource[" + key + ", " + json.length + " bytes, expectedVersion=" + expectedVersion + "]";
    }
}
