package dev.outrider.controlplane.store;

import java.util.Arrays;

import static java.util.Objects.requireNonNull;

/**
 * One resource as stored: its key, the version the store gave it, and the serialized document, which the
 * store treats as opaque bytes. Immutable: the document is copied on the way in and on the way out.
 *
 * @param resourceVersion positive; the store-wide {@link Store#revision() revision} of the write that
 *                        produced this content, so a later write of any key has a larger version
 */
public record StoredResource(ResourceKey key, long resourceVersion, byte[] document) {

    public StoredResource {
        requireNonNull(key, "key");
        requireNonNull(document, "document");
        if (resourceVersion <= 0) {
            throw new IllegalArgumentException("resourceVersion must be positive: " + resourceVersion);
        }
        document = document.clone();
    }

    /** A copy of the document; changing it changes nothing stored. */
    @Override
    public byte[] document() {
        return document.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StoredResource other
                && key.equals(other.key)
                && resourceVersion == other.resourceVersion
                && Arrays.equals(document, other.document);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * key.hashCode() + Long.hashCode(resourceVersion)) + Arrays.hashCode(document);
    }

    @Override
    public String toString() {
        return "StoredResource[" + key + "@" + resourceVersion + ", " + document.length + " bytes]";
    }
}
