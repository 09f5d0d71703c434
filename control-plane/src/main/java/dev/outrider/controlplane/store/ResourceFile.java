package dev.outrider.controlplane.store;

/**
 * The JSON content of one resource file, {@code <root>/<kind>/<namespace>/<name>.json}. The key is repeated
 * inside so a file copied to the wrong place is detected; the document is opaque bytes (base64 in JSON).
 */
record ResourceFile(int format, String kind, String namespace, String name, long resourceVersion,
                    byte[] document) {
    static final int FORMAT = 1;

    static ResourceFile of(StoredResource resource) {
        ResourceKey key = resource.key();
        return new ResourceFile(FORMAT, key.kind(), key.namespace(), key.name(), resource.resourceVersion(),
                resource.document());
    }
}
